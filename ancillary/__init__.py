"""Ancillary: the court auxiliary-services backend."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, has_request_context, request

import ancillary.models  # noqa: F401  (every table on the metadata)
from ancillary import cli, hardening, openapi, pages, web, wiring
from ancillary.archive import pages as archive_pages
from ancillary.archive import views as archive_views
from ancillary.audit import views as audit_views
from ancillary.auth import pages as auth_pages
from ancillary.auth import views as auth_views
from ancillary.auth.sessions import CookieSessions, cookie_config
from ancillary.cases import pages as case_pages
from ancillary.cases import views as case_views
from ancillary.config import Settings
from ancillary.custody import pages as custody_pages
from ancillary.custody import verify_views  # noqa: F401  (its routes join the Custody blueprint)
from ancillary.custody import views as custody_views
from ancillary.db import ping_after_idle
from ancillary.extensions import api, babel, db, migrate
from ancillary.ops import requestlog
from ancillary.ops import views as ops_views
from ancillary.pages import session_locale
from ancillary.queues import pages as queue_pages
from ancillary.queues import views as queue_views
from ancillary.reminders import pages as reminder_pages
from ancillary.reminders import views as reminder_views
from ancillary.reports import pages as report_pages
from ancillary.reports import views as report_views
from ancillary.scheduling import feed_views, further_views, proposal_views  # noqa: F401  (their routes join the Scheduling blueprint)
from ancillary.scheduling import pages as schedule_pages
from ancillary.scheduling import views as scheduling_views
from ancillary.service import pages as service_pages
from ancillary.service import views as service_views

BLUEPRINTS = (
    auth_views.blp,
    case_views.blp,
    queue_views.blp,
    scheduling_views.blp,
    audit_views.blp,
    report_views.blp,
    custody_views.blp,
    archive_views.blp,
    service_views.blp,
    reminder_views.blp,
    ops_views.blp,
)
# Server-rendered pages: each module's plain Flask blueprint ``bp`` (see ancillary/pages.py).
PAGES = (
    auth_pages,
    queue_pages,
    case_pages,
    service_pages,
    archive_pages,
    reminder_pages,
    custody_pages,
    report_pages,
    schedule_pages,
)
LOCALES = ("zh", "en")


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; nothing is built at import time."""
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
        **cookie_config(settings),
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    app.session_interface = CookieSessions()
    app.json.ensure_ascii = False  # Chinese text travels as UTF-8, not \u escapes
    db.init_app(app)
    if not settings.database_url.startswith("sqlite"):
        with app.app_context():
            ping_after_idle(db.engine)
    migrate.init_app(app, db, directory=str(_migrations_dir()), compare_type=True, render_as_batch=True)
    babel.init_app(app, locale_selector=_locale)
    hardening.init_app(app)  # the id converter must be in place before any route
    api.init_app(app)
    requestlog.init_app(app)  # before web: its after_request runs after the commit
    web.init_app(app)
    pages.init_app(app)
    openapi.init_docs_assets(app)
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
    for page in PAGES:
        app.register_blueprint(page.bp)
    cli.init_app(app)
    wiring.wire(app)
    return app


def _locale() -> str:
    """The caller's language; outside a request (CLI, jobs) the court's default, Chinese."""
    if has_request_context():
        return session_locale() or request.accept_languages.best_match(LOCALES) or "zh"
    return "zh"


def _engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, "check_same_thread": False}}
    return {"pool_size": 10, "max_overflow": 20}  # idle connections are pinged: db.ping_after_idle


def _migrations_dir():
    return Path(__file__).resolve().parent.parent / "migrations"
