"""Booking a whole plan at once: the hearings, their audit entries and tasks in a few
statements, and one SMS per judge listing every hearing booked for them.

``auto.run`` takes the locks of the rooms and judges before it plans (PostgreSQL), so
what the plan saw is what is booked; the exclusion constraints stand behind it as for
one booking. A booking here writes the same rows as ``services.book`` except the
notification: one digest per judge instead of one SMS per hearing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import User
from ancillary.outbox import enqueue
from ancillary.queues.models import OPEN_STATES, Task, TaskKind
from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus
from ancillary.scheduling.services import _MESSAGES


def lock(session: Session, room_ids, judge_ids) -> None:
    """Hold the rows of ``room_ids`` and ``judge_ids`` until commit (PostgreSQL; SQLite holds the write lock)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(select(Courtroom.id).where(Courtroom.id.in_(sorted(room_ids))).order_by(Courtroom.id)
                    .with_for_update(key_share=True))
    session.execute(select(User.id).where(User.id.in_(sorted(judge_ids))).order_by(User.id)
                    .with_for_update(key_share=True))


def book_all(session: Session, placements, *, actor, now: datetime, settings) -> list[Hearing]:
    """Book ``placements`` ((need, room, starts_at, ends_at, lane), checked by the planner) in one flush."""
    hearings = [Hearing(case_id=need.case_id, courtroom_id=room.id, judge_id=need.judge_id, starts_at=starts_at,
                        ends_at=ends_at, lane=lane, is_overlap_eligible=need.eligible, status=HearingStatus.booked,
                        sequence=0, booked_by_id=getattr(actor, "id", None), created_at=now, updated_at=now)
                for need, room, starts_at, ends_at, lane in placements]
    session.add_all(hearings)
    session.flush()
    for hearing in hearings:
        record(session, actor, "hearing.book", hearing, now=now,
               after={"courtroom_id": hearing.courtroom_id, "starts_at": hearing.starts_at.isoformat(),
                      "ends_at": hearing.ends_at.isoformat(), "lane": hearing.lane})
    _complete_tasks(session, [h.case_id for h in hearings], actor=actor, now=now)
    _digests(session, hearings, placements, now=now, settings=settings)
    session.flush()
    return hearings


def _complete_tasks(session: Session, case_ids: list[int], *, actor, now: datetime) -> None:
    """Each open scheduling task finished as one booking would, written in one flush, not one per task."""
    tasks = session.scalars(select(Task).where(
        Task.case_id.in_(case_ids), Task.kind == TaskKind.schedule_hearing, Task.status.in_(OPEN_STATES))
        .order_by(Task.id)).all()  # the audit log in the same order on every run and database
    for task in tasks:
        task.finish(session, actor=actor, now=now, reason="hearing booked", flush=False)


def _digests(session: Session, hearings: list[Hearing], placements, *, now: datetime, settings) -> None:
    """One SMS per judge: a line per hearing booked for them, in time order."""
    tz = settings.timezone
    lines: dict[int, list[tuple]] = defaultdict(list)
    for hearing, (need, room, *_) in zip(hearings, placements, strict=True):
        start, end = hearing.starts_at.astimezone(tz), hearing.ends_at.astimezone(tz)
        venue = gettext("main court") if room.venue == "main" else room.venue
        text = gettext(_MESSAGES["hearing_booked"]).format(
            number=need.number, room=room.name, venue=venue, day=start.strftime("%Y-%m-%d"),
            start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))
        lines[hearing.judge_id].append((hearing.starts_at, hearing.id, text))
    judges = {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(lines))))}
    for judge_id, items in lines.items():
        judge = judges.get(judge_id)
        if judge is None or not judge.phone:
            continue
        items.sort()
        ids = sorted(item[1] for item in items)
        enqueue(session, key=f"hearing_booked:digest:hearings{ids[0]}-{ids[-1]}x{len(ids)}:user{judge_id}",
                channel="sms", to_address=judge.phone, body="\n".join(item[2] for item in items),
                kind="hearing_booked", now=now, recipient_id=judge_id, obj=hearings[0], settings=settings)
