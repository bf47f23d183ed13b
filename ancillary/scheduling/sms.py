"""The SMS a judge's phone gets when one of their hearings is booked, moved or cancelled."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext

from ancillary.auth.models import User
from ancillary.display_names import N_
from ancillary.outbox import due_time
from ancillary.scheduling.models import Courtroom

log = logging.getLogger(__name__)


@dataclass
class Sms:
    """A judge's message, composed as ``services.notify_judge`` composes it."""

    kind: str
    to_address: str
    recipient_id: int
    body: str
    not_before: datetime

# msgids are English, translated in the catalogue.
MESSAGES = {
    "hearing_booked": N_("Hearing booked: case {number}, {room} ({venue}), {day} {start}-{end}."),
    "hearing_moved": N_("Hearing moved: case {number}, now {room} ({venue}), {day} {start}-{end}."),
    "hearing_cancelled": N_("Hearing cancelled: case {number}, {room} ({venue}), {day} {start}-{end}."),
}


def has_phone(judge: User | None, judge_id: int, kind: str) -> bool:
    """Whether the judge can be told; if not, the log says which message was not sent."""
    if judge is None or not judge.phone:
        log.info("judge %s has no phone: %s not sent", judge_id, kind)
        return False
    return True


def body(kind: str, case, room: Courtroom, starts_at: datetime, ends_at: datetime, settings) -> str:
    """The text of the ``kind`` message about a hearing of ``case`` in ``room``, in court time."""
    tz = settings.timezone
    start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
    venue = gettext("main court") if room.venue == "main" else room.venue
    return gettext(MESSAGES[kind]).format(number=case.number, room=room.name, venue=venue,
                                          day=start.strftime("%Y-%m-%d"), start=start.strftime("%H:%M"),
                                          end=end.strftime("%H:%M"))


def booked(case, room: Courtroom, judge: User, starts_at: datetime, ends_at: datetime, *, now: datetime,
           settings) -> Sms | None:
    """The judge's ``hearing_booked`` SMS as ``services.notify_judge`` queues it, or None (no phone)."""
    if not has_phone(judge, case.judge_id, "hearing_booked"):
        return None
    text = body("hearing_booked", case, room, starts_at, ends_at, settings)
    return Sms("hearing_booked", judge.phone, judge.id, text, due_time("sms", now, settings))
