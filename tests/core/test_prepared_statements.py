"""A PostgreSQL connection keeps its prepared statements when a transaction rolls back.

Every refused request rolls back; psycopg alone would then forget every prepared statement,
and the next requests would have PostgreSQL parse and plan their statements again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DataError

from tests.conftest import DB_KIND

pytestmark = [pytest.mark.postgres_only,
              pytest.mark.skipif(DB_KIND != "postgresql", reason="prepared statements are PostgreSQL's")]

_LOOKUP = "SELECT count(*) FROM users WHERE id >= %(least)s"
_PREPARED = "SELECT name FROM pg_prepared_statements WHERE statement LIKE 'SELECT count(*) FROM users WHERE id >= %'"


def _run(dbapi_connection, times: int = 1) -> int:
    """Run the lookup ``times`` on the driver's cursor, as the hot statements run; its last answer."""
    for _ in range(times):
        with dbapi_connection.cursor() as cursor:
            cursor.execute(_LOOKUP, {"least": 0})
            (count,) = cursor.fetchone()
    return count


def _prepared(dbapi_connection) -> list[str]:
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_PREPARED, prepare=False)
        return [name for (name,) in cursor.fetchall()]


@pytest.fixture
def raw(app):
    """A pooled connection of the app's engine in a transaction, with its driver connection."""
    from ancillary.extensions import db

    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text("SELECT 1"))  # the transaction a request opens, rolled back by ``rollback()``
        yield connection, connection.connection.dbapi_connection


def test_a_statement_run_often_stays_prepared_after_a_rollback(raw, make_actor):
    make_actor("archivist")
    connection, driver = raw
    users = _run(driver, times=6)
    assert users >= 1
    (name,) = _prepared(driver)  # prepared the sixth time, inside the transaction
    connection.rollback()
    assert _prepared(driver) == [name]
    assert _run(driver) == users  # answered by the kept statement, and rightly
    assert _prepared(driver) == [name]


def test_a_failed_transaction_rolled_back_keeps_them_too(raw):
    connection, driver = raw
    users = _run(driver, times=6)
    (name,) = _prepared(driver)
    connection.rollback()
    connection.execute(text("SELECT 1"))
    with pytest.raises(DataError):
        connection.execute(text("SELECT 1 / 0"))
    connection.rollback()
    assert _prepared(driver) == [name]
    assert _run(driver) == users


def test_a_schema_change_still_clears_them(raw):
    connection, driver = raw
    users = _run(driver, times=6)
    assert len(_prepared(driver)) == 1
    with driver.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE scratch (id integer)")
        cursor.execute("ALTER TABLE scratch ADD COLUMN note text")
    assert _prepared(driver) == []  # psycopg's DEALLOCATE ALL, sent before this read
    assert _run(driver) == users  # run again, unprepared
    connection.rollback()
