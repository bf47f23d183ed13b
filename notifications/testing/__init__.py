"""Local stand-ins for the outside services, for tests and benchmarks.

Import the modules directly: ``smtp_standin`` needs ``aiosmtpd``, a test dependency.
"""
