"""Statements every request runs, executed on the driver's cursor on PostgreSQL.

A served booking runs four statements (the token and its user, the case, room and judge
locked, the ledger, the one-statement write). Through SQLAlchemy's execution layer each
one paid for a compile-cache lookup, the processing of every parameter, an execution
context and a wrapped result: together about a fifth of a booking's Python, more than
psycopg's own work for the same statements. A ``DriverStatement`` compiles its Core
statement once per dialect, keeps the SQL text, the constant parameters already
processed and the type processors of the parameters and columns, and runs on the
connection's psycopg cursor, in the session's transaction. The values sent and the rows
read are those Core would send and read (the same types' processors); a driver error comes
out as SQLAlchemy's (``IntegrityError`` with ``.orig``, ``OperationalError``), the pooled
connection invalidated when the database is gone. Other databases (SQLite) run the
statement through Core as before.
"""

from __future__ import annotations

from collections.abc import Callable

from psycopg.pq import ExecStatus
from sqlalchemy import Numeric
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

Processor = Callable[[object], object] | None


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
        dialect = connection.dialect
        if dialect.name != "postgresql":
            result = connection.execute(self.statement, values)
            return [tuple(row) for row in result] if result.returns_rows else []
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = Compiled(self.statement, dialect)
        parameters = compiled.parameters(values)
        return compiled.rows(_run(connection, compiled.sql, parameters))


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


def _as_sqlalchemy_error(connection: Connection, cursor, sql: str, parameters: dict, exc) -> DBAPIError:
    """The error Core would raise for ``exc``; a lost connection is invalidated, as Core does."""
    dialect = connection.dialect
    gone = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(exc)
    return DBAPIError.instance(sql, parameters, exc, dialect.loaded_dbapi.Error, connection_invalidated=gone,
                               dialect=dialect)
