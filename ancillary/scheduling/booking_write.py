"""What booking one hearing writes, in one statement on PostgreSQL.

After the rules accepted a slot (``scheduling.booking``), a booking writes the hearing,
its ``hearing.book`` audit entry, the case's open scheduling tasks done (each with its
``task.complete`` audit entry), the judge's SMS in the outbox and, when the answer shows
the case's parties, the access-log row saying so. Through the ORM's unit of work that
was three round trips and most of a booking's Python; here it is one data-modifying
``WITH`` statement, built once. The rows are those the one-row path writes, column for
column (SQLite, which has no data-modifying ``WITH``, keeps that path).

The exclusion constraints stay the one guard: a clash refuses the whole statement, so
nothing of it is written, and the caller answers 409 as before.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, bindparam, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ancillary.db import UTCDateTime
from ancillary.driversql import DriverStatement
from ancillary.errors import Conflict
from ancillary.queues.models import OPEN_STATES, Task, TaskKind, TaskStatus
from ancillary.scheduling import sms
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.sms import Sms

log = logging.getLogger(__name__)

TASK_REASON = "hearing booked"


# The audit entries in the order the one-row path writes them: the hearing's, then the
# tasks' by id. The tasks are read before the UPDATE (the statement's snapshot), so each
# entry's ``before`` is what the task was; the room's and judge's row locks, taken before
# this statement, queue every booking of the case (they share its judge).
_SQL = f"""
WITH hearing AS (
    INSERT INTO hearings (case_id, courtroom_id, judge_id, starts_at, ends_at, lane, is_overlap_eligible,
                          status, sequence, booked_by_id, created_at, updated_at)
    VALUES (:case_id, :courtroom_id, :judge_id, :starts_at, :ends_at, :lane, :eligible,
            '{HearingStatus.booked.value}', 0, :actor_id, :now, :now)
    RETURNING id
), open_task AS (
    SELECT id, case_id, status, assignee_id, COALESCE(assignee_id, :actor_id) AS holder FROM tasks
    WHERE case_id = :case_id AND kind = '{TaskKind.schedule_hearing.value}'
      AND status IN ({", ".join(f"'{s.value}'" for s in OPEN_STATES)})
), done AS (
    UPDATE tasks SET assignee_id = open_task.holder, completed_at = :now, note = :reason,
        status = CASE WHEN open_task.holder IS NULL THEN '{TaskStatus.cancelled.value}'
                      ELSE '{TaskStatus.done.value}' END
    FROM open_task WHERE tasks.id = open_task.id
), audited AS (
    INSERT INTO audit_entries (at, actor_id, action, object_type, object_id, case_id, before, after)
    SELECT :now, :actor_id, action, object_type, object_id, :case_id, before, after FROM (
        SELECT 0 AS rank, 'hearing.book' AS action, 'hearings' AS object_type, hearing.id AS object_id,
               CAST(NULL AS json) AS before, CAST(:after AS json) AS after FROM hearing
        UNION ALL
        SELECT 1, 'task.complete', 'tasks', open_task.id,
               json_build_object('status', open_task.status, 'assignee_id', open_task.assignee_id),
               json_build_object('status', CASE WHEN open_task.holder IS NULL THEN '{TaskStatus.cancelled.value}'
                                                ELSE '{TaskStatus.done.value}' END, 'reason', :reason)
        FROM open_task, hearing
        ORDER BY rank, object_id
    ) AS entry
), sms AS (
    INSERT INTO notifications (idempotency_key, recipient_id, to_address, channel, kind, subject, body, case_id,
                               object_type, object_id, is_urgent, needs_ack, status, not_before, created_at,
                               attempts, ack_code, escalation_level)
    SELECT :sms_kind || '\\:hearing' || hearing.id || ':v0:user' || :sms_recipient, :sms_recipient, :sms_to, 'sms',
           :sms_kind, NULL, :sms_body, :case_id, 'hearings', hearing.id, false, false, 'pending', :sms_not_before,
           :now, 0, NULL, 0
    FROM hearing WHERE :with_sms
), shown AS (
    INSERT INTO access_log (at, user_id, case_id, party_ids, purpose)
    SELECT :now, :reader_id, :case_id, CAST(:party_ids AS json), :purpose FROM hearing WHERE :with_reader
)
SELECT id FROM hearing
"""

_STATEMENT = DriverStatement(text(_SQL).bindparams(
    *(bindparam(name, type_=Integer()) for name in ("case_id", "courtroom_id", "judge_id", "lane", "actor_id",
                                                    "sms_recipient", "reader_id")),
    *(bindparam(name, type_=UTCDateTime()) for name in ("starts_at", "ends_at", "now", "sms_not_before")),
    *(bindparam(name, type_=Boolean()) for name in ("eligible", "with_sms", "with_reader")),
    *(bindparam(name, type_=String()) for name in ("reason", "sms_kind", "sms_to", "sms_body", "purpose")),
    bindparam("after", type_=JSON()), bindparam("party_ids", type_=JSON()),
))  # run on the driver's cursor (``ancillary.driversql``): Core's execution layer cost more than the statement


def applies(session: Session) -> bool:
    """Whether bookings write in one statement here (PostgreSQL); elsewhere through the ORM."""
    return session.get_bind().dialect.name == "postgresql"


def book(session: Session, loaded, *, lane: int, eligible: bool, starts_at: datetime, ends_at: datetime, actor,
         now: datetime, settings, notify: bool, shown_to) -> Hearing:
    """``services.book``'s writes, the slot checked: the judge's SMS (``notify``) and the answer's
    access-log row (``shown_to``: (user, purpose)) composed, then all written in one statement."""
    case, room, judge = loaded.case, loaded.room, loaded.judge
    message = sms.booked(case, room, judge, starts_at, ends_at, now=now, settings=settings) if notify else None
    reader = None
    if shown_to is not None and case.parties:
        reader = (shown_to[0].id, [p.id for p in case.parties], shown_to[1])
    return insert_booked(session, case=case, room=room, judge=judge, starts_at=starts_at, ends_at=ends_at, lane=lane,
                         eligible=eligible, actor=actor, now=now, sms=message, reader=reader)


def insert_booked(session: Session, *, case, room, judge, starts_at: datetime, ends_at: datetime, lane: int,
                  eligible: bool, actor, now: datetime, sms: Sms | None, reader: tuple[int, list[int], str] | None
                  ) -> Hearing:
    """Write the booking in one statement; the hearing comes back in the session, case, room and judge set.

    ``reader``: (user id, party ids, purpose) of the access-log row for the answer, or None.
    Raises the ``IntegrityError`` of an exclusion constraint, with nothing written.
    """
    session.flush()  # what the caller changed before goes first, as the ORM's flush would order it
    actor_id = getattr(actor, "id", None)
    params = {
        "case_id": case.id, "courtroom_id": room.id, "judge_id": case.judge_id, "starts_at": starts_at,
        "ends_at": ends_at, "lane": lane, "eligible": eligible, "actor_id": actor_id, "now": now,
        "reason": TASK_REASON, "after": {"courtroom_id": room.id, "starts_at": starts_at.isoformat(),
                                         "ends_at": ends_at.isoformat(), "lane": lane},
        "with_sms": sms is not None, "sms_kind": sms and sms.kind, "sms_recipient": sms and sms.recipient_id,
        "sms_to": sms and sms.to_address, "sms_body": sms and sms.body, "sms_not_before": sms and sms.not_before,
        "with_reader": reader is not None, "reader_id": reader and reader[0],
        "party_ids": sorted(reader[1]) if reader else None, "purpose": reader and reader[2],
    }
    ((hearing_id,),) = _STATEMENT.rows(session, params)
    _forget_tasks(session, case.id)
    return _attached(session, Hearing(
        id=hearing_id, case_id=case.id, courtroom_id=room.id, judge_id=case.judge_id, starts_at=starts_at,
        ends_at=ends_at, lane=lane, is_overlap_eligible=eligible, status=HearingStatus.booked, sequence=0,
        booked_by_id=actor_id, created_at=now, updated_at=now, cancelled_at=None, cancel_reason=None),
        case=case, courtroom=room, judge=judge)


def refused(exc: IntegrityError, case_id: int) -> Conflict:
    """The 409 for a hearing an exclusion constraint refused; any other integrity error goes on.

    The row locks taken before the rules were checked keep bookings through this package
    from ever reaching the constraint; it stands against writes that bypass them. No
    savepoint is paid for on every booking: the refused transaction cannot go on, so the
    409 says the slot was taken meanwhile and the request boundary rolls back.
    """
    name = str(getattr(getattr(exc.orig, "diag", None), "constraint_name", None) or "")
    if "hearings_no_" not in name:
        raise exc
    log.info("exclusion constraint %s refused hearing of case %s", name, case_id)
    return Conflict("double_booked", "the slot was taken meanwhile; try again", field="starts_at")


def _attached(session: Session, hearing: Hearing, **related) -> Hearing:
    """The hearing as if loaded: persistent in the session, nothing to write, its relations set."""
    make_transient_to_detached(hearing)
    session.add(hearing)
    for name, value in related.items():
        set_committed_value(hearing, name, value)
    return hearing


def _forget_tasks(session: Session, case_id: int) -> None:
    """Tasks of the case already in the session were written behind the ORM's back: reload them when read."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Task) and obj.case_id == case_id:
            session.expire(obj)
