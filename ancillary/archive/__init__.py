"""Archiving closed dossiers within 30 days, and working off the backlog."""
