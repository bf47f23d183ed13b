"""Write audit entries and access-log rows; callers flush and the boundary commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from ancillary.audit.models import AccessLogEntry, AuditEntry
from ancillary.db import bulk_insert, bulk_insert_values


def record(
    session: Session,
    actor,
    action: str,
    obj,
    *,
    now: datetime,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    case_id: int | None = None,
) -> None:
    """Append an audit entry for a state change of ``obj`` by ``actor`` (None: the system).

    Nothing is returned: the next flush writes the session's new entries in one INSERT, outside
    the ORM (``install``), so an entry never gets an id as an object.
    """
    if case_id is None:
        case_id = getattr(obj, "case_id", None)
        if case_id is None and type(obj).__name__ == "Case":
            case_id = obj.id
    entry = AuditEntry(
        at=now,
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__tablename__ if hasattr(type(obj), "__tablename__") else type(obj).__name__,
        object_id=getattr(obj, "id", None),
        case_id=case_id,
        before=before,
        after=after,
    )
    session.add(entry)


def record_many(session: Session, entries: list[dict[str, Any]]) -> None:
    """Append many audit entries (``AuditEntry`` columns as dicts): COPY on PostgreSQL, else one INSERT.

    Through the table, not the ORM: no objects are made, and a sweep writing hundreds of
    thousands of entries spends its time in the database, not in bookkeeping.
    """
    bulk_insert(session, AuditEntry.__table__, entries)


def record_many_values(session: Session, names: list[str], rows: list[tuple]) -> None:
    """``record_many`` for rows given as tuples of the columns ``names`` (a sweep's hundreds of
    thousands of entries: no dict per entry is built)."""
    bulk_insert_values(session, AuditEntry.__table__, names, rows)


def log_access(session: Session, user, case_id: int | None, party_ids: list[int], purpose: str, now: datetime,
               *, object_type: str | None = None, object_id: int | None = None) -> None:
    """Record that ``user`` was shown party data of ``case_id`` (or of the named object)."""
    if party_ids or object_type:
        session.add(AccessLogEntry(at=now, user_id=user.id, case_id=case_id, party_ids=sorted(party_ids),
                                   purpose=purpose, object_type=object_type, object_id=object_id))


def log_accesses(session: Session, user, reads: list[tuple[int, list[int]]], purpose: str, now: datetime) -> None:
    """``log_access`` for many cases at once (``(case_id, party_ids)`` each), in one INSERT: a week's
    calendar shows hundreds of hearings, each with its parties' names."""
    rows = [{"at": now, "user_id": user.id, "case_id": case_id, "party_ids": sorted(party_ids), "purpose": purpose}
            for case_id, party_ids in reads if party_ids]
    if rows:
        session.execute(insert(AccessLogEntry), rows)


ENTRY_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "case_id", "before", "after")


def install() -> None:
    """Write each flush's new audit entries in one executemany INSERT (once; called by ``ancillary.wiring``).

    Nobody reads an entry back as an object, and the ORM, which must learn each new row's id,
    inserts them one statement apiece on SQLite: a filing wrote a dozen statements for its
    entries alone. The entries keep the order ``record`` added them in, so their ids are the same.
    """
    if not event.contains(Session, "before_flush", _write_entries):
        event.listen(Session, "before_flush", _write_entries)


def _write_entries(session: Session, flush_context, instances) -> None:
    entries = [obj for obj in session.new if type(obj) is AuditEntry]
    if not entries:
        return
    entries.sort(key=lambda entry: inspect(entry).insert_order)
    for entry in entries:
        session.expunge(entry)
    session.connection().execute(insert(AuditEntry.__table__),
                                 [{name: getattr(entry, name) for name in ENTRY_COLUMNS} for entry in entries])
