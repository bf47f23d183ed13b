"""Declarative base, constraint naming convention and the UTC datetime column type."""

from __future__ import annotations

import enum
import json
import operator
import os
import threading
import time
import weakref
from datetime import UTC, datetime

from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, Boolean, DateTime, Enum, Integer, MetaData, event, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

from ancillary.errors import NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as UTC; naive values are refused, never guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def str_enum(cls: type[enum.Enum], name: str) -> Enum:
    """An enum column stored as its English value in a VARCHAR (no database enum type to migrate)."""
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Turn on foreign keys and WAL for SQLite; a no-op for other databases."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache (the default is 2 MB): a sweep's large transaction would otherwise
    # spill and re-read the same pages over and over (12 GB of I/O for a first reminder sweep).
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()
    # Let SQLAlchemy, not the driver, open transactions (see _sqlite_begin).
    dbapi_connection.isolation_level = None


# Threads of one process queue for SQLite's single write lock here, in order, instead
# of polling it: SQLite's busy handler sleeps up to 100 ms between tries, which is
# what made the latency tail under load. Other processes still meet busy_timeout.
# The lock belongs to one process: a child made by fork() gets a fresh one (below).
_SQLITE_WRITER = threading.Lock()
_SQLITE_WAIT_SECONDS = 30
_ENGINES: weakref.WeakSet = weakref.WeakSet()


@event.listens_for(Engine, "engine_connect")
def _remember_engine(conn):
    _ENGINES.add(conn.engine)


def reset_after_fork() -> None:
    """Give a forked child its own writer lock and connection pools.

    fork() copies a lock in whatever state some other thread of the parent left it,
    and pooled connections whose sockets the parent still uses. The child starts clean:
    a new lock, and each engine's pool replaced without closing the parent's connections.
    """
    global _SQLITE_WRITER
    _SQLITE_WRITER = threading.Lock()
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=reset_after_fork)


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """Open every SQLite transaction with BEGIN IMMEDIATE.

    SQLite has one writer at a time; taking the write lock at the start means a
    transaction that reads and then writes (claiming a task, booking a slot) never
    fails half-way on a stale snapshot: concurrent writers queue instead.
    """
    if conn.dialect.name != "sqlite":
        return
    if not _SQLITE_WRITER.acquire(timeout=_SQLITE_WAIT_SECONDS):
        raise OperationalError("BEGIN IMMEDIATE", {}, TimeoutError("database is locked by this process"))
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _SQLITE_WRITER.release()
        raise
    conn.info["holds_sqlite_writer"] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_end(conn):
    # Only SQLite holds the writer lock; and a PostgreSQL connection that broke mid-way
    # refuses even ``.info`` until this very rollback is done.
    if conn.dialect.name == "sqlite" and conn.info.pop("holds_sqlite_writer", False):
        _SQLITE_WRITER.release()


# A pooled connection handed back less than this long ago is used without a ping.
IDLE_PING_SECONDS = 5.0


def ping_after_idle(engine: Engine, seconds: float = IDLE_PING_SECONDS) -> None:
    """Check a pooled connection before use only when it has sat idle for ``seconds``.

    SQLAlchemy's ``pool_pre_ping`` pays a round trip on every checkout, that is on every
    request. A connection handed back a moment ago is known to work; one that sat idle
    may have been dropped (a database restart, a firewall), and is pinged and replaced.
    A connection that breaks while busy fails its request with a 503, and SQLAlchemy then
    replaces every pooled connection older than the break, so the next request connects
    afresh.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy):
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the pooled connection went away while idle") from exc


# --- helpers for Alembic (migrations/env.py and the migration tests) --------------

# Tables that belong to libraries, not to our models (APScheduler's job store).
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_name(name, type_, parent_names):
    """Keep autogenerate away from tables that are not ours."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def render_item(type_, obj, autogen_context):
    """Write our column types as plain SQLAlchemy types, so migrations need no app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def get_or_404(session, model, ident, *, code: str, message: str, field: str):
    """The row of ``model`` whose key is ``ident``, or a 404 naming ``field``.

    ``message`` is the catalogue's msgid (mark it with ``N_``), ``{id}`` filled in.
    """
    row = session.get(model, ident)
    if row is None:
        raise NotFound(code, message, field=field, id=ident)
    return row


IN_CHUNK = 500  # values looked up per IN list


def existing(session, column, values: list) -> set:
    """Which of ``values`` some row holds in ``column`` (indexed): an IN list a chunk at a time."""
    found: set = set()
    for start in range(0, len(values), IN_CHUNK):
        found.update(session.scalars(select(column).where(column.in_(values[start:start + IN_CHUNK])).distinct()))
    return found


def bulk_insert(session, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table``, flushed with the session's transaction."""
    if rows:
        names = list(rows[0])
        values = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
        bulk_insert_values(session, table, names, [values(row) for row in rows])


def bulk_insert_values(session, table, names: list[str], rows: list[tuple]) -> None:
    """Insert ``rows`` (tuples of the columns ``names``) into ``table``, flushed with the session's transaction.

    PostgreSQL: one COPY (psycopg's ``cursor.copy``), which writes a hundred thousand rows
    several times faster than an executemany INSERT; elsewhere one executemany of plain
    tuples, the values of the columns whose type converts them converted (as SQLAlchemy
    would store them) without SQLAlchemy's per-row bookkeeping. A JSON value shared by
    several rows (one dict object) is serialised once.
    """
    if not rows:
        return
    session.flush()
    connection = session.connection()
    columns = ", ".join(f'"{name}"' for name in names)
    if connection.dialect.name != "postgresql":
        converters = [(index, convert) for index, name in enumerate(names)
                      for convert in [_converter(table.c[name].type, connection.dialect)] if convert is not None]
        if converters:
            rows = [_converted(row, converters) for row in rows]
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})', rows)
        return
    types = [table.c[name].type for name in names]
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN', writer=_writer(cursor, len(rows))) as copy:
        for start in range(0, len(rows), COPY_ROWS_PER_WRITE):
            copy.write(_copy_block(types, rows[start:start + COPY_ROWS_PER_WRITE]))


def _writer(cursor, rows: int):
    """For a large COPY, a thread that sends while this one writes the next lines.

    psycopg's ``QueuedLibpqWriter``: the lines of a sweep's half a million rows are built
    here while the server takes the previous ones in, instead of one waiting for the other.
    """
    return QueuedLibpqWriter(cursor) if rows > QUEUED_COPY_ROWS else None


def _converted(row: tuple, converters) -> tuple:
    values = list(row)
    for index, convert in converters:
        values[index] = convert(values[index])
    return tuple(values)


def _converter(type_, dialect):
    """A column's bind processor (or None), remembering its answers: a sweep repeats a few instants and texts."""
    process = type_._cached_bind_processor(dialect)
    if isinstance(type_, JSON):
        return _SharedJson(process)
    if process is None or not isinstance(type_, UTCDateTime | DateTime):
        return process
    answers: dict = {}

    def convert(value):
        answer = answers.get(value, answers)
        if answer is answers:
            answer = answers[value] = process(value)
        return answer

    return convert


class _SharedJson:
    """A JSON serialiser that remembers the text of each object it was given (by identity)."""

    def __init__(self, dumps):
        self.dumps, self.texts, self.keep = dumps, {}, []

    def __call__(self, value):
        text = self.texts.get(id(value))
        if text is None:
            text = self.texts[id(value)] = self.dumps(value)
            self.keep.append(value)  # an id stays this object's while we hold it
        return text


# COPY's text format (PostgreSQL): tab-separated, \N for NULL, backslash escapes.
NULL = "\\N"
COPY_ROWS_PER_WRITE = 5000
QUEUED_COPY_ROWS = 4 * COPY_ROWS_PER_WRITE
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_block(types, rows: list[tuple]) -> str:
    """``rows`` as lines of COPY's text format, built column by column.

    A column's values are written once each (a sweep repeats a few instants, rules and
    texts thousands of times; a JSON object shared by many rows is serialised once) and
    the lines joined at the end: per value, a lookup instead of a function call."""
    columns = [_copy_column(type_, values) for type_, values in zip(types, zip(*rows, strict=True), strict=True)]
    return "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _copy_column(type_, values: tuple) -> list[str]:
    if isinstance(type_, Integer) and not isinstance(type_, Boolean):
        return [NULL if value is None else str(value) for value in values] if None in values else list(map(str, values))
    if isinstance(type_, JSON):  # by identity: a dict is not hashable, and equal ones are often one object
        objects = {id(value): value for value in values}
        texts = {key: NULL if value is None else _escaped(json.dumps(value)) for key, value in objects.items()}
        return list(map(texts.__getitem__, map(id, values)))
    text = _copy_text(type_)
    texts = {value: NULL if value is None else text(value) for value in set(values)}
    return list(map(texts.__getitem__, values))


def _escaped(value: str) -> str:
    return value.translate(_ESCAPES) if ("\\" in value or "\t" in value or "\n" in value or "\r" in value) else value


def _copy_text(type_):
    """How a (hashable) value of a column of ``type_`` is written in COPY's text format."""
    if isinstance(type_, UTCDateTime | DateTime):
        return _instant
    if isinstance(type_, Boolean):
        return lambda value: "t" if value else "f"
    return lambda value: _escaped(value.value if isinstance(value, enum.Enum) else str(value))


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime: store aware UTC instants")
    return value.isoformat()


def insert_returning_ids(session, table, rows: list[dict]) -> list[int]:
    """Insert ``rows`` into ``table`` and return their new ids, in the order of ``rows``.

    PostgreSQL: the ids are reserved from the table's sequence and the rows written with
    them by one COPY (a multi-row INSERT ... RETURNING of a thousand rows costs more in
    building and parsing its text than COPY does in all). Elsewhere one INSERT ...
    RETURNING over all the rows.
    """
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        session.flush()
        returned = connection.execute(table.insert().returning(table.c.id, sort_by_parameter_order=True), rows)
        return [row[0] for row in returned]
    ids = reserve_ids(session, table, len(rows))
    bulk_insert(session, table, [{"id": new_id, **row} for new_id, row in zip(ids, rows, strict=True)])
    return ids


def reserve_ids(session, table, count: int) -> list[int]:
    """``count`` new ids of ``table``, in increasing order, for rows written in bulk (COPY returns none).

    PostgreSQL: from the column's sequence, as INSERT would take them. SQLite: after the
    largest id, as SQLite itself would choose; safe because a SQLite transaction here holds
    the write lock from its start (``BEGIN IMMEDIATE``, ``ancillary.db``).
    """
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                                         "FROM generate_series(1, :count) ORDER BY 1"),
                                    {"table": table.name, "count": count}))
    session.flush()
    last = session.scalar(select(func.max(table.c.id))) or 0
    return list(range(last + 1, last + 1 + count))


