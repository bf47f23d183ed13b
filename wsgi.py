"""WSGI entry point: ``gunicorn wsgi:app``."""

from ancillary import create_app

app = create_app()
