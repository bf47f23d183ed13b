"""On SQLite a scan's writes run on the driver's cursor, compiled once: the same rows as SQLAlchemy's execute."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from ancillary.custody import scan_sql
from ancillary.driversql import Precompiled
from tests.custody.test_scan_one_statement import _assert_same_writes, _series


def _through_sqlalchemy(conn, built, event, head, moved, audit):
    """The four writes as SQLAlchemy executes them (the path before the precompiled one)."""
    event_id = conn.execute(built["event"], event).scalar()
    if event_id is None:
        return None
    conn.execute(built["dossier"], {"dossier": event["dossier_id"], **head, **moved})
    conn.execute(built["head"], {"dossier_id": event["dossier_id"], "seq": head["head_seq"],
                                 "hash": head["head_hash"], "last_at": head["head_last_at"]})
    conn.execute(built["audit"], {**audit, "object_id": event_id, "before": None})
    return event_id


@pytest.fixture
def sqlite_only(app):
    if not app.config["SETTINGS"].database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL writes a scan in one statement (test_scan_one_statement)")


def test_precompiled_writes_are_the_rows_sqlalchemy_writes(sqlite_only, court, dossiers, app, clock, monkeypatch):
    one = _series(court, dossiers[0]["qr_token"], clock, "one")
    monkeypatch.setattr(scan_sql, "_write_separately", _through_sqlalchemy)
    two = _series(court, dossiers[1]["qr_token"], clock, "two")
    _assert_same_writes(app, dossiers, one, two)
    assert app.test_cli_runner().invoke(args=["custody", "verify"]).exit_code == 0


def test_a_driver_error_comes_back_as_sqlalchemys_and_nothing_runs_outside_a_transaction(sqlite_only, app):
    from ancillary.extensions import db

    with app.app_context():
        conn = db.session.connection()
        statement = Precompiled(text("INSERT INTO users (id) VALUES (:id)"), conn.dialect)
        with pytest.raises(IntegrityError):  # NOT NULL columns left empty
            statement.execute(conn, {"id": 1})
        db.session.rollback()
        with db.engine.connect() as bare, pytest.raises(RuntimeError):
            statement.execute(bare, {"id": 1})
        db.session.remove()
