"""One leading scheduler per court, a heartbeat others can read, and ticks that run once.

``ancillary scheduler`` may run on several machines. Each process tries to become the
leader; only the leader ticks:

- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock(LOCK_KEY)``) taken on
  a connection of its own, outside any pool. The lock lives as long as that session: when
  the leader dies (even kill -9) the server ends the session and frees the lock, and a
  standby, trying every ``poll_seconds``, takes over. TCP keepalives on the connection
  bound how long a vanished machine keeps it (about 15 s).
- SQLite: an exclusive ``flock`` on ``<database file>.scheduler.lock``; the kernel frees it
  when the process dies.

Ticks happen at instants aligned to the tick period (12:00, 12:05, ... for 300 s), so
every process names an instant the same way. Each sweep writes a ``SweepRun(sweep,
instant)`` row in its own transaction: a new leader repeating the instant its predecessor
died in skips the sweeps that committed and runs the ones that did not.

Every process writes its heartbeat row (``SchedulerBeat``) each ``heartbeat_seconds``;
``/readyz`` wants the leader's to be younger than twice that.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ancillary.extensions import db
from ancillary.jobs import MISFIRE_GRACE_SECONDS, run_sweeps
from ancillary.ops.models import SchedulerBeat, SweepRun
from ancillary.timeutil import utcnow

log = logging.getLogger(__name__)

LOCK_KEY = 0x616E63696C  # "ancil": one advisory lock per database
GRACEFUL_SECONDS = 30  # a running tick gets this long to finish when the process is told to stop


class AdvisoryLock:
    """PostgreSQL session-level advisory lock on a dedicated connection."""

    def __init__(self, url: str):
        self.engine = create_engine(url, poolclass=NullPool, connect_args={
            "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2,
            "keepalives_count": 3, "application_name": "ancillary scheduler"})
        self.conn = None

    def try_acquire(self) -> bool:
        try:
            if self.conn is None:
                self.conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return bool(self.conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}))
        except SQLAlchemyError as exc:
            log.warning("scheduler lock: database unreachable (%s)", exc.__class__.__name__)
            self._drop()
            return False

    def is_held(self) -> bool:
        try:
            return bool(self.conn.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                " AND granted AND ((classid::bigint << 32) | objid::bigint) = :key"), {"key": LOCK_KEY}))
        except SQLAlchemyError:
            self._drop()
            return False

    def release(self) -> None:
        self._drop()  # closing the session frees the lock, whatever state it is in

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self.conn.close()
            self.conn = None

    def close(self) -> None:
        self._drop()
        self.engine.dispose()


class FileLock:
    """An exclusive flock beside the SQLite file (one scheduler per database file)."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    def try_acquire(self) -> bool:
        if self.handle is None:
            self.handle = open(self.path, "a+")  # noqa: SIM115  (held open: the lock lives as long as the file)
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def is_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file frees the lock
            self.handle = None

    close = release


def leadership_for(database_url: str):
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        return AdvisoryLock(database_url)
    return FileLock(Path(f"{url.database}.scheduler.lock"))


def tick_instant(now: datetime, period_seconds: int) -> datetime:
    """The aligned tick instant at or before ``now`` (UTC multiples of the period)."""
    seconds = int(now.timestamp()) // period_seconds * period_seconds
    return datetime.fromtimestamp(seconds, UTC)


def claimer(node: str):
    """A ``run_sweeps`` claim: False when the sweep is done for this instant, else record it."""

    def claim(session, path: str, instant: datetime) -> bool:
        if session.get(SweepRun, (path, instant)) is not None:
            return False
        session.add(SweepRun(sweep=path, instant=instant, node=node, finished_at=utcnow()))
        session.flush()
        return True

    return claim


def beat(app, node: str, started_at: datetime, *, is_leader: bool) -> None:
    """Write this process's heartbeat; a database that is away is logged, not fatal."""
    with app.app_context():
        try:
            row = db.session.get(SchedulerBeat, node) or SchedulerBeat(node=node, started_at=started_at)
            row.is_leader, row.beat_at = is_leader, utcnow()
            db.session.add(row)
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("heartbeat not written: %s", exc.__class__.__name__)
        finally:
            db.session.remove()


def _step_down(app, node: str) -> None:
    with app.app_context():
        try:
            db.session.execute(update(SchedulerBeat).where(SchedulerBeat.node == node).values(is_leader=False))
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
        finally:
            db.session.remove()


class SchedulerProcess:
    """The body of ``ancillary scheduler``: wait to lead, then let APScheduler tick until stopped or deposed.

    While leading, an APScheduler ``BackgroundScheduler`` runs the ticks: an interval job on the
    aligned instants, ``coalesce=True`` with a one-hour ``misfire_grace_time`` (a tick that ran
    long, or a machine that slept, gives one late tick, not a burst), and one worker thread, so
    two ticks never run at once. The first tick, at once on taking the lead, catches up the
    instant a predecessor may have left half done. This thread meanwhile beats and watches the lock.
    """

    def __init__(self, app, *, node: str | None = None, first_tick_delay: float = 0):
        settings = app.config["SETTINGS"]
        self.app = app
        self.node = node or f"{socket.gethostname()}:{os.getpid()}"
        self.tick_seconds = settings.tick_seconds
        self.beat_seconds = settings.heartbeat_seconds
        self.poll_seconds = min(2.0, settings.heartbeat_seconds)
        self.stop = threading.Event()
        self.started_at = utcnow()
        self.first_tick_delay = timedelta(seconds=first_tick_delay)

    def run(self) -> None:
        lock = leadership_for(self.app.config["SETTINGS"].database_url)
        try:
            while not self.stop.is_set():
                if lock.try_acquire():
                    self._lead(lock)  # returns once its last tick is over: nobody else starts meanwhile
                    lock.release()
                else:
                    beat(self.app, self.node, self.started_at, is_leader=False)
                    self.stop.wait(self.poll_seconds)
        finally:
            lock.close()
            _step_down(self.app, self.node)

    def ticker(self, func=None) -> BackgroundScheduler:
        """The APScheduler that ticks while this process leads (``func`` replaces the tick in tests)."""
        scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
            timezone=UTC)
        first = utcnow() + self.first_tick_delay
        scheduler.add_job(func or self._tick, DateTrigger(run_date=first, timezone=UTC), id="catch-up")
        aligned = tick_instant(first, self.tick_seconds) + timedelta(seconds=self.tick_seconds)
        scheduler.add_job(func or self._tick, IntervalTrigger(seconds=self.tick_seconds, start_date=aligned,
                                                              timezone=UTC), id="tick")
        return scheduler

    def _lead(self, lock) -> None:
        log.info("scheduler %s leads", self.node)
        scheduler = self.ticker()
        scheduler.start()
        try:
            while not self.stop.is_set():
                if not lock.is_held():
                    log.warning("scheduler %s lost its lock; it waits to lead again", self.node)
                    return
                beat(self.app, self.node, self.started_at, is_leader=True)
                self.stop.wait(self.beat_seconds)
        finally:
            self._stop_ticking(scheduler)

    def _tick(self) -> None:
        instant = tick_instant(utcnow(), self.tick_seconds)
        for path, outcome in run_sweeps(self.app, instant, claim=claimer(self.node)):
            if outcome:
                log.info("tick %s %s: %s", instant.isoformat(), path.rsplit(".", 1)[-1], outcome)

    @staticmethod
    def _stop_ticking(scheduler: BackgroundScheduler) -> None:
        """No new tick; a running one gets GRACEFUL_SECONDS to finish (its sweeps commit whole or not at all)."""
        stopper = threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, name="stop-ticking", daemon=True)
        stopper.start()
        stopper.join(GRACEFUL_SECONDS)
        if stopper.is_alive():
            log.warning("a tick still runs after %s s; stopping anyway", GRACEFUL_SECONDS)
