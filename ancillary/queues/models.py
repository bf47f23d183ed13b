"""The contractor's groups and posts, follow-up pairings, and the tasks in its queues."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ancillary.db import Base, str_enum


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

    case: Mapped["Case"] = relationship()  # noqa: F821

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
