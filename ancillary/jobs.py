"""Sweeps and the APScheduler that runs them.

Every sweep is a function ``sweep(session, now, settings) -> dict`` of the database
and an instant; the scheduler and ``ancillary tick --at`` call the same functions,
each inside one transaction that the wrapper commits.
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
]


def load_sweep(path: str) -> Callable:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def run_sweeps(app, now: datetime, only: list[str] | None = None) -> list[tuple[str, dict]]:
    """Run every sweep as of ``now``, each in its own committed transaction."""
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
    return results


def tick_job(database_url: str) -> None:
    """The scheduler's job: one tick at the current instant (module-level for APScheduler)."""
    from ancillary import create_app
    from ancillary.config import Settings
    from ancillary.timeutil import utcnow

    app = create_app(Settings.from_env(database_url=database_url))
    for path, outcome in run_sweeps(app, utcnow()):
        if outcome:
            log.info("%s: %s", path, outcome)


def build_scheduler(app, *, blocking: bool = False):
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
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone=settings.timezone,
    )
    scheduler.add_job(
        tick_job,
        "interval",
        minutes=5,
        id="tick",
        replace_existing=True,
        args=[settings.database_url],
    )
    return scheduler
