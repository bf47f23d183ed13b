"""A judge's hearings as an RFC 5545 calendar (the ``icalendar`` package).

One VEVENT per hearing, UID stable across moves, SEQUENCE bumped on every change,
STATUS:CANCELLED for cancelled hearings, so a subscribed phone calendar updates
the event in place. No party names: the feed URL lives in a phone's settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.queries import mark_overlaps

PAST_DAYS, FUTURE_DAYS = 60, 366


def judge_calendar(session: Session, judge, *, now: datetime, settings) -> bytes:
    hearings = list(session.scalars(
        select(Hearing).options(joinedload(Hearing.case), joinedload(Hearing.courtroom))
        .where(Hearing.judge_id == judge.id, Hearing.starts_at >= now - timedelta(days=PAST_DAYS),
               Hearing.starts_at < now + timedelta(days=FUTURE_DAYS))
        .order_by(Hearing.starts_at, Hearing.id)))
    mark_overlaps(session, hearings)
    cal = Calendar()
    cal.add("prodid", "-//Ancillary//Court scheduling//ZH")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", gettext("Hearings of {name}").format(name=judge.display_name))
    cal.add("x-wr-timezone", settings.timezone.key)
    kinds = {"speedy": gettext("speedy procedure"), "summary": gettext("summary procedure"),
             "ordinary": gettext("ordinary procedure"), "enforcement": gettext("enforcement hearing")}
    for hearing in hearings:
        room = hearing.courtroom
        venue = gettext("main court") if room.venue == "main" else room.venue
        event = Event()
        event.add("uid", f"hearing-{hearing.id}@ancillary")
        event.add("dtstamp", hearing.updated_at)
        event.add("last-modified", hearing.updated_at)
        event.add("created", hearing.created_at)
        event.add("dtstart", hearing.starts_at)
        event.add("dtend", hearing.ends_at)
        event.add("sequence", hearing.sequence)
        summary = gettext("Hearing {number}").format(number=hearing.case.number)
        if hearing.overlap:
            summary = gettext("{summary} (overlap booking)").format(summary=summary)
        event.add("summary", summary)
        event.add("location", f"{room.name}, {venue}")
        event.add("description", gettext("Case {number}, {kind}.").format(
            number=hearing.case.number, kind=kinds[hearing.case.kind.value]))
        event.add("categories", ["hearing", hearing.case.kind.value] + (["overlap"] if hearing.overlap else []))
        event.add("status", "CANCELLED" if hearing.status == HearingStatus.cancelled else "CONFIRMED")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()
