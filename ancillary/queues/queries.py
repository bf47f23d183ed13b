"""Read side of the queues: who may see which tasks, in working order."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from ancillary.auth.models import Role, User
from ancillary.auth.policy import paired_officer_ids
from ancillary.errors import Forbidden
from ancillary.queues.models import Queue, Task, TaskStatus

# The queues each contractor role works and sees.
ROLE_QUEUES: dict[Role, frozenset[Queue]] = {
    Role.intake_clerk: frozenset({Queue.pre_trial}),
    Role.scheduler: frozenset({Queue.trial, Queue.enforcement}),
    Role.service_clerk: frozenset({Queue.service}),
    Role.archivist: frozenset({Queue.archive}),
    Role.contractor_manager: frozenset(Queue),
    Role.court_admin: frozenset(Queue),
}


def visible_tasks(session: Session, user: User, queue: Queue | None) -> Select:
    """``select(Task)`` limited to what ``user`` may see, or Forbidden."""
    from ancillary.cases.models import Case

    query = select(Task).options(joinedload(Task.case))
    if user.role in ROLE_QUEUES:
        allowed = ROLE_QUEUES[user.role]
        if queue is not None and queue not in allowed:
            raise Forbidden("queue_not_allowed", "the {role} role does not work the {queue} queue",
                            field="queue", role=user.role.value, queue=queue.value)
        return query.where(Task.queue.in_([queue] if queue else allowed))
    if user.role in (Role.judge, Role.enforcement_officer):
        officers = [user.id]
    elif user.role == Role.follow_up:
        officers = paired_officer_ids(session, user)
    else:
        raise Forbidden("no_task_access", "the {role} role sees no tasks", role=user.role.value)
    query = query.join(Case, Case.id == Task.case_id).where(Case.judge_id.in_(officers))
    return query.where(Task.queue == queue) if queue else query


def working_order(query: Select) -> Select:
    """Speedy cases first, then the earliest due."""
    return query.order_by(Task.priority, Task.due_at, Task.id)




def posts_with_workload(session: Session, now, *, group=None, kind=None, limit=100, offset=0) -> list[dict]:
    """Every post with its holder and how many tasks they hold, and how many are overdue."""
    from sqlalchemy import case, func

    from ancillary.queues.models import Group, Post

    held = (
        select(
            Task.assignee_id.label("user_id"),
            func.count().label("held"),
            func.sum(case((Task.due_at < now, 1), else_=0)).label("overdue"),
        )
        .where(Task.status == TaskStatus.claimed)
        .group_by(Task.assignee_id)
        .subquery()
    )
    query = (
        select(Post, User, Group.code, held.c.held, held.c.overdue)
        .join(User, User.id == Post.user_id)
        .join(Group, Group.id == Post.group_id)
        .outerjoin(held, held.c.user_id == Post.user_id)
        .order_by(Group.code, Post.kind, User.username)
    )
    if group:
        query = query.where(Group.code == group)
    if kind:
        query = query.where(Post.kind == kind)
    rows = session.execute(query.limit(limit).offset(offset)).all()
    return [
        {
            "id": post.id,
            "user_id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "group": code.value if hasattr(code, "value") else code,
            "kind": post.kind,
            "officer_ids": [p.officer_id for p in post.pairings],
            "tasks_held": held_count or 0,
            "tasks_overdue": int(overdue or 0),
        }
        for post, user, code, held_count, overdue in rows
    ]
