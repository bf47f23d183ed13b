"""Service of process: the layered ladder, evidence, carrier events, proof of service."""
