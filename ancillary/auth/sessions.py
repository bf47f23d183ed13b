"""Browser sessions: a signed-in cookie for pages and downloads, and its CSRF token.

A browser session is an API token kept in Flask's signed, HttpOnly, SameSite=Lax
cookie instead of an ``Authorization`` header. Being a token row, it expires, is
revoked on sign-out, and stops working the moment its user is disabled, exactly like
a program's bearer token; the access log and need-to-know see the same user either way.

CSRF: a random token lives in the same cookie session; every state-changing request
authenticated by the cookie must echo it in the ``X-CSRF-Token`` header (scripts) or a
``csrf_token`` form field (plain forms). Requests carrying a bearer token are exempt,
since a foreign site cannot make a browser send that header. This is a dozen lines
rather than Flask-WTF's CSRFProtect, which guards every POST and would need an
exemption for each bearer-token API view and webhook.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from flask import request, session
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.orm import Session

from ancillary.auth.models import User
from ancillary.auth.services import authenticate_password, issue_token, revoke_token, user_for_token
from ancillary.errors import Forbidden

TOKEN_KEY = "token"
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
KEPT_KEYS = ("lang",)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LIFETIME = timedelta(hours=12)  # one working day; sign in again the next morning

COOKIE_CONFIG = {
    "SESSION_COOKIE_NAME": "ancillary_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": LIFETIME,
}


def cookie_config(settings) -> dict:
    """Flask's cookie settings. The cookie is ``Secure`` (sent over https only) when the public
    address is https, or when ``ANCILLARY_SECURE_COOKIES`` says so; the http demo stays usable."""
    secure = settings.secure_cookies
    if secure is None:
        secure = settings.public_url.lower().startswith("https://")
    return {**COOKIE_CONFIG, "SESSION_COOKIE_SECURE": secure}


def sign_in(db_session: Session, username: str, password: str, *, now: datetime) -> User:
    """Check the password and open a browser session for the user (raises Unauthorized)."""
    user = authenticate_password(db_session, username, password)
    token, _ = issue_token(db_session, user, now=now, lifetime=LIFETIME)
    kept = {key: session[key] for key in KEPT_KEYS if key in session}
    session.clear()  # a fresh CSRF token after sign-in (no fixation); the language stays
    session.update(kept)
    session.permanent = True
    session[TOKEN_KEY] = token
    session[CSRF_KEY] = secrets.token_urlsafe(32)
    return user


def sign_out(db_session: Session, *, now: datetime) -> None:
    """Revoke the session's token and forget the cookie."""
    token = session.get(TOKEN_KEY)
    user = user_for_token(db_session, token, now=now) if token else None
    if user is not None:
        revoke_token(db_session, token, actor=user, now=now)
    session.clear()


def cookie_user(db_session: Session, *, now: datetime) -> User | None:
    """The active user of this browser's session, or None (expired, revoked, disabled)."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str):
        return None
    user = user_for_token(db_session, token, now=now)
    if user is None:
        session.pop(TOKEN_KEY, None)
    return user


def csrf_token() -> str:
    """This browser's CSRF token, created on first use (the sign-in form needs one too)."""
    if CSRF_KEY not in session:
        session[CSRF_KEY] = secrets.token_urlsafe(32)
    return session[CSRF_KEY]


def check_csrf() -> None:
    """Refuse a state-changing request whose CSRF token is missing or wrong."""
    if request.method in SAFE_METHODS:
        return
    expected = session.get(CSRF_KEY)
    sent = request.headers.get(CSRF_HEADER) or (request.form.get(CSRF_FIELD) if request.form else None)
    if not expected or not sent or not hmac.compare_digest(str(sent), str(expected)):
        raise Forbidden("csrf_failed", "the form has expired: reload the page and try again", field=CSRF_FIELD)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, without building the cookie's signer for a request that
    sends no session cookie (every API call with a bearer token): it gets the same empty session."""

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)
