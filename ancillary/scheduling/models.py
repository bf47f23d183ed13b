"""Courtrooms, the court calendar, blockings, hearings and judges' calendar feeds.

No courtroom and no judge is double-booked. On PostgreSQL the database itself
refuses it with two exclusion constraints over ``tstzrange(starts_at, ends_at)``
(``btree_gist``); on SQLite every transaction opens with BEGIN IMMEDIATE, so the
check in ``scheduling.services`` runs alone. Overlap booking (two mediation-likely
tribunal hearings in one slot) is modelled as a *lane*: lane 0 is the ordinary
slot, lane 1 the second hearing of an overlap pair; the constraints are per lane,
so at most two hearings ever share a room at an instant.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
    column,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ancillary.db import Base, str_enum


class Courtroom(Base):
    __tablename__ = "courtrooms"
    __table_args__ = (
        UniqueConstraint("venue", "name"),
        CheckConstraint("opens < closes", name="hours_order"),
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity_range"),
        CheckConstraint("(lunch_starts IS NULL) = (lunch_ends IS NULL)", name="lunch_both"),
        CheckConstraint("lunch_starts IS NULL OR (opens <= lunch_starts AND lunch_starts < lunch_ends"
                        " AND lunch_ends <= closes)", name="lunch_inside"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    venue: Mapped[str] = mapped_column(String(100), index=True)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    # The room's lunch break (local times), when nothing is heard; both NULL: no break.
    lunch_starts: Mapped[time | None] = mapped_column(Time)
    lunch_ends: Mapped[time | None] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer, default=30)
    has_video: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class CourtDay(Base):
    """An exception to the Monday-Friday rule: a public holiday or a make-up working day."""

    __tablename__ = "court_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(100))
    # official: the State Council's notice; provisional: statutory days known before
    # the notice is out; admin: entered or changed by the management office.
    source: Mapped[str] = mapped_column(String(16), default="admin")
    updated_at: Mapped[datetime]


class Blocking(Base):
    """A period when a courtroom cannot be booked (repairs) or an officer is away (leave)."""

    __tablename__ = "blockings"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="period_order"),
        CheckConstraint("(courtroom_id IS NULL) <> (user_id IS NULL)", name="one_subject"),
        Index("ix_blockings_courtroom_period", "courtroom_id", "starts_at"),
        Index("ix_blockings_user_period", "user_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    courtroom_id: Mapped[int | None] = mapped_column(ForeignKey("courtrooms.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class HearingStatus(enum.StrEnum):
    booked = "booked"
    cancelled = "cancelled"


def _during():
    return func.tstzrange(column("starts_at"), column("ends_at"), text("'[)'"))


class Hearing(Base):
    __tablename__ = "hearings"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="period_order"),
        CheckConstraint("lane IN (0, 1)", name="lane_range"),
        Index("ix_hearings_courtroom_starts", "courtroom_id", "starts_at"),
        Index("ix_hearings_judge_starts", "judge_id", "starts_at"),
        ExcludeConstraint(
            (column("courtroom_id"), "="),
            (column("lane"), "="),
            (_during(), "&&"),
            where=text("status = 'booked'"),
            using="gist",
            name="hearings_no_room_overlap",
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            (column("judge_id"), "="),
            (column("lane"), "="),
            (_during(), "&&"),
            where=text("status = 'booked'"),
            using="gist",
            name="hearings_no_judge_overlap",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    courtroom_id: Mapped[int] = mapped_column(ForeignKey("courtrooms.id"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    lane: Mapped[int] = mapped_column(Integer, default=0)
    # The case could share its slot when booked (tribunal, served in person, mediation likely).
    is_overlap_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[HearingStatus] = mapped_column(str_enum(HearingStatus, "hearing_status"),
                                                  default=HearingStatus.booked)
    # RFC 5545 SEQUENCE: bumped on every move or cancellation, so phones update the event.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(200))

    case: Mapped[Case] = relationship()  # noqa: F821
    courtroom: Mapped[Courtroom] = relationship()
    judge: Mapped[User] = relationship(viewonly=True, foreign_keys=[judge_id])  # noqa: F821


# A hearing lies inside one day's opening hours (the booking rules refuse it otherwise), so one that
# overlaps a stretch starts less than a day before it: reads bound ``starts_at`` on both sides, and the
# (room, start) and (judge, start) indexes find a few days' hearings instead of every earlier one.
LONGEST_HEARING = timedelta(days=1)


def overlapping(start: datetime, end: datetime) -> tuple:
    """The conditions on the hearings that overlap [start, end)."""
    return Hearing.starts_at < end, Hearing.ends_at > start, Hearing.starts_at > start - LONGEST_HEARING


class CalendarFeed(Base):
    """A judge's secret iCalendar feed token (only its SHA-256 is kept)."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class ProposalStatus(enum.StrEnum):
    proposed = "proposed"  # waiting for a scheduler
    accepted = "accepted"  # booked through the normal booking path
    rejected = "rejected"  # a scheduler said no: the case stays with people
    withdrawn = "withdrawn"  # the sweep dropped it: booked meanwhile, slot taken or passed, case closed


class HearingProposal(Base):
    """A slot the scheduling sweep proposes for a newly filed case, until a scheduler decides.

    At most one open proposal per case (a partial unique index), so a sweep run twice for
    the same instant, or by two processes at once, proposes once.
    """

    __tablename__ = "hearing_proposals"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="period_order"),
        Index("uq_hearing_proposals_open_case", "case_id", unique=True,
              sqlite_where=text("status = 'proposed'"), postgresql_where=text("status = 'proposed'")),
        Index("ix_hearing_proposals_status_starts", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    courtroom_id: Mapped[int] = mapped_column(ForeignKey("courtrooms.id"))
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    lane: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[ProposalStatus] = mapped_column(str_enum(ProposalStatus, "proposal_status"),
                                                   default=ProposalStatus.proposed)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    hearing_id: Mapped[int | None] = mapped_column(ForeignKey("hearings.id"))
    reason: Mapped[str | None] = mapped_column(String(200))  # why rejected (a person's words) or withdrawn (a code)

    case: Mapped[Case] = relationship()  # noqa: F821
    courtroom: Mapped[Courtroom] = relationship()

    @property
    def is_overlap(self) -> bool:
        return self.lane == 1
