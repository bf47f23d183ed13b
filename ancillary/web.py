"""The HTTP edge: deny-by-default auth, the request's one commit, JSON errors."""

from __future__ import annotations

import functools
import logging

from flask import Flask, current_app, g, jsonify, redirect, request, url_for
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError, OperationalError

from ancillary.auth import sessions
from ancillary.auth.models import Role
from ancillary.display_names import label
from ancillary.errors import DomainError, Forbidden, Invalid, Unauthorized
from ancillary.extensions import db
from ancillary.openapi import document_errors, error_body
from ancillary.timeutil import app_now

log = logging.getLogger(__name__)


class UnsupportedBody(DomainError):
    status = 415


# Endpoints anyone may call without a token (deny by default otherwise).
PUBLIC_ENDPOINTS = {
    "api-docs.openapi_json",
    "api-docs.openapi_swagger_ui",
    "docs_assets",
    "static",
    "Auth.TokensView",
}


def roles(*allowed: Role):
    """Let only ``allowed`` roles call the decorated view method; others get 403."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            user = g.get("user")
            if user is None:
                raise Unauthorized("auth_required", "sign in: send Authorization: Bearer <token>")
            if user.role not in allowed:
                raise Forbidden("role_not_allowed", "the {role} role may not do this", role=user.role.value)
            return func(*args, **kwargs)

        wrapper.allowed_roles = frozenset(allowed)
        return document_errors(wrapper, 401, 403)

    return decorate


def public(func):
    """Mark a view as callable without a bearer token (it authenticates by itself)."""
    func.is_public = True
    return func


def current_user():
    return g.user


def now():
    """The request's instant: one reading of the clock for the whole request."""
    if "now" not in g:
        g.now = app_now()
    return g.now


# Bodies the API reads: JSON, file uploads, and the form posts of webhooks.
ACCEPTED_BODIES = {"application/json", "multipart/form-data", "application/x-www-form-urlencoded"}
FORM_BODIES = ("multipart/form-data", "application/x-www-form-urlencoded")


def init_app(app: Flask) -> None:
    app.before_request(_refuse_unknown_bodies)
    app.before_request(_refuse_nul_characters)
    app.before_request(_authenticate)
    app.after_request(_commit_or_rollback)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(OperationalError, _operational_error)
    app.register_error_handler(Exception, _unexpected_error)



def _view_function(endpoint: str):
    view = current_app.view_functions.get(endpoint)
    cls = getattr(view, "view_class", None)
    if cls is not None:
        return getattr(cls, request.method.lower(), None)
    return view


def _refuse_unknown_bodies():
    """Answer 415 to a body in a format no endpoint reads, rather than ignore it."""
    has_body = request.method in ("POST", "PUT", "PATCH") and (request.content_length or 0) > 0
    if has_body and request.mimetype not in ACCEPTED_BODIES and not request.mimetype.endswith("+json"):
        raise UnsupportedBody(
            "unsupported_media_type", "send the body as application/json (or multipart/form-data for files)",
            field="Content-Type",
        )


def _nul_path(value, path=""):
    """The dotted path of the first string holding a NUL character, or None."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return f"{path}.{key}" if path else key
        found = _nul_path(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _may_spell_nul(raw: bytes) -> bool:
    return b"\\u0000" in raw or b"\x00" in raw


def _refuse_nul_characters():
    """Refuse text with a NUL character: no person types one, and PostgreSQL cannot store it.

    A JSON body can only spell NUL as the escape \\u0000 (a raw control character is not
    JSON), so a body without that escape, and without NUL bytes (UTF-16 or -32 JSON), is
    not walked.
    """
    sources = [request.args.to_dict(flat=False)] if request.args else []
    if request.mimetype in FORM_BODIES:
        sources.append(request.form.to_dict(flat=False))
    if request.is_json and _may_spell_nul(request.get_data(cache=True)):
        sources.append(request.get_json(silent=True))
    for source in sources:
        field = _nul_path(source)
        if field:
            raise Invalid("nul_character", "text may not contain the NUL character", field=field)


def _authenticate():
    """Identify the caller by bearer token or session cookie; refuse anonymous calls to non-public views.

    A page asked for without a session redirects to the sign-in form; anything else is 401.
    A state-changing request that the cookie authenticates must carry the CSRF token.
    """
    from ancillary.auth.services import user_for_token

    g.user = None
    g.via_cookie = False
    header = request.headers.get("Authorization", "")
    endpoint = request.endpoint
    view = _view_function(endpoint) if endpoint else None
    is_public = endpoint in PUBLIC_ENDPOINTS or getattr(view, "is_public", False)
    if header:
        scheme, _, token = header.partition(" ")
        user = user_for_token(db.session, token.strip(), now=now()) if scheme.lower() == "bearer" else None
        if user is None and not is_public:
            raise Unauthorized("invalid_token", "the token is unknown, expired or revoked: sign in again")
        g.user = user
    elif endpoint is not None and not is_public:
        g.user = sessions.cookie_user(db.session, now=now())
        g.via_cookie = g.user is not None
    if endpoint is None:
        return None  # 404 / 405 answered by the router
    if not is_public and g.user is None:
        if getattr(view, "is_page", False):
            return redirect(url_for("auth_pages.login", next=request.full_path.rstrip("?")))
        raise Unauthorized("auth_required", "sign in: send Authorization: Bearer <token>")
    if g.via_cookie:
        sessions.check_csrf()
    return None


def pause_transaction() -> None:
    """End the request's read so far before a slow step that needs no database (decoding a
    picture): on SQLite a transaction holds the write lock from its start. Only before the
    request has written anything; the next query opens a new transaction, and the request
    still commits once, at its end."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("pause_transaction() after a write would lose it")
    session.rollback()


def _commit_or_rollback(response):
    """The request's one commit point: commit on success, roll back otherwise."""
    if response.status_code < 400:
        try:
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            return _integrity_error(exc)
    else:
        db.session.rollback()
    return response


def _json_error(status, code, message, field=None, **extra):
    response = jsonify(error_body(status, code, message, field, **extra))
    response.status_code = status
    return response


def error_message(error: DomainError) -> str:
    """A domain error's sentence in the reader's language, enum values in words."""

    readable = {name: label(value) for name, value in error.params.items()}
    template = gettext(error.template)
    try:
        return template.format(**readable)
    except (KeyError, IndexError, ValueError):
        return error.render(template)


def _domain_error(error: DomainError):
    db.session.rollback()
    message = error_message(error)
    errors = {error.field: [message]} if error.field else None
    extra = {k: v for k, v in error.params.items() if k in ("conflict", "assignee_id", "conflicts", "retry_after")}
    response = _json_error(error.status, error.code, message, error.field,
                           **({"errors": errors} if errors else {}), **extra)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="ancillary"'
    if error.status == 429:
        response.headers["Retry-After"] = str(error.params.get("retry_after", 1))
    return response


def _integrity_error(error: IntegrityError):
    db.session.rollback()
    log.info("integrity error answered as 409: %s", error.orig)
    return _json_error(409, "conflict", gettext("the change conflicts with existing data; reload and try again"))


def _operational_error(error: OperationalError):
    """503 for a database that is busy (SQLite's lock) or away (a lost connection); both pass."""
    try:
        db.session.rollback()
    except OperationalError:
        db.session.close()  # the connection is gone: drop it, the pool makes a new one next time
    if _database_away(error):
        log.warning("database unreachable: %s", error.orig)
        response = _json_error(503, "database_unavailable",
                               gettext("the database cannot be reached just now; try again in a moment"))
    else:
        log.warning("database busy: %s", error.orig)
        response = _json_error(503, "database_busy", gettext("the database is busy; try again in a moment"))
    response.headers["Retry-After"] = "1"
    return response


def _database_away(error: OperationalError) -> bool:
    """A lost or refused connection, as opposed to a lock that was not granted in time."""
    if error.connection_invalidated:
        return True
    return type(error.orig).__module__.startswith("psycopg")


def _unexpected_error(error: Exception):
    db.session.rollback()
    log.exception("unexpected error")
    return _json_error(500, "internal_error", gettext("internal error; it has been logged"))
