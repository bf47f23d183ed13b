"""Ancillary: the court auxiliary-services backend."""

from __future__ import annotations

import logging

from flask import Flask, has_request_context, request

from ancillary.config import Settings
from ancillary.pages import session_locale

BLUEPRINTS = (
    "ancillary.auth.views",
    "ancillary.cases.views",
    "ancillary.queues.views",
    "ancillary.scheduling.views",
    "ancillary.audit.views",
    "ancillary.reports.views",
    "ancillary.custody.views",
    "ancillary.archive.views",
    "ancillary.service.views",
    "ancillary.reminders.views",
)
# Server-rendered pages: each module's plain Flask blueprint ``bp`` (see ancillary/pages.py).
PAGES = (
    "ancillary.auth.pages",
    "ancillary.queues.pages",
    "ancillary.cases.pages",
    "ancillary.service.pages",
    "ancillary.archive.pages",
    "ancillary.reminders.pages",
    "ancillary.custody.pages",
    "ancillary.reports.pages",
    "ancillary.scheduling.pages",
)
LOCALES = ("zh", "en")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; nothing is built at import time."""
    import importlib

    import ancillary.models  # noqa: F401  (every table on the metadata)

    from ancillary import cli, openapi, pages, web
    from ancillary.auth.sessions import COOKIE_CONFIG
    from ancillary.extensions import api, babel, db, migrate

    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.testing,
        JSON_SORT_KEYS=False,
        API_TITLE="Ancillary",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {"description": "法院辅助事务外包平台 API — court auxiliary-services API. "
                                    "Send `Authorization: Bearer <token>` from POST /api/v1/auth/tokens."},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_DEFAULT_TIMEZONE=settings.timezone.key,
        BABEL_TRANSLATION_DIRECTORIES="translations",
        **COOKIE_CONFIG,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app.json.ensure_ascii = False  # Chinese text travels as UTF-8, not \u escapes
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), compare_type=True, render_as_batch=True)
    babel.init_app(app, locale_selector=_locale)
    api.init_app(app)
    web.init_app(app)
    pages.init_app(app)
    openapi.init_docs_assets(app)
    for module in BLUEPRINTS:
        api.register_blueprint(importlib.import_module(module).blp)
    for module in PAGES:
        app.register_blueprint(importlib.import_module(module).bp)
    cli.init_app(app)
    return app


def _locale() -> str:
    """The caller's language; outside a request (CLI, jobs) the court's default, Chinese."""
    if has_request_context():
        return session_locale() or request.accept_languages.best_match(LOCALES) or "zh"
    return "zh"


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20}


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"
