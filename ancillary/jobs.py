"""Sweeps and the APScheduler that runs them.

Every sweep is a function ``sweep(session, now, settings) -> dict`` of the database
and an instant; the scheduler and ``ancillary tick --at`` call the same functions,
each inside one transaction that the wrapper commits. After the sweeps, the outbox
sender delivers what is due at that instant (it commits per message: a claim is
committed before the provider is called).

Catching up: the scheduler's one job is an interval tick with ``coalesce=True`` and a
one-hour ``misfire_grace_time``, kept in the SQLAlchemy job store in the app database.
A scheduler that was down for an hour runs the tick once when it comes back, not twelve
times; and since every rule stages its items under unique keys, that one late tick
sends exactly what the missed ticks would have sent, once.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)

# Dotted paths of sweeps, in the order a tick runs them. Contexts add theirs here.
SWEEPS: list[str] = [
    "ancillary.archive.services.deadline_sweep",
    "ancillary.service.jobs.sweep",
    "ancillary.reminders.jobs.sweep_reminders",
    "ancillary.reminders.jobs.sweep_escalations",
    "ancillary.custody.checkpoints.sweep",
]
TICK_MINUTES = 5
MISFIRE_GRACE_SECONDS = 3600


def load_sweep(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_sweeps(app, now: datetime, only: list[str] | None = None, *, deliver: bool = True) -> list[tuple[str, dict]]:
    """Run every sweep as of ``now``, each in its own committed transaction, then deliver."""
    from ancillary.extensions import db

    results = []
    with app.app_context():
        settings = app.config["SETTINGS"]
        for path in SWEEPS:
            if only and path.rsplit(".", 1)[-1] not in only:
                continue
            try:
                outcome = load_sweep(path)(db.session, now, settings) or {}
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("sweep %s failed at %s", path, now.isoformat())
                outcome = {"error": "failed; see the log"}
            results.append((path, outcome))
        if deliver:
            results.append(("ancillary.reminders.sender.deliver", _deliver(app, now)))
        db.session.remove()
    return results


def _deliver(app, now: datetime) -> dict:
    from ancillary.extensions import db
    from ancillary.reminders.sender import channels_for, deliver_due

    try:
        return deliver_due(db.session, now, app.config["SETTINGS"], channels_for(app))
    except Exception:
        db.session.rollback()
        log.exception("outbox delivery failed at %s", now.isoformat())
        return {"error": "failed; see the log"}


_apps: dict[str, object] = {}


def tick_job(database_url: str) -> None:
    """The scheduler's job: one tick at the current instant (module-level for APScheduler)."""
    from ancillary import create_app
    from ancillary.config import Settings
    from ancillary.timeutil import utcnow

    app = _apps.get(database_url)
    if app is None:
        app = _apps[database_url] = create_app(Settings.from_env(database_url=database_url))
    for path, outcome in run_sweeps(app, utcnow()):
        if outcome:
            log.info("%s: %s", path, outcome)


def build_scheduler(app, *, blocking: bool = False, func=None):
    """APScheduler 3 with its SQLAlchemy job store in the app database; one per court."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    settings = app.config["SETTINGS"]
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(
        jobstores={"default": SQLAlchemyJobStore(url=settings.database_url, tablename="apscheduler_jobs")},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_SECONDS},
        timezone=settings.timezone,
    )
    scheduler.add_job(
        func or tick_job,
        "interval",
        minutes=TICK_MINUTES,
        id="tick",
        replace_existing=True,
        args=[settings.database_url],
    )
    return scheduler
