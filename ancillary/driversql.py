"""Hot statements compiled once and run on the driver's own cursor.

Through SQLAlchemy a statement costs a cache lookup, an execution context, its events,
the parameters processed one by one and a result object. Two kinds here use the same
bind processors SQLAlchemy would (UTC datetimes, enums, JSON), so the values sent and
the rows read are Core's, and driver errors come back as SQLAlchemy's own exceptions
(``IntegrityError`` with ``.orig``, ``OperationalError``), a lost connection invalidated:

- ``Precompiled``, for a scan's writes on SQLite, where a statement costs no round trip
  and SQLAlchemy's work was most of their cost;
- ``DriverStatement``, on PostgreSQL for the token lookup every request runs, a booking's
  statements and a scan's one statement.

A served booking on PostgreSQL runs four statements (the token and its user, the case,
room and judge locked, the ledger, the one-statement write); through SQLAlchemy's
execution layer they cost about a fifth of a booking's Python, more than psycopg's own
work for them. A ``DriverStatement`` compiles once per dialect, keeps the SQL text, the
constant parameters already processed and the processors of parameters and columns, and
runs on psycopg's cursor in the session's transaction; on SQLite it goes through Core.

On PostgreSQL every connection of the app also keeps its prepared statements when a
transaction rolls back (``_PreparedAcrossRollback``), so that the hot statements stay
parsed and planned.
"""

from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Callable

from psycopg._preparing import Prepare, PrepareManager
from psycopg.pq import ExecStatus
from sqlalchemy import Numeric, event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Processor = Callable[[object], object] | None


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
            raise _as_sqlalchemy_error(conn, cursor, self.sql, values, exc) from exc
        return cursor


class Compiled:
    """One dialect's SQL text of a statement, with what turns values into parameters and back."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.bind_processors: dict[str, Processor] = {}
        self.constants: dict[str, object] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if bind.callable is None and bind.value is not None:  # a literal written in the statement
                self.constants[name] = process(bind.value) if process else bind.value
            else:
                self.bind_processors[name] = process
        columns = getattr(statement, "selected_columns", ())
        if any(isinstance(column.type, Numeric) for column in columns):
            # Core picks a numeric column's processor by the driver's column type, not known here.
            raise TypeError("a DriverStatement reads no numeric columns; run it through Core")
        # A row's columns by name, for ``first``; a name met twice (two tables' created_at) goes by position.
        self.named = namedtuple("Row", [column.key for column in columns], rename=True)
        self.result_processors = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                                  for column in columns]

    def parameters(self, values: dict) -> dict:
        parameters = dict(self.constants)
        for name, value in values.items():
            process = self.bind_processors.get(name)
            parameters[name] = value if process is None else process(value)  # None too, as Core does
        return parameters

    def rows(self, fetched: list[tuple]) -> list[tuple]:
        processors = self.result_processors
        if not any(processors):
            return fetched
        return [tuple(value if process is None else process(value)  # None too, as Core does
                      for process, value in zip(processors, row, strict=True)) for row in fetched]


class DriverStatement:
    """A Core statement run on the driver's cursor on PostgreSQL, through Core elsewhere."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}

    def rows(self, session: Session, values: dict) -> list[tuple]:
        """Every row the statement answers (none for a statement returning nothing), as tuples."""
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            result = connection.execute(self.statement, values)
            return [tuple(row) for row in result] if result.returns_rows else []
        return self._fetched(connection, values)[1]

    def first(self, connection: Connection, values: dict):
        """The first row the statement answers, its columns by name as a Core row's; None if none."""
        if connection.dialect.name != "postgresql":
            return connection.execute(self.statement, values).first()
        compiled, rows = self._fetched(connection, values)
        return compiled.named(*rows[0]) if rows else None

    def _fetched(self, connection: Connection, values: dict) -> tuple[Compiled, list[tuple]]:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = Compiled(self.statement, dialect)
        return compiled, compiled.rows(_run(connection, compiled.sql, compiled.parameters(values)))


def _run(connection: Connection, sql: str, parameters: dict) -> list[tuple]:
    dbapi_connection = connection.connection
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, parameters)
        # The result's status, not ``description``: that builds an object per column, every time.
        return cursor.fetchall() if cursor.pgresult.status == ExecStatus.TUPLES_OK else []
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy_error(connection, cursor, sql, parameters, exc) from exc
    finally:
        cursor.close()


def _as_sqlalchemy_error(connection: Connection, cursor, sql: str, parameters, exc) -> DBAPIError:
    """The error Core would raise for ``exc``; a lost connection is invalidated, as Core does."""
    dialect = connection.dialect
    gone = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(exc)
    return DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error, connection_invalidated=gone,
                               dialect=dialect)


class _PreparedAcrossRollback(PrepareManager):
    """psycopg's cache of prepared statements, kept when a transaction rolls back.

    psycopg prepares a statement the sixth time a connection runs it, and forgets every
    prepared statement (``DEALLOCATE ALL``) at each ``ROLLBACK``, in case the transaction
    dropped or changed what they name. Every refused request (a 4xx) rolls back, so under
    load a connection rarely ran a statement five times between two refusals: a quarter of
    the booking race's answers are 409s, and PostgreSQL parsed and planned three of its
    four hot statements on nine calls in ten. The app changes no schema in a request, and
    a prepared statement outlives a rolled-back transaction in PostgreSQL, so the cache is
    kept; a command that does change the schema or drops prepared statements (``DROP``,
    ``ALTER``, ``DISCARD``, ``DEALLOCATE ALL``: a migration, say) still clears it.
    """

    # psycopg's own list of the commands after which it forgets them, ``ROLLBACK`` left out
    _CHANGES_OBJECTS = re.compile(rb"^(?:DROP|ALTER|DISCARD ALL|DEALLOCATE ALL)\b").match

    def clear(self) -> bool:
        return False  # a rollback (of the connection or of a transaction block): keep

    def _should_discard(self, prep, results) -> bool:
        if not (self._names or prep == Prepare.SHOULD):
            return False  # nothing prepared to forget (psycopg's own shortcut)
        for result in results:
            if result.status == ExecStatus.COMMAND_OK and self._CHANGES_OBJECTS(result.command_status or b""):
                return PrepareManager.clear(self)
        return False


@event.listens_for(Engine, "connect")
def _keep_prepared_statements(dbapi_connection, connection_record):
    """A PostgreSQL connection keeps its prepared statements across a rollback (above)."""
    manager = getattr(dbapi_connection, "_prepared", None)
    if type(manager) is PrepareManager:  # psycopg's own, unused yet: swap in the keeping one
        kept = _PreparedAcrossRollback()
        kept.prepare_threshold, kept.prepared_max = manager.prepare_threshold, manager.prepared_max
        dbapi_connection._prepared = kept
