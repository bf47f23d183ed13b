"""Which language messages are written in.

Messages to parties, clerks and officers (SMS, e-mail) are in the court's language
whatever the locale of the person whose request caused them; outside a request (sweeps,
the CLI, benchmarks) there is no Accept-Language to ask, so the court's language is used.
"""

from __future__ import annotations

from contextlib import nullcontext

from flask import current_app, has_request_context
from flask_babel import force_locale


def court_language() -> str:
    """The court's default locale (zh unless configured otherwise)."""
    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")


def court_locale():
    """Write in the court's default locale."""
    return force_locale(court_language())


def reader_locale():
    """The reader's locale in a request; the court's outside one."""
    return nullcontext() if has_request_context() else court_locale()
