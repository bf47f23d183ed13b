"""The court's scheduling pages: ``/schedule`` (scheduler, judge) and ``/hearings`` (judge,
enforcement officer).

``/schedule`` is a shell whose script calls the same JSON API as every other client with
the session cookie, so it sees and may change exactly what the signed-in role may.
"""

import qrcode
from flask import Blueprint as PlainBlueprint
from flask import current_app, g, render_template, url_for
from flask_babel import gettext
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage
from sqlalchemy import select

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.outbox import Notification
from ancillary.pages import page
from ancillary.scheduling import feeds, queries
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.web import now


def _strings() -> dict:
    return {
        "pending": gettext("Pending cases"), "noPending": gettext("Nothing waiting to be scheduled."),
        "suggestions": gettext("Earliest free slots"), "noSuggestions": gettext("No feasible slot in the next weeks."),
        "book": gettext("Book"), "booked": gettext("Booked"), "refused": gettext("Refused"),
        "overlap": gettext("overlap"), "due": gettext("due"), "overdue": gettext("overdue"),
        "moved": gettext("Moved; the judge is told."), "cancelled": gettext("Cancelled; the judge is told."),
        "willBook": gettext("Will book"), "cannot": gettext("Cannot be scheduled"),
        "confirmed": gettext("Booked as previewed"), "differs": gettext("Booked, but not exactly as previewed: "
                                                                          "the calendar changed meanwhile."),
        "nothing": gettext("Nothing to book in this window."), "kindLabel": gettext("Kind"),
        "judgeLabel": gettext("Judge"), "roomLabel": gettext("Courtroom"), "timeLabel": gettext("Time"),
        "failed": gettext("Not done; try again."),
        "weekdays": [gettext("Mon"), gettext("Tue"), gettext("Wed"), gettext("Thu"), gettext("Fri"), gettext("Sat"),
                     gettext("Sun")],
        "holiday": gettext("no sitting"),
        "mainCourt": gettext("main court"),  # the venue code "main"; tribunals are named as they are
        "mine": gettext("in progress"),  # a scheduling task the signed-in scheduler has claimed
        # Why auto-scheduling leaves a case out, by the plan's reason code (auto.py).
        "reasons": {"no_courtroom": gettext("There is no courtroom at the case's venue."),
                    "speedy_limit_before_window": gettext("Its 7 days for a speedy hearing end before the window."),
                    "deadline_before_window": gettext("Its statutory deadline falls before the window."),
                    "notice_period": gettext("The summons notice period reaches beyond the window."),
                    "no_slot_before_speedy_limit":
                        gettext("No room and judge are free together before its 7-day limit."),
                    "court_closed_before_speedy_limit":
                        gettext("The court is closed on every day it could be heard before its 7-day limit."),
                    "no_free_slot": gettext("No room at its venue is free while its judge is, in the window."),
                    "kept_for_speedy_cases":
                        gettext("The room time left in the window is kept for speedy cases still to be filed."),
                    "search_limit_reached":
                        gettext("No free slot was found, and this plan stopped searching for hearings it could move "
                                "to make room; the next plan searches again.")},
        "kinds": {"speedy": gettext("speedy"), "summary": gettext("summary"), "ordinary": gettext("ordinary"),
                  "enforcement": gettext("enforcement")},
    }


# --- /hearings: the judge's and enforcement officer's own page -------------------------------

bp = PlainBlueprint("scheduling_pages", __name__)


@bp.get("/schedule")
@page(Role.scheduler, Role.judge)
def schedule():
    """The week view: courtrooms by hours, each hearing readable and movable; the queue and auto-scheduling."""
    return render_template("schedule.html", strings=_strings(), proposal_strings=_proposal_strings(),
                           can_schedule=g.user.role == Role.scheduler)


def _proposal_strings() -> dict:
    """What schedule_proposals.js says about the sweep's proposals."""
    return {
        "accept": gettext("Accept"), "reject": gettext("Reject"),
        "accepted": gettext("Case {number} is booked as proposed; the judge is told."),
        "rejected": gettext("Proposal for case {number} rejected: the case stays in the queue for you."),
        "taken": gettext("This slot was taken meanwhile by case {number} ({time}); the system will propose another."),
        "failed": gettext("Not done; try again."), "mainCourt": gettext("main court"),
        "kinds": _strings()["kinds"],
    }
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
    token = feeds.issue_feed_token(db.session, g.user, actor=g.user, now=now())
    return _my_page(feed=_feed(g.user.id, token))
