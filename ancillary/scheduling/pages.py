"""The scheduler's week view (/schedule): rooms by hours, the pending queue, book by suggestion.

The page is a static shell; it signs in and talks to the same JSON API as every
other client, so it sees exactly what the signed-in role may see.
"""

import qrcode
from flask import Blueprint as PlainBlueprint
from flask import Response, current_app, g, render_template, url_for
from flask.views import MethodView
from flask_babel import get_locale, gettext
from flask_smorest import Blueprint
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage
from sqlalchemy import select

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.pages import page
from ancillary.reminders.models import Notification
from ancillary.scheduling import queries, services
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.web import now, public

blp = Blueprint("SchedulePage", __name__, url_prefix="", description="The scheduler's week view (HTML)")


def _strings() -> dict:
    return {
        "signIn": gettext("Sign in"), "username": gettext("Username"), "password": gettext("Password"),
        "signInFailed": gettext("Sign-in failed: check the username and password."),
        "pending": gettext("Pending cases"), "noPending": gettext("Nothing waiting to be scheduled."),
        "suggestions": gettext("Earliest free slots"), "noSuggestions": gettext("No feasible slot in the next weeks."),
        "book": gettext("Book"), "booked": gettext("Booked"), "refused": gettext("Refused"),
        "overlap": gettext("overlap"), "due": gettext("due"), "signOut": gettext("Sign out"),
        "weekdays": [gettext("Mon"), gettext("Tue"), gettext("Wed"), gettext("Thu"), gettext("Fri"), gettext("Sat"),
                     gettext("Sun")],
        "holiday": gettext("no sitting"),
        "mainCourt": gettext("main court"),  # the venue code "main"; tribunals are named as they are
        "mine": gettext("in progress"),  # a scheduling task the signed-in scheduler has claimed
        "kinds": {"speedy": gettext("speedy"), "summary": gettext("summary"), "ordinary": gettext("ordinary"),
                  "enforcement": gettext("enforcement")},
    }


@blp.route("/schedule")
class SchedulePage(MethodView):
    @public
    @blp.response(200, content_type="text/html", example="<!doctype html><html>…</html>")
    def get(self):
        """The week view: courtrooms by hours for a chosen week, bookings coloured by kind, the queue beside it."""
        lang = "zh-CN" if str(get_locale() or "zh").startswith("zh") else "en"
        html = render_template("schedule.html", strings=_strings(), lang=lang)
        return Response(html, status=200, content_type="text/html; charset=utf-8")


# --- /hearings: the judge's and enforcement officer's own page -------------------------------

bp = PlainBlueprint("scheduling_pages", __name__)
HEARINGS_SHOWN = 50
REMINDERS_SHOWN = 30


def _feed(judge_id: int, token: str) -> dict:
    """The feed's https address from ANCILLARY_PUBLIC_URL (never the request's host), its webcal twin, a QR."""
    base = current_app.config["SETTINGS"].public_url
    if not base:
        return {"missing": True}
    url = f"{base}{url_for('Scheduling.JudgeCalendarView', judge_id=judge_id, token=token)}"
    webcal = "webcal://" + url.split("://", 1)[1]
    image = qrcode.make(webcal, image_factory=SvgPathImage, box_size=8, border=2)
    return {"url": url, "webcal": webcal, "qr": Markup(image.to_string(encoding="unicode"))}


def _my_page(feed: dict | None = None):
    user, moment = g.user, now()
    hearings = list(db.session.scalars(
        queries.visible_hearings(db.session, user).where(Hearing.status == HearingStatus.booked,
                                                         Hearing.ends_at > moment)
        .order_by(Hearing.starts_at).limit(HEARINGS_SHOWN)).unique())
    reminders = list(db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id)
        .order_by(Notification.acked_at.is_not(None), Notification.created_at.desc(), Notification.id.desc())
        .limit(REMINDERS_SHOWN)))
    tz = current_app.config["SETTINGS"].timezone
    return render_template("hearings.html", hearings=hearings, reminders=reminders, feed=feed, tz=tz,
                           kinds=_strings()["kinds"])


@bp.get("/hearings")
@page(Role.judge, Role.enforcement_officer)
def my_hearings():
    """My coming hearings, my reminders with a one-tap acknowledgement, and the phone-calendar subscription."""
    return _my_page()


@bp.post("/hearings/subscribe")
@page(Role.judge, Role.enforcement_officer)
def subscribe():
    """Issue a new secret feed address for my phone's calendar (the old one stops) and show it with a QR code."""
    token = services.issue_feed_token(db.session, g.user, actor=g.user, now=now())
    return _my_page(feed=_feed(g.user.id, token))
