"""Statements run on the driver's cursor (PostgreSQL) answer what Core answers, and fail as Core fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from ancillary.auth.models import Role, User
from ancillary.driversql import DriverStatement
from tests.conftest import NOW

_USERS = select(User.__table__.c.id, User.__table__.c.role, User.__table__.c.created_at,
                User.__table__.c.is_active).where(User.__table__.c.role == Role.archivist,
                                                  User.__table__.c.created_at >= bindparam("since"))


def test_rows_come_back_as_core_reads_them_enums_and_utc_times_included(app, make_actor):
    first, _, _ = make_actor("archivist"), make_actor("file_clerk"), make_actor("archivist")
    with app.test_request_context():
        from ancillary.extensions import db

        session = db.session
        since = NOW - timedelta(days=1)
        core = [tuple(row) for row in session.connection().execute(_USERS, {"since": since})]
        driver = DriverStatement(_USERS).rows(session, {"since": since})
        assert driver == core and len(driver) == 2
        assert driver[0][0] == first.id and driver[0][1] is Role.archivist
        assert driver[0][2].utcoffset() == timedelta(0)
        assert DriverStatement(_USERS).rows(session, {"since": NOW + timedelta(days=1)}) == []
        session.rollback()


def test_a_naive_time_is_refused_before_anything_is_sent(app):
    with app.test_request_context():
        from ancillary.extensions import db

        with pytest.raises(Exception, match="naive"):
            DriverStatement(_USERS).rows(db.session, {"since": NOW.replace(tzinfo=None)})
        db.session.rollback()


def test_a_refused_write_is_core_s_integrity_error_and_writes_nothing(app, make_actor):
    actor = make_actor("archivist")
    insert = DriverStatement(text("INSERT INTO users (username, display_name, role, is_active, is_president, "
                                  "created_at) VALUES (:username, 'x', 'archivist', true, false, :at)")
                             .bindparams(bindparam("at", type_=User.__table__.c.created_at.type)))
    with app.test_request_context():
        from ancillary.extensions import db

        with pytest.raises(IntegrityError) as refused:
            insert.rows(db.session, {"username": actor.username, "at": NOW})
        assert refused.value.orig is not None  # the driver's error, as Core gives it
        db.session.rollback()
        same_name = text("SELECT count(*) FROM users WHERE username = :name")
        assert db.session.scalar(same_name, {"name": actor.username}) == 1
        db.session.rollback()
