"""What every page shares: the role gate, the navigation by role, the base template's context.

Pages live beside their context as ``ancillary/<context>/pages.py``, each a plain Flask
blueprint named ``bp`` listed in ``ancillary.PAGES``. A page view is wrapped in
:func:`page`; without a session the request edge redirects it to ``/login``. Pages show
what the JSON API returns to the same signed-in person (their scripts call it with the
session cookie and the CSRF header), so need-to-know and the access log are the API's.
"""

from __future__ import annotations

import functools

from flask import Flask, g, render_template, request, session
from flask_babel import get_locale, lazy_gettext

from ancillary.auth import sessions
from ancillary.auth.models import Role
from ancillary.display_names import label

LANG_KEY = "lang"
LOCALES = ("zh", "en")

# (path, text, roles that see the link) in the order of the header's navigation.
NAV = (
    ("/", lazy_gettext("My work"), frozenset(Role)),
    ("/intake", lazy_gettext("File a case"), frozenset({Role.intake_clerk})),
    ("/scan", lazy_gettext("Scan station"), frozenset({Role.intake_clerk, Role.file_clerk, Role.archivist,
                                                       Role.judge, Role.enforcement_officer})),
    ("/service", lazy_gettext("Service of process"), frozenset({Role.service_clerk})),
    ("/archive", lazy_gettext("Archiving"), frozenset({Role.archivist})),
    ("/schedule", lazy_gettext("Hearing schedule"), frozenset({Role.scheduler, Role.judge})),
    ("/hearings", lazy_gettext("My hearings"), frozenset({Role.judge, Role.enforcement_officer})),
    ("/follow-up", lazy_gettext("Follow-up"), frozenset({Role.follow_up})),
    ("/dashboard", lazy_gettext("Dashboard"), frozenset({Role.court_admin, Role.contractor_manager})),
    ("/custody", lazy_gettext("Custody"), frozenset({Role.court_admin})),
)


def page(*allowed: Role):
    """Serve the decorated view to signed-in people of ``allowed`` roles (all roles when none given).

    Others get a 403 page that says so in a sentence.
    """
    permitted = frozenset(allowed) or frozenset(Role)

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if g.user.role not in permitted:
                return render_template("forbidden.html"), 403
            return func(*args, **kwargs)

        wrapper.is_page = True
        wrapper.allowed_roles = permitted
        return wrapper

    return decorate


def nav_links(user) -> list[dict]:
    if user is None:
        return []
    return [{"href": href, "text": str(text), "current": request.path == href}
            for href, text, roles in NAV if user.role in roles]


def html_lang() -> str:
    return "zh-CN" if str(get_locale() or "zh").startswith("zh") else "en"


def _template_context() -> dict:
    user = g.get("user")
    return {
        "me": user,
        "me_role": label(user.role) if user is not None else "",
        "nav": nav_links(user),
        "csrf_token": sessions.csrf_token,
        "html_lang": html_lang(),
        "other_lang": "en" if html_lang() == "zh-CN" else "zh",
    }


def _remember_language():
    """``?lang=en`` (or ``zh``) on any page keeps that language for this browser's session."""
    lang = request.args.get("lang")
    if lang in LOCALES:
        session[LANG_KEY] = lang


def session_locale() -> str | None:
    lang = session.get(LANG_KEY)
    return lang if lang in LOCALES else None


def init_app(app: Flask) -> None:
    app.before_request(_remember_language)
    app.context_processor(_template_context)
