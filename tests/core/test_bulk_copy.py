"""Rows written in bulk (COPY on PostgreSQL, built column by column) read back exactly as given:
control characters and backslashes, NULLs, one JSON object shared by many rows, instants,
and a write large enough to be sent from a thread while the next lines are built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ancillary.audit.models import AuditEntry
from ancillary.audit.services import record_many_values
from ancillary.db import QUEUED_COPY_ROWS
from ancillary.outbox.services import AUDIT_COLUMNS

AT = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)
ODD = 'tab\there, line\nbreak, cr\r, back\\slash \\N "quoted" 中文'


def _rows(count: int) -> list[tuple]:
    shared = {"note": ODD, "n": 1}
    return [(AT + timedelta(microseconds=i % 7), None, f"bulk.{i % 3}" + (ODD if i % 2 else ""), "notes", i,
             None, None if i % 5 else {"before": i}, shared) for i in range(count)]


def test_odd_values_and_nulls_come_back_as_written(db_session):
    rows = _rows(40)
    record_many_values(db_session, AUDIT_COLUMNS, rows)
    db_session.commit()
    back = db_session.execute(select(AuditEntry.at, AuditEntry.action, AuditEntry.object_type,
                                     AuditEntry.object_id, AuditEntry.before, AuditEntry.after)
                              .where(AuditEntry.action.startswith("bulk.")).order_by(AuditEntry.object_id)).all()
    assert [tuple(r) for r in back] == [(at, action, object_type, object_id, before, after)
                                        for at, _, action, object_type, object_id, _, before, after in rows]


def test_a_write_sent_from_a_thread_loses_and_reorders_nothing(db_session):
    count = QUEUED_COPY_ROWS + 1
    record_many_values(db_session, AUDIT_COLUMNS, _rows(count))
    db_session.commit()
    ids = db_session.scalars(select(AuditEntry.object_id).where(AuditEntry.action.startswith("bulk."))
                             .order_by(AuditEntry.id)).all()
    assert ids == list(range(count))
