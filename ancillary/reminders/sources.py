"""Where the reminder rules read hearings: the scheduling context's ``Hearing``.

A hearing counts as *held* once past its end unless it was cancelled (SPEC section 3);
``last_held_hearings`` yields each case's latest live hearing, so a second hearing
already booked stops the heard-but-not-closed reminder.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus


@dataclass(frozen=True)
class HearingRow:
    hearing_id: int
    case_id: int
    judge_id: int
    starts_at: datetime
    ends_at: datetime
    courtroom: str


def hearings_between(session: Session, start: datetime, end: datetime) -> Iterator[HearingRow]:
    """Booked hearings starting in [start, end), by time."""
    rows = session.execute(
        select(Hearing, Courtroom.name)
        .join(Courtroom, Courtroom.id == Hearing.courtroom_id)
        .where(Hearing.status == HearingStatus.booked, Hearing.starts_at >= start, Hearing.starts_at < end)
        .order_by(Hearing.starts_at, Hearing.id)
    ).all()
    return iter([HearingRow(h.id, h.case_id, h.judge_id, h.starts_at, h.ends_at, room) for h, room in rows])


def last_held_hearings(session: Session, ended_from: datetime, ended_to: datetime,
                       case_ids=None) -> Iterator[tuple[int, int, datetime]]:
    """(case_id, hearing_id, ends_at) of each case's last live hearing, if it ended in the window.

    ``case_ids``: only these cases (None: every case). Either way only the cases with a live
    hearing ending in the window are grouped (a case whose last hearing ended in it has
    one): not every case's hearings of the year at every tick.
    """
    live = Hearing.status == HearingStatus.booked
    if case_ids is not None:
        live = live & Hearing.case_id.in_(case_ids)
    in_window = select(Hearing.case_id).where(live, Hearing.ends_at >= ended_from, Hearing.ends_at < ended_to)
    live = live & Hearing.case_id.in_(in_window)
    latest = (
        select(Hearing.case_id, func.max(Hearing.ends_at).label("last_end"))
        .where(live)
        .group_by(Hearing.case_id)
        .subquery()
    )
    query = (
        select(Hearing.case_id, Hearing.id, Hearing.ends_at)
        .join(latest, (latest.c.case_id == Hearing.case_id) & (latest.c.last_end == Hearing.ends_at))
        .where(live, Hearing.ends_at >= ended_from, Hearing.ends_at < ended_to)
    )
    return iter([tuple(row) for row in session.execute(query)])
