"""Custody of paper dossiers: scans, the hash-chained event log, and its verification."""
