"""Where the rules read hearings: a seam onto the scheduling context.

Hearings are booked by the scheduling context (its ``Hearing`` model). Until that
model exists on this code line, both functions answer nothing, so every other rule
works without it. The integrator's contract, for a ``Hearing`` with ``case_id``,
``courtroom_id``, ``judge_id``, ``starts_at``, ``ends_at`` and optionally a ``status``:

- a hearing counts as *held* once past its end, unless its status is cancelled or
  adjourned (SPEC section 3);
- ``last_held_hearings`` yields, per case, the latest hearing only when no later
  live hearing is booked (a second hearing already booked stops the reminder).

Tests swap these two functions for fakes (``monkeypatch.setattr(sources, ...)``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

NOT_HELD = ("cancelled", "canceled", "adjourned")


@dataclass(frozen=True)
class HearingRow:
    hearing_id: int
    case_id: int
    judge_id: int
    starts_at: datetime
    ends_at: datetime
    courtroom: str


def _hearing_model():
    try:
        from ancillary.scheduling.models import Hearing  # noqa: PLC0415 - optional context
    except ImportError:
        return None
    return Hearing


def _live(Hearing, query):
    status = getattr(Hearing, "status", None)
    if status is not None:
        query = query.where(func.lower(func.coalesce(status, "")).not_in(NOT_HELD))
    return query


def hearings_between(session: Session, start: datetime, end: datetime) -> Iterator[HearingRow]:
    """Live hearings starting in [start, end), by judge then time."""
    Hearing = _hearing_model()
    if Hearing is None:
        return iter(())
    from ancillary.scheduling.models import Courtroom

    query = _live(Hearing, select(Hearing, Courtroom.name).join(Courtroom, Courtroom.id == Hearing.courtroom_id)
                  .where(Hearing.starts_at >= start, Hearing.starts_at < end))
    judge = getattr(Hearing, "judge_id", None)
    rows = session.execute(query.order_by(Hearing.starts_at)).all()
    return iter([
        HearingRow(h.id, h.case_id, getattr(h, "judge_id", None) if judge is not None else None,
                   h.starts_at, h.ends_at, room)
        for h, room in rows
    ])


def last_held_hearings(session: Session, ended_from: datetime, ended_to: datetime) -> Iterator[tuple[int, int, datetime]]:
    """(case_id, hearing_id, ends_at) of each case's last hearing if it ended in the window."""
    Hearing = _hearing_model()
    if Hearing is None:
        return iter(())
    latest = _live(Hearing, select(Hearing.case_id, func.max(Hearing.ends_at).label("last_end"))).group_by(
        Hearing.case_id).subquery()
    query = (
        select(Hearing.case_id, Hearing.id, Hearing.ends_at)
        .join(latest, (latest.c.case_id == Hearing.case_id) & (latest.c.last_end == Hearing.ends_at))
        .where(Hearing.ends_at >= ended_from, Hearing.ends_at < ended_to)
    )
    return iter(session.execute(_live(Hearing, query)).tuples().all())
