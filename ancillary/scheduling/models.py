"""Courtrooms: the court's rooms, by venue, with their opening hours."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import Boolean, CheckConstraint, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ancillary.db import Base


class Courtroom(Base):
    __tablename__ = "courtrooms"
    __table_args__ = (
        UniqueConstraint("venue", "name"),
        CheckConstraint("opens < closes", name="hours_order"),
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    venue: Mapped[str] = mapped_column(String(100), index=True)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)
    capacity: Mapped[int] = mapped_column(Integer, default=30)
    has_video: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
