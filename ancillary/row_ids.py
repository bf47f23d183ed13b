"""Ids for a session's new rows before the flush, so SQLite writes each table's rows at once."""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from operator import attrgetter

from sqlalchemy import Select, func, inspect, select
from sqlalchemy.orm import Session


def assign_ids(session: Session) -> None:
    """Give the session's new rows their ids now: the ids the database would give them at the flush.

    SQLite cannot tell which id of a many-row ``INSERT ... RETURNING`` belongs to which row, so
    SQLAlchemy writes rows without an id one statement each; rows that carry their id go in one
    executemany per table. On SQLite each table's new rows take the ids after its largest, in
    the order they were added (the order the flush writes them): what SQLite itself would
    choose (no table is ``AUTOINCREMENT``), and safe because every SQLite transaction holds the
    write lock from its start (``BEGIN IMMEDIATE``, ``ancillary.db``). Elsewhere the database
    batches ``RETURNING`` itself (PostgreSQL): a flush gives the ids.
    """
    if session.get_bind().dialect.name != "sqlite":
        session.flush()
        return
    waiting = defaultdict(list)
    for state in sorted((inspect(obj) for obj in session.new), key=attrgetter("insert_order")):
        table, key = state.mapper.local_table, state.mapper.primary_key
        if len(key) == 1 and key[0].name == "id" and key[0].table is table and state.obj().id is None:
            waiting[table].append(state.obj())
    if not waiting:
        return
    tables = tuple(waiting)
    with session.no_autoflush:
        largest = session.execute(_largest_ids(tables)).one()
    for table, last in zip(tables, largest, strict=True):
        for offset, obj in enumerate(waiting[table], start=1):
            obj.id = (last or 0) + offset


@lru_cache(maxsize=64)
def _largest_ids(tables: tuple) -> Select:
    """One statement answering each table's largest id (built once per set of tables)."""
    return select(*(select(func.max(table.c.id)).scalar_subquery() for table in tables))
