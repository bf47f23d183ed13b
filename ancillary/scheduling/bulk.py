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

from ancillary.audit.services import record_many
from ancillary.auth.models import User
from ancillary.db import insert_returning_ids
from ancillary.outbox import enqueue_many
from ancillary.queues.models import Task, TaskKind
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


def book_all(session: Session, placements, *, actor, now: datetime, settings) -> list[int]:
    """Book ``placements`` ((need, room, starts_at, ends_at, lane), checked by the planner); the new hearings' ids.

    Rows, not ORM objects: the hearings in one INSERT (COPY on PostgreSQL), their audit
    entries in another, the scheduling tasks finished in two UPDATEs, one digest per judge.
    """
    actor_id = getattr(actor, "id", None)
    ids = insert_returning_ids(session, Hearing.__table__, [
        {"case_id": need.case_id, "courtroom_id": room.id, "judge_id": need.judge_id, "starts_at": starts_at,
         "ends_at": ends_at, "lane": lane, "is_overlap_eligible": need.eligible, "status": HearingStatus.booked,
         "sequence": 0, "booked_by_id": actor_id, "created_at": now, "updated_at": now}
        for need, room, starts_at, ends_at, lane in placements])
    record_many(session, [
        {"at": now, "actor_id": actor_id, "action": "hearing.book", "object_type": Hearing.__tablename__,
         "object_id": hearing_id, "case_id": need.case_id, "before": None,
         "after": {"courtroom_id": room.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                   "lane": lane}}
        for hearing_id, (need, room, starts_at, ends_at, lane) in zip(ids, placements, strict=True)])
    Task.finish_for_cases(session, [p[0].case_id for p in placements], TaskKind.schedule_hearing, actor=actor,
                          now=now, reason="hearing booked")
    _digests(session, ids, placements, now=now, settings=settings)
    return ids


def _digests(session: Session, ids: list[int], placements, *, now: datetime, settings) -> None:
    """One SMS per judge: a line per hearing booked for them, in time order."""
    tz = settings.timezone
    template, main_court = gettext(_MESSAGES["hearing_booked"]), gettext("main court")
    lines: dict[int, list[tuple]] = defaultdict(list)
    for hearing_id, (need, room, starts_at, ends_at, _) in zip(ids, placements, strict=True):
        start, end = starts_at.astimezone(tz), ends_at.astimezone(tz)
        text = template.format(number=need.number, room=room.name, venue=main_court if room.venue == "main" else
                               room.venue, day=start.strftime("%Y-%m-%d"), start=start.strftime("%H:%M"),
                               end=end.strftime("%H:%M"))
        lines[need.judge_id].append((starts_at, hearing_id, text))
    phones = dict(session.execute(select(User.id, User.phone).where(User.id.in_(list(lines)))).all())
    messages = []
    for judge_id, items in lines.items():
        if not phones.get(judge_id):
            continue
        items.sort()
        first, last = min(item[1] for item in items), max(item[1] for item in items)
        messages.append({
            "idempotency_key": f"hearing_booked:digest:hearings{first}-{last}x{len(items)}:user{judge_id}",
            "channel": "sms", "to_address": phones[judge_id], "body": "\n".join(item[2] for item in items),
            "kind": "hearing_booked", "recipient_id": judge_id, "object_type": Hearing.__tablename__,
            "object_id": ids[0]})
    enqueue_many(session, messages, now=now, settings=settings)
