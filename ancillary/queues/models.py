"""The contractor's groups and posts, follow-up pairings, and the tasks in its queues."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint, bindparam, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ancillary.audit.services import record, record_many
from ancillary.auth.models import Role
from ancillary.db import Base, str_enum
from ancillary.errors import Conflict, Forbidden


class GroupCode(enum.StrEnum):
    pre_trial = "pre_trial"
    trial = "trial"
    enforcement = "enforcement"
    archive = "archive"


class Queue(enum.StrEnum):
    pre_trial = "pre_trial"
    trial = "trial"
    enforcement = "enforcement"
    service = "service"
    archive = "archive"


class TaskKind(enum.StrEnum):
    schedule_hearing = "schedule_hearing"
    serve = "serve"
    archive = "archive"


class TaskStatus(enum.StrEnum):
    open = "open"
    claimed = "claimed"
    done = "done"
    cancelled = "cancelled"


OPEN_STATES = (TaskStatus.open, TaskStatus.claimed)
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


class SlaState(enum.StrEnum):
    open = "open"
    due_soon = "due_soon"
    overdue = "overdue"
    met = "met"
    missed = "missed"


class Group(Base):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[GroupCode] = mapped_column(str_enum(GroupCode, "group_code"), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Post(Base):
    """A contractor post held by one staff member, in one group."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]

    group: Mapped[Group] = relationship()
    pairings: Mapped[list[FollowUpPairing]] = relationship(
        back_populates="post", cascade="all, delete-orphan", order_by="FollowUpPairing.officer_id"
    )


class FollowUpPairing(Base):
    """A follow-up post watches the nodes of one judge or enforcement officer."""

    __tablename__ = "follow_up_pairings"
    __table_args__ = (UniqueConstraint("post_id", "officer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    post: Mapped[Post] = relationship(back_populates="pairings")


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("status = 'open' OR status = 'cancelled' OR assignee_id IS NOT NULL", name="assigned"),
        Index("ix_tasks_queue_status_due", "queue", "status", "due_at"),
        Index("ix_tasks_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[Queue] = mapped_column(str_enum(Queue, "queue"))
    kind: Mapped[TaskKind] = mapped_column(str_enum(TaskKind, "task_kind"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    party_id: Mapped[int | None] = mapped_column(ForeignKey("parties.id"), index=True)
    priority: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus, "task_status"), default=TaskStatus.open)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(500))

    case: Mapped[Case] = relationship()  # noqa: F821

    def sla_state(self, now: datetime) -> SlaState:
        """Where the task stands against its deadline at ``now``.

        Due soon: less than a fifth of its window left (36 min of a 3-hour task,
        6 days of a 30-day one).
        """
        if self.status in (TaskStatus.done, TaskStatus.cancelled):
            end = self.completed_at or now
            return SlaState.met if end <= self.due_at else SlaState.missed
        if now > self.due_at:
            return SlaState.overdue
        if (self.due_at - now) * 5 < (self.due_at - self.created_at):
            return SlaState.due_soon
        return SlaState.open

    # --- transitions: each owns its rule and its audit entry; none commits ------------------

    @classmethod
    def open_for(cls, session: Session, *, queue: Queue, kind: TaskKind, case, now: datetime, due_at: datetime,
                 party_id: int | None = None, reason: str | None = None, actor=None) -> Task:
        """A new open task on ``case``'s work, sorted by the case's kind."""
        task = cls.new(queue=queue, kind=kind, case=case, now=now, due_at=due_at, party_id=party_id)
        session.add(task)
        session.flush()
        task.record_opened(session, actor, now=now, reason=reason)
        return task

    @classmethod
    def new(cls, *, queue: Queue, kind: TaskKind, case, now: datetime, due_at: datetime,
            party_id: int | None = None) -> Task:
        """``open_for``'s task, not yet added: the caller adds several, flushes once, then ``record_opened``."""
        return cls(queue=queue, kind=kind, case_id=case.id, party_id=party_id, priority=KIND_PRIORITY[case.kind.value],
                   status=TaskStatus.open, created_at=now, due_at=due_at)

    def record_opened(self, session: Session, actor, *, now: datetime, reason: str | None = None) -> None:
        """The audit entry of a task just opened (and flushed)."""
        after = {"kind": self.kind.value, "queue": self.queue.value} | ({"reason": reason} if reason else {})
        record(session, actor, "task.create", self, now=now, after=after)

    def claim(self, session: Session, actor, *, now: datetime) -> Task:
        """Take the open task; of two racing claims exactly one wins, the other gets 409."""
        if actor.role not in QUEUE_ROLES[self.queue]:
            raise Forbidden("wrong_queue", "the {queue} queue is not worked by {role}",
                            queue=self.queue.value, role=actor.role.value)
        # One conditional UPDATE: the database decides the race, on SQLite and PostgreSQL alike;
        # it answers the row as it now is (RETURNING), so the winner reads nothing after.
        won = session.execute(_CLAIM, {"task_id": self.id, "claimer_id": actor.id, "claimed": now}).scalar_one_or_none()
        if won is None:
            session.refresh(self)
            raise Conflict("already_claimed" if self.status == TaskStatus.claimed else "task_not_open",
                           "this task is {status}", field="task_id", id=self.id, status=self.status.value,
                           assignee_id=self.assignee_id)
        record(session, actor, "task.claim", self, now=now, before={"status": "open"},
               after={"status": "claimed", "assignee_id": actor.id})
        return self

    def release(self, session: Session, actor, *, now: datetime) -> Task:
        """Give the claimed task back to its queue (the holder, or a contractor manager)."""
        if self.status != TaskStatus.claimed:
            raise Conflict("task_not_claimed", "this task is {status}", field="task_id",
                           id=self.id, status=self.status.value)
        if self.assignee_id != actor.id and actor.role != Role.contractor_manager:
            raise Forbidden("not_your_task", "this task is held by someone else", id=self.id)
        before = {"status": "claimed", "assignee_id": self.assignee_id}
        self.status, self.assignee_id, self.claimed_at = TaskStatus.open, None, None
        session.flush()
        record(session, actor, "task.release", self, now=now, before=before, after={"status": "open"})
        return self

    def complete(self, session: Session, actor, *, now: datetime, note: str | None = None) -> Task:
        """Mark the task one holds as done."""
        if self.status != TaskStatus.claimed:
            raise Conflict("task_not_claimed", "this task is {status}; claim it first", field="task_id",
                           id=self.id, status=self.status.value)
        if self.assignee_id != actor.id:
            raise Forbidden("not_your_task", "this task is held by someone else", id=self.id)
        self.status, self.completed_at, self.note = TaskStatus.done, now, note
        session.flush()
        record(session, actor, "task.complete", self, now=now, before={"status": "claimed"}, after={"status": "done"})
        return self

    def finish(self, session: Session, *, actor, now: datetime, reason: str, adopt: bool = True,
               flush: bool = True) -> Task:
        """The work was done elsewhere (a hearing booked, a file archived, an order served).

        Done by whoever holds the task, or by ``actor`` when ``adopt``; cancelled when
        nobody did it (the system booked the hearing). A task already closed stays so.
        Without ``flush`` the caller flushes once for many tasks (bulk booking).
        """
        if self.status not in OPEN_STATES:
            return self
        before = {"status": self.status.value, "assignee_id": self.assignee_id}
        if adopt and self.assignee_id is None:
            self.assignee_id = getattr(actor, "id", None)
        holds = self.assignee_id is not None and (adopt or self.status == TaskStatus.claimed)
        self.status = TaskStatus.done if holds else TaskStatus.cancelled
        self.completed_at, self.note = now, reason
        if flush:
            session.flush()
        record(session, actor, "task.complete", self, now=now, before=before,
               after={"status": self.status.value, "reason": reason})
        return self

    @classmethod
    def finish_for_cases(cls, session: Session, case_ids: list[int], kind: TaskKind, *, actor, now: datetime,
                         reason: str) -> int:
        """``finish`` (adopting) every open task of ``kind`` of ``case_ids``, in a few statements, not one per task.

        Writes what ``finish`` writes, row for row: the tasks' new state and a ``task.complete``
        audit entry each. Returns how many tasks were finished.
        """
        actor_id = getattr(actor, "id", None)
        rows = session.execute(select(cls.id, cls.case_id, cls.status, cls.assignee_id).where(
            cls.case_id.in_(case_ids), cls.kind == kind, cls.status.in_(OPEN_STATES))
            .order_by(cls.id)).all()  # the audit log in the same order on every run and database
        adopted = [row.id for row in rows if row.assignee_id is None]
        held = [row.id for row in rows if row.assignee_id is not None]
        orphan = TaskStatus.done if actor_id is not None else TaskStatus.cancelled
        changes = ((adopted, {"assignee_id": actor_id, "status": orphan}), (held, {"status": TaskStatus.done}))
        for ids, values in changes:
            if ids:
                session.execute(update(cls).where(cls.id.in_(ids), cls.status.in_(OPEN_STATES))
                                .values(**values, completed_at=now, note=reason))
        record_many(session, [{
            "at": now, "actor_id": actor_id, "action": "task.complete", "object_type": cls.__tablename__,
            "object_id": row.id, "case_id": row.case_id,
            "before": {"status": row.status.value, "assignee_id": row.assignee_id},
            "after": {"status": (orphan if row.assignee_id is None else TaskStatus.done).value, "reason": reason},
        } for row in rows])
        return len(rows)

    def cancel(self, session: Session, *, now: datetime, reason: str, actor=None) -> Task:
        """No one needs the work any more (the case was closed); a closed task stays so."""
        if self.status not in OPEN_STATES:
            return self
        self.status, self.completed_at = TaskStatus.cancelled, now
        session.flush()
        record(session, actor, "task.cancel", self, now=now, after={"reason": reason})
        return self


# ``Task.claim``'s one conditional UPDATE, built once: every claim of every queue runs it.
_CLAIM = (update(Task).where(Task.id == bindparam("task_id"), Task.status == TaskStatus.open)
          .values(status=TaskStatus.claimed, assignee_id=bindparam("claimer_id", type_=Integer()),
                  claimed_at=bindparam("claimed", type_=Task.__table__.c.claimed_at.type))
          .returning(Task).execution_options(synchronize_session=False, populate_existing=True))
