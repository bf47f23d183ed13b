"""What the scheduler processes write so that others can see them alive, and sweeps run once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from ancillary.db import Base


class SchedulerBeat(Base):
    """One row per scheduler process (``host:pid``), rewritten every heartbeat period.

    ``/readyz`` is ready when the leader's ``beat_at`` is younger than twice the period.
    Rows of dead processes stay (they say when each was last seen) until pruned.
    """

    __tablename__ = "scheduler_beats"

    node: Mapped[str] = mapped_column(String(200), primary_key=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)


class SweepRun(Base):
    """A sweep done for a tick instant, committed with the sweep's own work.

    The primary key makes a sweep run at most once per instant, whichever scheduler
    process (a new leader after a takeover) tries it again.
    """

    __tablename__ = "sweep_runs"

    sweep: Mapped[str] = mapped_column(String(200), primary_key=True)
    instant: Mapped[datetime] = mapped_column(primary_key=True)
    node: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[datetime]
