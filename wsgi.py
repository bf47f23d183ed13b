"""WSGI entry point: ``gunicorn wsgi:app``."""

import gc

from ancillary import create_app

app = create_app()
# The app lives as long as the worker: out of its full collections, as `ancillary serve` does
# before forking (ancillary.serving._pre_fork).
gc.collect()
gc.freeze()
