"""Sign-in and sign-out for browsers: ``/login`` (用户名, 密码, 登录) and ``/logout``."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask_babel import gettext

from ancillary.auth import sessions
from ancillary.errors import Unauthorized
from ancillary.extensions import db
from ancillary.web import now, public

bp = Blueprint("auth_pages", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another host (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """The sign-in form; on success the browser gets its session cookie and goes on."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if sessions.cookie_user(db.session, now=now()) is not None:
            return redirect(target)
        return render_template("login.html", username="", errors={}, next=target)
    sessions.check_csrf()
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    errors = {}
    if not username:
        errors["username"] = gettext("Enter your username.")
    if not password:
        errors["password"] = gettext("Enter your password.")
    if not errors:
        try:
            sessions.sign_in(db.session, username, password, now=now())
            return redirect(target, 303)
        except Unauthorized:
            errors["password"] = gettext("The username or the password is wrong.")
    return render_template("login.html", username=username, errors=errors, next=target), 401


@bp.route("/logout", methods=["GET", "POST"])
@public
def logout():
    """End the browser session (its token is revoked) and show the sign-in form.

    Not CSRF-guarded on purpose: the worst a forged sign-out does is sign someone out.
    """
    sessions.sign_out(db.session, now=now())
    return redirect("/login", 303)
