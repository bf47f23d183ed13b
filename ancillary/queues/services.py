"""Tasks born of domain events, and the claim / release / complete moves on them."""

from __future__ import annotations

from datetime import datetime, timedelta

from blinker import Namespace
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import OFFICER_ROLES, Role, User
from ancillary.errors import Conflict, Forbidden, Invalid, NotFound
from ancillary.timeutil import period_end_days
from ancillary.queues.models import FollowUpPairing, Group, GroupCode, Post, Queue, Task, TaskKind, TaskStatus

# Which role works which queue: only they may claim its tasks.
QUEUE_ROLES: dict[Queue, frozenset[Role]] = {
    Queue.pre_trial: frozenset({Role.intake_clerk}),
    Queue.trial: frozenset({Role.scheduler}),
    Queue.enforcement: frozenset({Role.scheduler}),
    Queue.service: frozenset({Role.service_clerk}),
    Queue.archive: frozenset({Role.archivist}),
}
# Lower sorts first: speedy cases lead every queue.
KIND_PRIORITY = {"speedy": 0, "summary": 1, "ordinary": 1, "enforcement": 1}
FOLLOW_UP_MIN, FOLLOW_UP_MAX = 3, 5
# Sent with the case when it is closed, after its open tasks are cancelled, with
# ``session``, ``now`` and ``settings``; receivers flush, not commit. Service of process
# withdraws its open orders; scheduling cancels the hearings still to come. Who listens is
# written out in ``ancillary.wiring``.
case_closed = Namespace().signal("queues.case-closed")


def _new_task(session, *, queue, kind, case, now, due_at, party_id=None) -> Task:
    task = Task(
        queue=queue,
        kind=kind,
        case_id=case.id,
        party_id=party_id,
        priority=KIND_PRIORITY[case.kind.value],
        status=TaskStatus.open,
        created_at=now,
        due_at=due_at,
    )
    session.add(task)
    return task


def on_case_filed(session: Session, case, *, now: datetime, settings) -> list[Task]:
    """Filing opens a scheduling task (due +3 h) and a serve task per defendant."""
    from ancillary.cases.models import CaseKind, PartyRole

    queue = Queue.enforcement if case.kind == CaseKind.enforcement else Queue.trial
    start = case.filed_at
    tasks = [
        _new_task(
            session,
            queue=queue,
            kind=TaskKind.schedule_hearing,
            case=case,
            now=now,
            due_at=start + timedelta(hours=settings.scheduling_task_hours),
        )
    ]
    for party in case.parties:
        if party.role == PartyRole.defendant:
            tasks.append(
                _new_task(
                    session,
                    queue=Queue.service,
                    kind=TaskKind.serve,
                    case=case,
                    now=now,
                    due_at=start + timedelta(days=settings.serve_task_days),
                    party_id=party.id,
                )
            )
    session.flush()
    for task in tasks:
        record(session, None, "task.create", task, now=now, after={"kind": task.kind.value, "queue": task.queue.value})
    return tasks


def on_case_closed(session: Session, case, *, now: datetime, settings) -> Task:
    """Closing cancels the open scheduling and serve tasks and opens the archive task, due at
    the end of the 30th day after closing; then the receivers of ``case_closed`` are told."""
    for task in session.scalars(
        select(Task).where(
            Task.case_id == case.id,
            Task.kind.in_([TaskKind.schedule_hearing, TaskKind.serve]),
            Task.status.in_([TaskStatus.open, TaskStatus.claimed]),
        )
    ):
        task.status = TaskStatus.cancelled
        task.completed_at = now
        record(session, None, "task.cancel", task, now=now, after={"reason": "case closed"})
    task = _new_task(
        session,
        queue=Queue.archive,
        kind=TaskKind.archive,
        case=case,
        now=now,
        due_at=period_end_days(case.closed_at, settings.archive_days, settings.timezone),
    )
    session.flush()
    record(session, None, "task.create", task, now=now, after={"kind": "archive", "queue": "archive"})
    case_closed.send(case, session=session, now=now, settings=settings)
    return task


def get_task(session: Session, task_id: int) -> Task:
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound("task_not_found", "no task with id {id}", field="task_id", id=task_id)
    return task


def claim(session: Session, task_id: int, *, actor: User, now: datetime) -> Task:
    """Take an open task; of two racing claims exactly one wins, the other gets 409."""
    task = get_task(session, task_id)
    if actor.role not in QUEUE_ROLES[task.queue]:
        raise Forbidden("wrong_queue", "the {queue} queue is not worked by {role}",
                        queue=task.queue.value, role=actor.role.value)
    # One conditional UPDATE: the database decides the race, on SQLite and PostgreSQL alike.
    result = session.execute(
        update(Task)
        .where(Task.id == task_id, Task.status == TaskStatus.open)
        .values(status=TaskStatus.claimed, assignee_id=actor.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(task)
        raise Conflict(
            "already_claimed" if task.status == TaskStatus.claimed else "task_not_open",
            "task {id} is {status}",
            field="task_id",
            id=task_id,
            status=task.status.value,
            assignee_id=task.assignee_id,
        )
    session.refresh(task)
    record(session, actor, "task.claim", task, now=now, before={"status": "open"},
           after={"status": "claimed", "assignee_id": actor.id})
    return task


def release(session: Session, task_id: int, *, actor: User, now: datetime) -> Task:
    """Give a claimed task back to its queue (the holder, or a contractor manager)."""
    task = get_task(session, task_id)
    if task.status != TaskStatus.claimed:
        raise Conflict("task_not_claimed", "task {id} is {status}", field="task_id",
                       id=task_id, status=task.status.value)
    if task.assignee_id != actor.id and actor.role != Role.contractor_manager:
        raise Forbidden("not_your_task", "task {id} is held by someone else", id=task_id)
    before = {"status": "claimed", "assignee_id": task.assignee_id}
    task.status, task.assignee_id, task.claimed_at = TaskStatus.open, None, None
    session.flush()
    record(session, actor, "task.release", task, now=now, before=before, after={"status": "open"})
    return task


def complete(session: Session, task_id: int, *, actor: User, now: datetime, note: str | None = None) -> Task:
    """Mark a task one holds as done."""
    task = get_task(session, task_id)
    if task.status != TaskStatus.claimed:
        raise Conflict("task_not_claimed", "task {id} is {status}; claim it first", field="task_id",
                       id=task_id, status=task.status.value)
    if task.assignee_id != actor.id:
        raise Forbidden("not_your_task", "task {id} is held by someone else", id=task_id)
    task.status, task.completed_at, task.note = TaskStatus.done, now, note
    session.flush()
    record(session, actor, "task.complete", task, now=now, before={"status": "claimed"}, after={"status": "done"})
    return task


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
        raise Invalid("unknown_user", "no user with id {id}", field="user_id", id=user_id)
    if user.role != Role.follow_up:
        raise Invalid("not_follow_up", "user {id} is {role}, not follow_up", field="user_id",
                      id=user_id, role=user.role.value)
    if session.scalar(select(Post.id).where(Post.user_id == user_id)) is not None:
        raise Conflict("post_exists", "user {id} already holds a post", field="user_id", id=user_id)
    officers = {u.id: u for u in session.scalars(select(User).where(User.id.in_(officer_ids)))}
    for index, officer_id in enumerate(officer_ids):
        officer = officers.get(officer_id)
        if officer is None or officer.role not in OFFICER_ROLES:
            raise Invalid(
                "not_an_officer", "user {id} is not a judge or enforcement officer",
                field=f"officer_ids.{index}",
                id=officer_id,
            )
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
