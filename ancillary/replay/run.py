"""Run the replay: a fresh database, the court, then the year on the simulated clock."""

from __future__ import annotations

import gc
import logging
import os
import random
import sys
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, time, timedelta

from sqlalchemy import func, inspect, select

from ancillary.auth.models import User
from ancillary.errors import DomainError
from ancillary.extensions import db
from ancillary.outbox import Notification
from ancillary.queues.models import Task, TaskStatus
from ancillary.replay import actions
from ancillary.replay.clock import Clock, WorkingHours
from ancillary.replay.court import KIND_WEIGHTS, ReplaySettings
from ancillary.replay.hearings import Hearings
from ancillary.replay.people import Pool
from ancillary.replay.serving import Serving
from ancillary.replay.setup import build_court
from ancillary.replay.work import Archive, Intake, Judges, Scheduling
from ancillary.timeutil import add_months

log = logging.getLogger(__name__)
AUTO_RUNS = (time(9, 0), time(11, 0), time(14, 0), time(16, 0), time(17, 15))


class Replay:
    """The simulated year; ``run()`` answers what the report needs beyond the KPIs."""

    def __init__(self, app, rs: ReplaySettings, *, progress=None):
        self.app, self.rs, self.progress = app, rs, progress
        self.settings = app.config["SETTINGS"]
        self.tz = self.settings.timezone
        self._streams: dict[str, random.Random] = {}
        self.start = datetime.combine(rs.start, time(0), self.tz)
        self.end = datetime.combine(add_months(rs.start, rs.months), time(0), self.tz)
        self.stop = self.end + timedelta(days=rs.tail_days)
        self.clock = Clock(self.start)
        self.counts: Counter = Counter()
        self.refusals: Counter = Counter()
        self.truth: dict[int, str] = {}
        self.series: dict[str, list] = defaultdict(list)
        self.intake, self.scheduling, self.judges = Intake(self), Scheduling(self), Judges(self)
        self.archive, self.serving = Archive(self), Serving(self)
        self.hearings = Hearings(self)
        self._last_ack_id = 0
        self._day = None
        self._kept: dict[tuple, object] = {}

    def stream(self, name: str) -> random.Random:
        """An independent random stream per concern, so switching one feature off leaves the others' draws alone."""
        if name not in self._streams:
            self._streams[name] = random.Random(f"{self.rs.seed}:{name}")
        return self._streams[name]

    def draw(self, name: str, *key) -> random.Random:
        """A stream of one thing's own (a case, an order): its draws do not depend on what ran before it."""
        return random.Random(":".join(str(part) for part in (self.rs.seed, name, *key)))

    @property
    def session(self):
        """The replay's session; a commit leaves what it loaded loaded.

        A request starts with an empty session; the replay's actions follow one another in
        one process that alone writes, so what the last action loaded is still what the
        database holds: re-reading every object after each commit only cost time. Each tick
        ends its session (``run_sweeps``) and each simulated day starts empty (``_step``).
        """
        session = db.session()
        session.expire_on_commit = False
        return session

    # --- helpers the handlers use -------------------------------------------------------

    def user(self, user_id: int) -> User:
        """The user, loaded once for the replay: nothing it calls changes a user."""
        return self.kept(User, user_id)

    def kept(self, model, ident: int):
        """A row nothing in the replay changes (a user, a law firm), loaded once for the replay.

        Each simulated day starts with an empty session (``_step``); a row met again is
        attached again as it is, without reading it once more, so the product's own look-up
        of it (``session.get``) finds it in the session.
        """
        session = self.session
        found = self._kept.get((model, ident))
        if found is None:
            found = self._kept[(model, ident)] = session.get(model, ident)
        elif found not in session:
            present = session.identity_map.get(inspect(found).identity_key)  # loaded meanwhile by another path
            if present is not None:
                found = self._kept[(model, ident)] = present
            else:
                session.add(found)
        return found

    def call(self, fn, *args, **kwargs):
        """One action through the product; a refusal is counted and rolled back, like a 4xx.

        Each action commits on its own, like one request. (One commit per simulated moment,
        each action a savepoint, was tried: it cost as much CPU as it saved.)
        """
        try:
            result = fn(self.session, *args, **kwargs)
            self.session.commit()  # each action is its own request: it lands whole or not at all
            return result
        except DomainError as exc:
            self.session.rollback()
            self.refusals[f"{fn.__name__}: {getattr(exc, 'code', type(exc).__name__)}"] += 1
            return None

    def commit(self) -> None:
        self.session.commit()

    def open_tasks(self, case_id: int) -> list[Task]:
        return list(self.session.scalars(select(Task).where(
            Task.case_id == case_id, Task.status.in_([TaskStatus.open, TaskStatus.claimed])).order_by(Task.id)))

    def after_next_tick(self, moment: datetime) -> datetime:
        local = moment.astimezone(self.tz)
        for day in range(3):
            for at in self.rs.ticks:
                candidate = datetime.combine(local.date() + timedelta(days=day), at, self.tz)
                if candidate > moment:
                    return candidate + timedelta(minutes=3)
        return moment + timedelta(days=1)

    # --- the year -----------------------------------------------------------------------

    def run(self) -> dict:
        with self.app.app_context():
            self.app.config["CLOCK"] = lambda: self.clock.now
            court_at = self.start - timedelta(days=1)
            self.court = build_court(self.session, self.rs, now=court_at, rng=self.stream("court"),
                                     settings=self.settings)
            self.commit()
            working = actions.working_days(self.session, self.start.date(), self.stop.date() + timedelta(days=60))
            self.hours = WorkingHours(working, self.rs.work_spans, self.tz)
            self.pools = {role: Pool(role, ids, self.clock, self.hours, self.start)
                          for role, ids in self.court.staff.items()}
            self._plan_days(working)
            with batch_collector():
                self.clock.run_until(self.stop, self._step)
            self.commit()
            if self.progress:
                self.progress(1.0, self.stop, self.counts)
        return self.result()

    def _plan_days(self, working) -> None:
        per_day = self.rs.cases_per_year * self.rs.volume / 250  # about 250 working days a year
        day = self.start.date()
        while day < self.stop.date():
            for at in self.rs.ticks:
                self.clock.at(datetime.combine(day, at, self.tz), self._tick)
            self.clock.at(datetime.combine(day, time(17, 30), self.tz), self._snapshot)
            if working(day) and day < self.end.date():
                self._arrivals(day, per_day)
            # After the last filing the court still books: further hearings and the last filings wait for these runs.
            if working(day) and self.rs.has("auto-scheduling"):
                for at in AUTO_RUNS:
                    moment = datetime.combine(day, at, self.tz)
                    self.clock.at(moment, self._auto, moment)
            day += timedelta(days=1)

    def _arrivals(self, day, per_day: float) -> None:
        """Filings through office hours (08:30-17:00): a Poisson count, uniform times, the seed's mix of kinds."""
        rng = self.stream("arrivals")
        count = _poisson(rng, per_day)
        kinds = rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()), k=count)
        opens = datetime.combine(day, time(8, 30), self.tz)
        for kind in kinds:
            self.clock.at(opens + timedelta(minutes=rng.uniform(0, 510)), self.intake.arrive, kind)

    def _auto(self, moment: datetime) -> None:
        self.pools["scheduler"].add(self.scheduling.auto_run, ready_at=moment, priority=0)

    def _tick(self) -> None:
        self.commit()
        for path, outcome in actions.tick(self.app, self.clock.now):
            for key, value in (outcome or {}).items():
                if isinstance(value, int):
                    self.counts[f"sweep.{path.rsplit('.', 1)[-1]}.{key}"] += value
        self.serving.after_tick(self.clock.now)
        self._acks()
        self.commit()

    def _acks(self) -> None:
        """Officers and the office acknowledge reminders after a while; a few only after escalation.

        Each reminder's delay is drawn from a stream of its own, named by its outbox key (which
        says whom, what and when): the ids the database hands out to one sweep's messages may
        come in another order on another run (PostgreSQL returns unordered rows as it finds
        them), and a shared stream would then give one person's delay to another.
        """
        rows = self.session.execute(select(Notification.id, Notification.recipient_id, Notification.idempotency_key)
                                    .where(Notification.id > self._last_ack_id, Notification.needs_ack.is_(True))
                                    .order_by(Notification.id)).all()
        for notification_id, recipient_id, key in rows:
            self._last_ack_id = notification_id
            if recipient_id is None:
                continue
            low, high = self.rs.ack_hours
            rng = self.draw("acks", key)
            hours = rng.uniform(25, 48) if rng.random() < self.rs.rates.late_ack else rng.uniform(low, high)
            self.clock.at(self.clock.now + timedelta(hours=hours), self._ack, notification_id, recipient_id)

    def _ack(self, notification_id: int, recipient_id: int) -> None:
        notification = self.session.get(Notification, notification_id)
        if notification is None or notification.acked_at is not None or notification.provider_id is None:
            return
        if self.call(actions.ack, notification, actor=self.user(recipient_id), now=self.clock.now) is not None:
            self.counts["acks"] += 1
        self.commit()

    def _snapshot(self) -> None:
        """End of the working day: each post's waiting work and the overdue tasks per queue."""
        now = self.clock.now
        self.commit()
        day = now.astimezone(self.tz).date().isoformat()
        overdue = dict(self.session.execute(select(Task.queue, func.count()).where(
            Task.status.in_([TaskStatus.open, TaskStatus.claimed]), Task.due_at < now).group_by(Task.queue)).all())
        self.series["days"].append(day)
        for name, pool in sorted(self.pools.items()):
            self.series[f"waiting.{name}"].append(pool.waiting(now))
        for queue in ("pre_trial", "trial", "enforcement", "service", "archive"):
            self.series[f"overdue.{queue}"].append(
                sum(n for q, n in overdue.items() if getattr(q, "value", q) == queue))

    def _step(self, at: datetime) -> None:
        day = at.date()
        if day != self._day:
            self._day = day
            self.commit()
            self.session.expunge_all()
            if self.progress:
                self.progress((at - self.start) / (self.stop - self.start), at, self.counts)

    def result(self) -> dict:
        minutes = self.hours.day_minutes()
        working = len(self.hours_days())
        staff = {}
        for name, pool in sorted(self.pools.items()):
            busy = sum(w.busy_minutes for w in pool.workers.values())
            available = minutes * working * len(pool.workers)
            staff[name] = {"people": len(pool.workers), "busy_minutes": round(busy),
                           "available_minutes": round(available), "actions": pool.done,
                           "utilisation": round(busy / available, 4) if available else None}
        return {"counts": dict(sorted(self.counts.items())), "refusals": dict(sorted(self.refusals.items())),
                "staff": staff, "series": dict(self.series)}

    def hours_days(self) -> list:
        """Working days from the first filing day to the end of the tail: the days people worked."""
        day, days = self.start.date(), []
        while day < self.stop.date():
            if self.hours.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days


@contextmanager
def batch_collector(threshold: int = 20000):
    """Python's cycle collector tuned for a long batch run, then put back as it was.

    The replay allocates millions of short-lived objects; at the default threshold (700) the
    collector ran about 2,000 times a month and re-scanned the app's long-lived objects (models,
    compiled statements, caches) on each older-generation pass. Those are frozen out of its
    scans first, and it runs every ``threshold`` allocations instead. Nothing the replay does
    depends on when a collection happens: the same year comes out, a few per cent sooner.
    """
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal beyond (deterministic for the seed)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, mean ** 0.5)))
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def progress_bar(stream=None):
    """A one-line progress bar on stderr: share of the simulated time, the date, cases so far."""
    stream = stream or sys.stderr
    quiet = os.environ.get("ANCILLARY_REPLAY_QUIET") == "1"

    def show(share: float, at: datetime, counts) -> None:
        if quiet:
            return
        filled = int(share * 30)
        stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share * 100:5.1f}%  {at:%Y-%m-%d}  "
                     f"cases {counts.get('cases', 0):,}  closed {counts.get('closed', 0):,}")
        if share >= 1.0:
            stream.write("\n")
        stream.flush()

    return show
