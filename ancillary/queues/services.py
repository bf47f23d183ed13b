"""Tasks born of domain events; the moves on them are ``Task``'s own (``queues/models.py``)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from blinker import Namespace
from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.models import AuditEntry
from ancillary.audit.services import record
from ancillary.auth.models import OFFICER_ROLES, Role, User
from ancillary.cases.models import CaseKind, PartyRole
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Conflict, Invalid, RateLimited
from ancillary.queues.models import (
    OPEN_STATES,
    FollowUpPairing,
    Group,
    GroupCode,
    Post,
    Queue,
    Task,
    TaskKind,
)
from ancillary.timeutil import period_end_days

FOLLOW_UP_MIN, FOLLOW_UP_MAX = 3, 5
# Sent with the case when it is closed, after its open tasks are cancelled, with
# ``session``, ``now`` and ``settings``; receivers flush, not commit. Service of process
# withdraws its open orders; scheduling cancels the hearings still to come. Who listens is
# written out in ``ancillary.wiring``.
case_closed = Namespace().signal("queues.case-closed")


def tasks_at_filing(case, *, now: datetime, settings) -> list[Task]:
    """Filing opens a scheduling task (due +3 h) and a serve task per defendant: built here, not added;
    filing adds them with the rest of the case, flushes once, then records each (``Task.record_opened``)."""
    queue = Queue.enforcement if case.kind == CaseKind.enforcement else Queue.trial
    start = case.filed_at
    tasks = [Task.new(queue=queue, kind=TaskKind.schedule_hearing, case=case, now=now,
                      due_at=start + timedelta(hours=settings.scheduling_task_hours))]
    tasks += [Task.new(queue=Queue.service, kind=TaskKind.serve, case=case, now=now,
                       due_at=start + timedelta(days=settings.serve_task_days), party_id=party.id)
              for party in case.parties if party.role == PartyRole.defendant]
    return tasks


def on_case_closed(session: Session, case, *, now: datetime, settings) -> Task:
    """Closing cancels the open scheduling and serve tasks and opens the archive task, due at
    the end of the 30th day after closing; then the receivers of ``case_closed`` are told."""
    for task in session.scalars(select(Task).where(
            Task.case_id == case.id, Task.kind.in_([TaskKind.schedule_hearing, TaskKind.serve]),
            Task.status.in_(OPEN_STATES))).all():
        task.cancel(session, now=now, reason="case closed")
    task = Task.open_for(session, queue=Queue.archive, kind=TaskKind.archive, case=case, now=now,
                         due_at=period_end_days(case.closed_at, settings.archive_days, settings.timezone))
    case_closed.send(case, session=session, now=now, settings=settings)
    return task


def get_task(session: Session, task_id: int) -> Task:
    return get_or_404(session, Task, task_id, code="task_not_found",
                      message=N_("there is no such task: reload the queue and choose again"),
                      field="task_id")


def claim(session: Session, task_id: int, *, actor: User, now: datetime, settings=None) -> Task:
    """Take an open task; of two racing claims exactly one wins, the other gets 409."""
    task = get_task(session, task_id)
    if settings is not None:
        check_move_rate(session, task, actor, now=now, settings=settings)
    return task.claim(session, actor, now=now)


def release(session: Session, task_id: int, *, actor: User, now: datetime, settings=None) -> Task:
    """Give a claimed task back to its queue (the holder, or a contractor manager)."""
    task = get_task(session, task_id)
    if settings is not None:
        check_move_rate(session, task, actor, now=now, settings=settings)
    return task.release(session, actor, now=now)


SERVE_MOVES = ("task.claim", "task.release")


def serve_moves(actor_id: int, since: datetime):
    """When ``actor_id`` claimed or released a serve task after ``since``, oldest first."""
    return (select(AuditEntry.at).join(Task, Task.id == AuditEntry.object_id)
            .where(AuditEntry.actor_id == actor_id, AuditEntry.action.in_(SERVE_MOVES),
                   AuditEntry.object_type == Task.__tablename__, Task.kind == TaskKind.serve, AuditEntry.at > since)
            .order_by(AuditEntry.at))


def check_move_rate(session: Session, task: Task, actor: User, *, now: datetime, settings) -> None:
    """A service clerk claims and releases serve tasks at most ``serve_moves_per_hour`` times in
    any hour: each claim shows a recipient's contacts, so claiming and releasing in turn
    would harvest them. 429 with the seconds until the oldest move leaves the hour."""
    if task.kind != TaskKind.serve or actor.role != Role.service_clerk:
        return
    # One clerk's moves queue here (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already
    # serialises writers), so the count sees every move committed before this one.
    session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    limit = settings.serve_moves_per_hour
    times = session.scalars(serve_moves(actor.id, now - timedelta(hours=1))).all()
    if len(times) < limit:
        return
    seconds = max(1, math.ceil((times[len(times) - limit] + timedelta(hours=1) - now).total_seconds()))
    raise RateLimited("serve_moves_limited",
                      N_("you have claimed and released service tasks {limit} times in the last hour; "
                         "try again in {minutes} minutes"),
                      field="task_id", limit=limit, minutes=math.ceil(seconds / 60), retry_after=seconds)


def complete(session: Session, task_id: int, *, actor: User, now: datetime, note: str | None = None) -> Task:
    """Mark a task one holds as done."""
    return get_task(session, task_id).complete(session, actor, now=now, note=note)


def group(session: Session, code: GroupCode) -> Group:
    found = session.scalar(select(Group).where(Group.code == code))
    if found is None:
        found = Group(code=code, name=GROUP_NAMES[code])
        session.add(found)
        session.flush()
    return found


GROUP_NAMES = {
    GroupCode.pre_trial: "审前组",
    GroupCode.trial: "审判组",
    GroupCode.enforcement: "执行组",
    GroupCode.archive: "卷宗归档组",
}


def create_follow_up_post(
    session: Session, *, user_id: int, officer_ids: list[int], actor: User, now: datetime, group_code: str | None = None
) -> Post:
    """Pair a follow-up staff member with 3-5 judges or enforcement officers."""
    if not FOLLOW_UP_MIN <= len(set(officer_ids)) <= FOLLOW_UP_MAX or len(set(officer_ids)) != len(officer_ids):
        raise Invalid(
            "officer_count", "a follow-up post pairs {min}-{max} distinct officers",
            field="officer_ids",
            min=FOLLOW_UP_MIN,
            max=FOLLOW_UP_MAX,
        )
    user = session.get(User, user_id)
    if user is None:
        raise Invalid("unknown_user", "there is no such person: choose one from the list", field="user_id", id=user_id)
    if user.role != Role.follow_up:
        raise Invalid("not_follow_up", "{name} is a {role}, not follow-up staff", field="user_id",
                      name=user.display_name, role=user.role.value)
    if session.scalar(select(Post.id).where(Post.user_id == user_id)) is not None:
        raise Conflict("post_exists", "{name} already holds a post", field="user_id", name=user.display_name)
    officers = {u.id: u for u in session.scalars(select(User).where(User.id.in_(officer_ids)))}
    for index, officer_id in enumerate(officer_ids):
        officer = officers.get(officer_id)
        if officer is None:
            raise Invalid("unknown_user", "there is no such person: choose one from the list",
                          field=f"officer_ids.{index}")
        if officer.role not in OFFICER_ROLES:
            raise Invalid("not_an_officer", "{name} is not a judge or enforcement officer",
                          field=f"officer_ids.{index}", name=officer.display_name)
    if group_code is None:
        enforcement = all(officers[i].role == Role.enforcement_officer for i in officer_ids)
        group_code = GroupCode.enforcement if enforcement else GroupCode.trial
    post = Post(group_id=group(session, GroupCode(group_code)).id, user_id=user_id, kind="follow_up", created_at=now)
    post.pairings = [FollowUpPairing(officer_id=i) for i in officer_ids]
    session.add(post)
    session.flush()
    record(session, actor, "post.create", post, now=now, after={"user_id": user_id, "officer_ids": officer_ids})
    return post


def create_post(session: Session, *, user: User, group_code: GroupCode, kind: str, now: datetime) -> Post:
    post = Post(group_id=group(session, group_code).id, user_id=user.id, kind=kind, created_at=now)
    session.add(post)
    session.flush()
    return post
