"""Readiness checks: is the database reachable, at the newest schema, and is a scheduler alive?"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from flask_babel import gettext
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ancillary.ops.models import SchedulerBeat

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "migrations"


@lru_cache(maxsize=1)
def migration_head() -> str:
    """The newest revision this code was written for."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def check(ok: bool, message: str) -> dict:
    return {"ok": ok, "message": message}


def database_check(session: Session) -> dict:
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        session.rollback()
        return check(False, gettext("The database cannot be reached: check that it runs and the "
                                    "ANCILLARY_DATABASE_URL setting."))
    return check(True, gettext("The database can be reached."))


def migrations_check(session: Session) -> dict:
    head = migration_head()
    try:
        current = session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError:
        session.rollback()
        current = None
    if current is None:
        return check(False, gettext("The database has no schema yet: run ancillary db upgrade."))
    if current != head:
        return check(False, gettext("The database schema is at {current}, the code expects {head}: "
                                    "run ancillary db upgrade.").format(current=current, head=head))
    return check(True, gettext("The database schema is up to date ({head}).").format(head=head))


def scheduler_check(session: Session, now: datetime, heartbeat_seconds: int) -> dict:
    try:
        last = session.scalar(select(func.max(SchedulerBeat.beat_at)).where(SchedulerBeat.is_leader))
    except SQLAlchemyError:
        session.rollback()
        return check(False, gettext("The scheduler's heartbeat cannot be read: run ancillary db upgrade."))
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    limit = 2 * heartbeat_seconds
    if last is None:
        return check(False, gettext("No scheduler has ever led: start ancillary scheduler."))
    age = max(0, int((now - last).total_seconds()))
    if age >= limit:
        return check(False, gettext("The scheduler's last heartbeat was {age} seconds ago (it should be under "
                                    "{limit}): check the ancillary scheduler process.").format(age=age, limit=limit))
    return check(True, gettext("The scheduler is alive (last heartbeat {age} seconds ago).").format(age=age))


def readiness(session: Session, now: datetime, heartbeat_seconds: int) -> dict:
    checks = {"database": database_check(session)}
    if checks["database"]["ok"]:
        checks["migrations"] = migrations_check(session)
        checks["scheduler"] = scheduler_check(session, now, heartbeat_seconds)
    session.rollback()
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}
