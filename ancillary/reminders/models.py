"""Reminders' own records: the node dates of enforcement cases. Messages, their items
and opt-outs are the outbox's (``ancillary.outbox``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ancillary.db import Base


class EnforcementRecord(Base):
    """The node dates of an enforcement case, recorded by its officer or follow-up post."""

    __tablename__ = "enforcement_records"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    property_search_started_at: Mapped[datetime | None]
    fully_seized_at: Mapped[datetime | None] = mapped_column(index=True)
    auction_at: Mapped[datetime | None] = mapped_column(index=True)
    auction_measures_at: Mapped[datetime | None]
    payment_received_at: Mapped[datetime | None] = mapped_column(index=True)
    payment_released_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SweepMark(Base):
    """How far a sweep has looked: the instant of its last successful run and what it ran with.

    Written in the sweep's own transaction, so a sweep that fails leaves it where it was.
    ``fingerprint`` sums up the settings and pairings the run used: when they change, the
    next run looks over the whole lookback again instead of only what is new.
    """

    __tablename__ = "sweep_marks"

    sweep: Mapped[str] = mapped_column(String(64), primary_key=True)
    swept_to: Mapped[datetime]
    fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
