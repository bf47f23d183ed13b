"""A scan's statements, built once per shape and dialect: one read that locks, then the writes.

The read locks the dossier's row (``FOR UPDATE`` on PostgreSQL; SQLite's transaction holds
the write lock already) and returns, in one row, everything a scan decides on: the dossier,
its chain's head (kept on the dossier's row, so PostgreSQL's re-check after waiting for the
lock returns it as the previous scan committed it), its case's number, status and judge, its
holder's name, and the caller's earlier event with the same client scan id.

The writes go through the tables, not the ORM's unit of work (it costs a scan more than the
statements themselves): the event (``ON CONFLICT DO NOTHING`` on the caller's scan id, so a
copy of the scan that committed while this one waited is found, not doubled), the dossier
(holder, location, head), the chain's head in ``custody_heads`` (the record ``verify`` checks),
and the audit entry.
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, exists, false, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ancillary.audit.models import AuditEntry
from ancillary.auth.models import User
from ancillary.cases.models import Case, Dossier
from ancillary.custody.models import CustodyEvent, CustodyHead
from ancillary.driversql import Precompiled

EVENTS, HEADS, DOSSIERS, AUDIT = (CustodyEvent.__table__, CustodyHead.__table__, Dossier.__table__,
                                  AuditEntry.__table__)
CASES, USERS = Case.__table__, User.__table__


def _same_scan(with_id: bool):
    """The join condition of the caller's earlier event with this client scan id (none without an id)."""
    if not with_id:
        return false()
    return and_(EVENTS.c.actor_id == bindparam("actor_id"), EVENTS.c.client_scan_id == bindparam("scan_id"))


def _read(with_id: bool, lock: bool):
    # Table columns, not the models' attributes: plain rows, without the ORM's loading machinery.
    d, c, holder = DOSSIERS.c, CASES.c, USERS.alias("holder").c
    query = (select(d.id, d.code, d.volume, d.case_id, d.holder_id, d.location, d.head_seq, d.head_hash,
                    d.head_last_at, c.number.label("case_number"), c.status.label("case_status"), c.judge_id,
                    holder.id.label("holder_row_id"), holder.username.label("holder_username"),
                    holder.display_name.label("holder_display_name"), EVENTS.c.id.label("existing_id"))
             .select_from(DOSSIERS.join(CASES, c.id == d.case_id)
                          .outerjoin(holder.id.table, holder.id == d.holder_id)
                          .outerjoin(EVENTS, _same_scan(with_id)))
             .where(d.code == bindparam("code")))
    return query.with_for_update(of=DOSSIERS) if lock else query


def _insert(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def _statements(dialect: str) -> dict:
    insert = _insert(dialect)
    heads = insert(HEADS)
    return {
        "read": {with_id: _read(with_id, dialect == "postgresql") for with_id in (False, True)},
        "event": (insert(EVENTS).on_conflict_do_nothing(index_elements=["actor_id", "client_scan_id"])
                  .returning(EVENTS.c.id)),
        "dossier": update(DOSSIERS).where(DOSSIERS.c.id == bindparam("dossier")),
        "head": heads.on_conflict_do_update(index_elements=["dossier_id"], set_={
            "seq": heads.excluded.seq, "hash": heads.excluded.hash, "last_at": heads.excluded.last_at}),
        "audit": insert(AUDIT),
        "existing": select(CustodyEvent).where(CustodyEvent.actor_id == bindparam("actor_id"),
                                               CustodyEvent.client_scan_id == bindparam("scan_id")),
    }


def _typed(table, prefix: str, names) -> dict:
    return {name: bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in names}


EVENT_COLUMNS = ("dossier_id", "seq", "action", "from_holder_id", "to_holder_id", "location", "device_at",
                 "server_at", "actor_id", "client_scan_id", "details", "conflict", "prev_hash", "hash")
AUDIT_COLUMNS = ("at", "actor_id", "action", "object_type", "case_id", "after")


def _writes_at_once(moved: bool):
    """PostgreSQL: the scan's four writes in one statement, each after the event's insert only
    if the insert took place; it answers the new event's id, or no row (the scan id was taken)."""
    event = (postgresql.insert(EVENTS).values(_typed(EVENTS, "e_", EVENT_COLUMNS))
             .on_conflict_do_nothing(index_elements=["actor_id", "client_scan_id"]).returning(EVENTS.c.id).cte("e"))
    head = _typed(DOSSIERS, "d_", ("head_seq", "head_hash", "head_last_at"))
    place = _typed(DOSSIERS, "d_", ("holder_id", "location")) if moved else {}
    dossier = (update(DOSSIERS).where(DOSSIERS.c.id == bindparam("e_dossier_id"), exists(select(event.c.id)))
               .values(**head, **place).returning(DOSSIERS.c.id).cte("d"))
    heads = postgresql.insert(HEADS).from_select(
        ["dossier_id", "seq", "hash", "last_at"],
        select(bindparam("e_dossier_id"), head["head_seq"], head["head_hash"], head["head_last_at"]).select_from(event))
    heads = heads.on_conflict_do_update(index_elements=["dossier_id"], set_={
        "seq": heads.excluded.seq, "hash": heads.excluded.hash, "last_at": heads.excluded.last_at})
    audit = _typed(AUDIT, "a_", AUDIT_COLUMNS)
    entry = postgresql.insert(AUDIT).from_select(
        [*AUDIT_COLUMNS, "object_id"], select(*audit.values(), event.c.id).select_from(event))
    return select(event.c.id).add_cte(dossier, heads.returning(HEADS.c.dossier_id).cte("h"),
                                      entry.returning(AUDIT.c.id).cte("a"))


# Built once per dialect: a statement object that is reused keeps its cache key.
_BUILT = {name: _statements(name) for name in ("postgresql", "sqlite")}
_BUILT["postgresql"]["at_once"] = {moved: _writes_at_once(moved) for moved in (False, True)}


def write(conn, built: dict, event: dict, head: dict, moved: dict, audit: dict) -> int | None:
    """Write a scan's event, dossier (head, and holder and location if ``moved``), head and audit
    entry; the new event's id, or None and nothing written if the caller's scan id is taken."""
    writer = _write_at_once if "at_once" in built else _write_separately
    return writer(conn, built, event, head, moved, audit)


def _write_at_once(conn, built: dict, event: dict, head: dict, moved: dict, audit: dict) -> int | None:
    """PostgreSQL: the four writes in one statement (one round trip)."""
    params = {**{f"e_{k}": v for k, v in event.items()}, **{f"d_{k}": v for k, v in {**head, **moved}.items()},
              **{f"a_{k}": v for k, v in audit.items()}}
    return conn.execute(built["at_once"][bool(moved)], params).scalar()


def _write_separately(conn, built: dict, event: dict, head: dict, moved: dict, audit: dict) -> int | None:
    """SQLite: one statement each (in process, a statement costs no round trip), each compiled
    once and run on the driver's cursor (``Precompiled``): SQLAlchemy's work per statement
    cost a scan more than SQLite's."""
    written = _precompiled(conn.dialect)
    inserted = written["event"].execute(conn, event).fetchone()
    if inserted is None:
        return None
    event_id = inserted[0]
    written["dossier", bool(moved)].execute(conn, {"dossier": event["dossier_id"], **head, **moved})
    written["head"].execute(conn, {"dossier_id": event["dossier_id"], "seq": head["head_seq"],
                                   "hash": head["head_hash"], "last_at": head["head_last_at"]})
    written["audit"].execute(conn, {**audit, "object_id": event_id, "before": None})
    return event_id


_PRECOMPILED: dict = {}


def _precompiled(dialect) -> dict:
    """SQLite's four writes compiled once (for the first SQLite engine's dialect: they are all alike)."""
    if not _PRECOMPILED:
        built = _BUILT["sqlite"]
        head = ["head_seq", "head_hash", "head_last_at"]
        _PRECOMPILED.update({
            "event": Precompiled(built["event"], dialect, list(EVENT_COLUMNS)),
            ("dossier", False): Precompiled(built["dossier"], dialect, head),
            ("dossier", True): Precompiled(built["dossier"], dialect, [*head, "holder_id", "location"]),
            "head": Precompiled(built["head"], dialect, ["dossier_id", "seq", "hash", "last_at"]),
            "audit": Precompiled(built["audit"], dialect, [*AUDIT_COLUMNS, "object_id", "before"]),
        })
    return _PRECOMPILED


def statements(session) -> dict:
    """The scan's statements for the session's database."""
    return _BUILT[session.get_bind().dialect.name]
