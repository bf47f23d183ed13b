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
    the ORM (``install``), so an entry never gets an id as an object. ``obj`` may be a row not
    flushed yet: the entry names it by the id that flush gives it, so no caller flushes first
    only to learn an id.
    """
    object_id = getattr(obj, "id", None)
    named_case = case_id is None and type(obj).__name__ == "Case"
    if case_id is None:
        case_id = object_id if named_case else getattr(obj, "case_id", None)
    entry = AuditEntry(
        at=now,
        actor_id=getattr(actor, "id", None),
        action=action,
        object_type=type(obj).__tablename__ if hasattr(type(obj), "__tablename__") else type(obj).__name__,
        object_id=object_id,
        case_id=case_id,
        before=before,
        after=after,
    )
    session.add(entry)
    if object_id is None and obj is not None:
        session.info.setdefault(_WITHOUT_ID, {})[entry] = (obj, named_case)


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
    """``log_access`` for many cases at once (``(case_id, party_ids)`` each), in one write (a COPY on
    PostgreSQL): a week's calendar shows hundreds of hearings, each with its parties' names."""
    rows = [(now, user.id, case_id, sorted(party_ids), purpose) for case_id, party_ids in reads if party_ids]
    bulk_insert_values(session, AccessLogEntry.__table__, ["at", "user_id", "case_id", "party_ids", "purpose"], rows)


ENTRY_COLUMNS = ("at", "actor_id", "action", "object_type", "object_id", "case_id", "before", "after")
# Built once: about one flush in two writes entries (18,000 a replayed month), and a statement
# built anew pays its construction and cache key every time.
_INSERT_ENTRIES = insert(AuditEntry.__table__)
_WITHOUT_ID = "audit.objects_without_id"  # session.info: entry -> (the row it names, that row is its case)
_AFTER = "audit.entries_after_flush"  # a flush's entries that wait for the ids it gives


def install() -> None:
    """Write each flush's new audit entries in one executemany INSERT (once; called by ``ancillary.wiring``).

    Nobody reads an entry back as an object, and the ORM, which must learn each new row's id,
    inserts them one statement apiece on SQLite: a filing wrote a dozen statements for its
    entries alone. The entries keep the order ``record`` added them in, so their ids are the same.
    Entries naming a row that flush inserts are written once it has (its id known then).
    """
    if not event.contains(Session, "before_flush", _write_entries):
        event.listen(Session, "before_flush", _write_entries)
    if not event.contains(Session, "after_flush", _write_waiting):
        event.listen(Session, "after_flush", _write_waiting)


def _write_entries(session: Session, flush_context, instances) -> None:
    entries = [obj for obj in session.new if type(obj) is AuditEntry]
    without_id = session.info.pop(_WITHOUT_ID, None)
    if not entries:
        return
    entries.sort(key=lambda entry: inspect(entry).insert_order)
    for entry in entries:
        session.expunge(entry)
    rows = [{name: getattr(entry, name) for name in ENTRY_COLUMNS} for entry in entries]
    named = [(row, without_id[entry]) for row, entry in zip(rows, entries, strict=True)
             if without_id and entry in without_id and _inserted_by(session, without_id[entry][0])]
    if named:  # the flush goes on (it has that row to insert), so its after_flush comes
        flush_context.attributes[_AFTER] = (rows, named)
    else:
        session.connection().execute(_INSERT_ENTRIES, rows)


def _inserted_by(session: Session, obj) -> bool:
    """``obj`` is a row this session's flush is about to insert (a row without an ``id`` column,
    or one never added, keeps the entry's ``object_id`` as it is)."""
    state = inspect(obj, raiseerr=False)
    return state is not None and state.pending and state.session is session


def _write_waiting(session: Session, flush_context) -> None:
    """The entries of a flush that inserted a row they name, with its id now given."""
    waiting = flush_context.attributes.pop(_AFTER, None)
    if waiting is None:
        return
    rows, named = waiting
    for row, (obj, named_case) in named:
        row["object_id"] = getattr(obj, "id", None)
        if named_case:
            row["case_id"] = row["object_id"]
    session.connection().execute(_INSERT_ENTRIES, rows)
