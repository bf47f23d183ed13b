"""``/intake``: the intake clerk files a case in one form and prints its label sheet.

The form posts to ``POST /api/v1/cases`` from the browser (session cookie + CSRF header),
so the page checks nothing the API does not; it only offers the lists to pick from.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, render_template
from flask_babel import gettext
from sqlalchemy import select

from ancillary.auth.models import OFFICER_ROLES, Role, User
from ancillary.cases.models import LawFirm
from ancillary.display_names import label
from ancillary.extensions import db
from ancillary.pages import page
from ancillary.scheduling.models import Courtroom
from ancillary.web import now

bp = Blueprint("cases_pages", __name__)


def _choices() -> dict:
    session = db.session
    officers = session.scalars(select(User).where(User.role.in_(OFFICER_ROLES), User.is_active.is_(True))
                               .order_by(User.display_name)).all()
    venues = sorted(set(session.scalars(select(Courtroom.venue))) - {"main"})
    firms = session.execute(select(LawFirm.id, LawFirm.name).order_by(LawFirm.name)).all()
    return {
        "kinds": [("speedy", gettext("speedy")), ("summary", gettext("summary")), ("ordinary", gettext("ordinary")),
                  ("enforcement", gettext("enforcement"))],
        "venues": [("main", label("main"))] + [(v, v) for v in venues],
        "officers": [(o.id, f"{o.display_name}（{label(o.role)}）") for o in officers],
        "firms": [(f.id, f.name) for f in firms],
        "roles": [("plaintiff", gettext("plaintiff")), ("defendant", gettext("defendant")),
                  ("third_party", gettext("third party"))],
    }


def _strings() -> dict:
    return {
        "idOk": gettext("Resident ID number: the check digit is right."),
        "companyOk": gettext("Unified social credit code: the check character is right."),
        "otherOk": gettext("Another document (passport or similar): taken as written."),
        "idBad": gettext("This ID number's last character does not match: check every digit."),
        "filed": gettext("Case filed."), "failed": gettext("The case was not filed: see the marked fields."),
        "network": gettext("The server cannot be reached; nothing was filed. Try again when the connection is back."),
        "volume": gettext("Volume"), "label": gettext("label"), "party": gettext("Party"),
    }


@bp.get("/intake")
@page(Role.intake_clerk)
def intake():
    """The filing form: the case, its parties row by row, and after filing its dossiers and labels."""
    local: datetime = now().astimezone(current_app.config["SETTINGS"].timezone)
    return render_template("intake.html", choices=_choices(), strings=_strings(),
                           filed_default=local.strftime("%Y-%m-%dT%H:%M"), utc_offset=local.strftime("%z"))
