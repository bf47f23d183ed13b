"""Statements compiled once and run on the driver's own cursor, for the hottest writes.

Through SQLAlchemy a statement costs a cache lookup, an execution context, its events,
the parameters processed one by one and a result object: on SQLite, where a statement
costs no round trip, that was most of a scan's writes. A ``Precompiled`` statement is
compiled once for one dialect; running it converts the values with the same bind
processors SQLAlchemy would use (UTC datetimes, enums, JSON), so the rows written are
the same, column for column. Driver errors come back as SQLAlchemy's own exceptions
(``IntegrityError``, ``OperationalError``...), so callers and the request edge treat
them as before.

Only for statements whose result is at most a row of plain values, inside a
transaction the caller has already begun through SQLAlchemy (the session's read).
"""

from __future__ import annotations

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError


class Precompiled:
    """One statement compiled for ``dialect``, its parameters given by name as for ``Connection.execute``."""

    def __init__(self, statement, dialect: Dialect, column_keys: list[str] | None = None):
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        if compiled.positiontup is None:
            raise ValueError("Precompiled needs a positional parameter style (SQLite's qmark)")
        self.sql = compiled.string
        # The dialect's own processors (SQLite's datetime text, say), as SQLAlchemy's execute uses.
        self.order = [(name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for name in compiled.positiontup]

    def execute(self, conn: Connection, params: dict):
        """Run the statement in ``conn``'s transaction; the driver's cursor, to fetch from."""
        if not conn.in_transaction():
            raise RuntimeError("a precompiled statement runs inside the caller's transaction")
        values = tuple(params[name] if process is None else process(params[name]) for name, process in self.order)
        driver = conn.connection.driver_connection
        cursor = driver.cursor()
        try:
            cursor.execute(self.sql, values)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(self.sql, values, exc, conn.dialect.loaded_dbapi.Error) from exc
        return cursor
