"""WSGI entry point: ``gunicorn wsgi:app``."""

from ancillary import create_app
from ancillary.serving import freeze_start_up

app = create_app()
freeze_start_up()  # the app lives as long as the worker, as under `ancillary serve`
