"""Writing a large batch of rows with the table's foreign keys checked once, not row by row.

PostgreSQL checks a foreign key with a trigger per inserted row: one index lookup and one
row lock on the referenced table, per key, per row. A first reminder sweep over a large
court writes half a million items with four keys; measured with psql, copying them took
38.8 s with the keys and 17.0 s without them (bench/README.md). PostgreSQL's advice for
loading many rows ("Populating a Database") is to drop the foreign keys, load, and add them
back: ``ADD CONSTRAINT ... FOREIGN KEY`` then checks every row of the table in one anti-join.

Here that happens inside the caller's transaction, so it is all or nothing: a row with a
dangling reference makes ``ADD CONSTRAINT`` fail, the transaction rolls back, and the keys
are back as they were (PostgreSQL's DDL is transactional). Dropping a foreign key takes an
ACCESS EXCLUSIVE lock on the table and on every table it references (its triggers live
there too), held to the end of the transaction: for those seconds other requests that read
those tables wait, then go on. So it is taken only for a batch of at least
``ANCILLARY_SWEEP_BULK_CHECK_ROWS`` rows that is not small beside the table (a first sweep),
and only if the locks come within ``LOCK_TIMEOUT``: a long reader, a deadlock or a database
role that may not alter the table means the rows are written with the keys in place, as
always. The role that owns the tables (the one that runs migrations) may do it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

LOCK_TIMEOUT = "3s"  # how long to wait for the tables before writing with per-row checks instead
# How the keys are checked when added back: a hash anti-join per key, over a million
# referenced keys in memory (not 8 spilled batches), never a nested loop.
VALIDATE_SETTINGS = {"work_mem": "64MB", "enable_nestloop": "off"}
# Adding a key back reads the whole table: worth it while the batch is at least this share of it.
BATCH_SHARE = 0.25
# lock_not_available, deadlock_detected, insufficient_privilege, must_be_owner (42501 covers both)
FALLBACK_STATES = {"55P03", "40P01", "42501"}


class ForeignKey(NamedTuple):
    name: str
    definition: str  # as pg_get_constraintdef gives it: FOREIGN KEY (x) REFERENCES y(id) ...
    referenced: str


def worth_it(session: Session, table: str, rows: int, min_rows: int) -> bool:
    """Whether ``rows`` new rows of ``table`` should have their keys checked once (PostgreSQL only)."""
    if min_rows <= 0 or rows < min_rows or session.get_bind().dialect.name != "postgresql":
        return False
    existing = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"), {"t": table})
    return rows >= BATCH_SHARE * max(existing or 0, 0)


def foreign_keys(session: Session, table: str) -> list[ForeignKey]:
    return [ForeignKey(*row) for row in session.execute(text(
        "SELECT conname, pg_get_constraintdef(oid), CAST(CAST(confrelid AS regclass) AS text) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY conname"), {"t": table})]


def write_checked_once(session: Session, table: str, write: Callable[[], None]) -> bool:
    """Run ``write()`` with ``table``'s foreign keys dropped, then add them back (checking every row).

    Returns True when the keys were checked once, False when the locks could not be had and
    ``write()`` ran with the keys in place. A dangling reference raises ``IntegrityError``:
    the caller's transaction must then roll back (nothing of it is kept).
    """
    keys = foreign_keys(session, table)
    if not keys or not _drop(session, table, keys):
        write()
        return False
    write()
    # The tables were written in this transaction and their statistics may still say empty:
    # a nested loop over half a million rows would take hours (VALIDATE_SETTINGS forbids it).
    saved = {name: _set_local(session, name, value) for name, value in VALIDATE_SETTINGS.items()}
    session.execute(text(f'ALTER TABLE "{table}" ' + ", ".join(
        f'ADD CONSTRAINT "{key.name}" {key.definition}' for key in keys)))
    for name, value in saved.items():
        _set_local(session, name, value)
    log.info("wrote %s with its %d foreign keys checked once", table, len(keys))
    return True


def _drop(session: Session, table: str, keys: list[ForeignKey]) -> bool:
    """Lock ``table`` and what it references and drop its keys, or change nothing and say False."""
    tables = [table, *sorted({key.referenced for key in keys} - {table})]
    savepoint = session.begin_nested()
    try:
        lock_timeout = _set_local(session, "lock_timeout", LOCK_TIMEOUT)
        session.execute(text(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE"))
        session.execute(text(f'ALTER TABLE "{table}" ' + ", ".join(f'DROP CONSTRAINT "{key.name}"' for key in keys)))
        _set_local(session, "lock_timeout", lock_timeout)
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) not in FALLBACK_STATES:
            raise
        savepoint.rollback()
        log.warning("writing %s with per-row key checks: %s", table, str(exc.orig).splitlines()[0])
        return False
    savepoint.commit()
    return True


def _set_local(session: Session, name: str, value: str) -> str:
    """Set a setting for the rest of the transaction; return the value it had."""
    old = session.scalar(text("SELECT current_setting(:n)"), {"n": name})
    session.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    return old
