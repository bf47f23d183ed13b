"""A further hearing: a case heard but not decided goes back to the scheduling queue.

The seed's trial follow-up posts prompt "a second hearing date when a case was heard but
not reported closed in time" (the ``heard_not_closed`` reminder); the case's judge, a
follow-up post paired with that judge, or a scheduler asks here. The case gets an open
scheduling task, so the scheduling sweep and auto-scheduling book it like a new case, and
a scheduler can book it by hand from the suggestions. The booking rules stay as they are:
a case may hold one hearing still to come, and any number already held.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.auth.models import OFFICER_ROLES, Role, User
from ancillary.auth.policy import paired_officer_ids
from ancillary.cases.models import Case, CaseStatus
from ancillary.errors import Conflict, Forbidden
from ancillary.queues.models import OPEN_STATES, Queue, Task, TaskKind
from ancillary.scheduling import booking
from ancillary.scheduling.models import Hearing, HearingStatus


def check_may_ask(session: Session, actor: User, case: Case) -> None:
    """The case's judge or officer, a follow-up post paired with them, or a scheduler."""
    if actor.role == Role.scheduler:
        return
    if actor.role in OFFICER_ROLES and case.judge_id == actor.id:
        return
    if actor.role == Role.follow_up and case.judge_id in paired_officer_ids(session, actor):
        return
    raise Forbidden("not_your_case", "only the case's judge, a follow-up post paired with the judge or a scheduler "
                    "may ask for a further hearing", id=case.id)


def request_further_hearing(session: Session, hearing: Hearing, *, actor, now: datetime,
                            settings) -> tuple[Task, bool]:
    """Open the scheduling task for the hearing after ``hearing`` (held, case still open).

    Answers (task, created): asking again while the task is open answers the same task.
    """
    case = session.get(Case, hearing.case_id)
    check_may_ask(session, actor, case)
    if hearing.status != HearingStatus.booked:
        raise Conflict("hearing_not_booked", "this hearing is {status}", field="hearing_id", id=hearing.id,
                       status=hearing.status.value)
    if hearing.ends_at > now:
        raise Conflict("hearing_not_held", "this hearing has not been held yet: move it rather than ask for another",
                       field="hearing_id", id=hearing.id)
    if case.status != CaseStatus.open:
        raise Conflict("case_not_open", "case {number} is {status}: it is not scheduled", field="case_id",
                       number=case.number, status=case.status.value)
    upcoming = session.scalar(select(Hearing).where(
        Hearing.case_id == case.id, Hearing.status == HearingStatus.booked, Hearing.ends_at > now)
        .order_by(Hearing.starts_at).limit(1))
    if upcoming is not None:
        raise booking.already_booked(case, upcoming, settings.timezone)
    task = session.scalar(select(Task).where(Task.case_id == case.id, Task.kind == TaskKind.schedule_hearing,
                                             Task.status.in_(OPEN_STATES)).limit(1))
    if task is not None:
        return task, False
    queue = Queue.enforcement if case.kind.value == "enforcement" else Queue.trial
    task = Task.open_for(session, queue=queue, kind=TaskKind.schedule_hearing, case=case, now=now,
                         due_at=now + timedelta(hours=settings.scheduling_task_hours), reason="further hearing",
                         actor=actor)
    return task, True
