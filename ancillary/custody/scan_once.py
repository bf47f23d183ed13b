"""A scan in one statement on PostgreSQL: lock the dossier, check, append, advance the head.

A scan used to send two statements: the locking read (``scan_sql``), then, after Python
checked the row and hashed the event, the writes. Here one data-modifying ``WITH`` does
both: it locks the dossier's row (``FOR UPDATE``, so PostgreSQL's re-check after a lock
wait returns the head as the previous scan committed it), and only when every rule of a
plain scan holds (the caller may scan the case, the case is not archived, no earlier
event carries the caller's scan id, the scan is not older than the chain's head) it
inserts the event, hashing it with PostgreSQL's ``sha256`` over the same canonical JSON
that ``custody.models.event_digest`` hashes, moves the dossier, its head and the chain's
head record, and writes the audit entry.

It answers the locking read's row, plus the new event's id, seq and hash when it wrote
one. Without them nothing was written, and the caller goes on from that row exactly as
after the plain locking read (the row stays locked): the error to answer, a replay, or a
late scan, whose holder is read from the chain first. Python then recomputes the hash the
database stored: a difference would break the chain's tamper evidence, so it refuses the
request (nothing commits) rather than answer.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, bindparam, column, text

from ancillary.auth.models import User
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.custody.models import GENESIS, CustodyAction, CustodyEvent, CustodyHead, event_content, event_digest
from ancillary.db import UTCDateTime
from ancillary.driversql import DriverStatement

_DUMP = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}

# The event's canonical JSON, keys sorted (``event_digest``): the four values only the
# locked row knows (dossier, from-holder, seq, to-holder) and the previous hash are
# spliced in by the statement between the pieces Python writes (``pieces``).
_SQL = f"""
WITH d AS (
    SELECT dossiers.id, dossiers.code, dossiers.volume, dossiers.case_id, dossiers.holder_id, dossiers.location,
           dossiers.head_seq, dossiers.head_hash, dossiers.head_last_at,
           c.number AS case_number, c.status AS case_status, c.judge_id,
           holder.id AS holder_row_id, holder.username AS holder_username,
           holder.display_name AS holder_display_name, earlier.id AS existing_id
    FROM dossiers JOIN cases AS c ON c.id = dossiers.case_id
    LEFT OUTER JOIN users AS holder ON holder.id = dossiers.holder_id
    LEFT OUTER JOIN custody_events AS earlier ON earlier.actor_id = :actor_id AND earlier.client_scan_id = :scan_id
    WHERE dossiers.code = :code
    FOR UPDATE OF dossiers
), go AS (
    SELECT id, case_id, COALESCE(head_seq, 0) + 1 AS seq, COALESCE(head_hash, '{GENESIS}') AS prev_hash,
           holder_id AS from_holder_id,
           CASE WHEN :receive OR holder_id IS NULL THEN :actor_id ELSE holder_id END AS to_holder_id
    FROM d
    WHERE :may_write AND existing_id IS NULL AND case_status <> '{CaseStatus.archived.value}'
      AND (:any_case OR judge_id = :actor_id) AND (head_last_at IS NULL OR head_last_at <= :at)
), hashed AS (
    SELECT go.*, encode(sha256(convert_to(
        CAST(:p_dossier AS text) || id || CAST(:p_from AS text) || COALESCE(CAST(from_holder_id AS text), 'null')
        || CAST(:p_seq AS text) || seq || CAST(:p_to AS text) || COALESCE(CAST(to_holder_id AS text), 'null')
        || CAST(:p_prev AS text) || prev_hash || '"}}', 'UTF8')), 'hex')
        AS hash
    FROM go
), e AS (
    INSERT INTO custody_events (dossier_id, seq, action, from_holder_id, to_holder_id, location, device_at,
                                server_at, actor_id, client_scan_id, details, conflict, prev_hash, hash)
    SELECT id, seq, :action, from_holder_id, to_holder_id, :location, :device_at, :server_at, :actor_id, :scan_id,
           CAST(:details AS json), false, prev_hash, hash
    FROM hashed
    ON CONFLICT (actor_id, client_scan_id) DO NOTHING
    RETURNING id, dossier_id, seq, hash, to_holder_id
), moved AS (
    UPDATE dossiers SET holder_id = e.to_holder_id, location = :location, head_seq = e.seq, head_hash = e.hash,
                        head_last_at = :at
    FROM e WHERE dossiers.id = e.dossier_id
), head AS (
    INSERT INTO custody_heads (dossier_id, seq, hash, last_at)
    SELECT dossier_id, seq, hash, :at FROM e
    ON CONFLICT (dossier_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, last_at = excluded.last_at
), audited AS (
    INSERT INTO audit_entries (at, actor_id, action, object_type, object_id, case_id, before, after)
    SELECT :server_at, :actor_id, :audit_action, '{CustodyEvent.__tablename__}', e.id, d.case_id, NULL,
           CAST(CAST(:a_dossier AS text) || e.dossier_id || CAST(:a_seq AS text) || e.seq || CAST(:a_to AS text)
                || COALESCE(CAST(e.to_holder_id AS text), 'null') || CAST(:a_rest AS text) AS json)
    FROM e, d
)
SELECT d.*, e.id AS event_id, e.seq AS event_seq, e.hash AS event_hash, e.to_holder_id AS event_to_holder_id
FROM d LEFT OUTER JOIN e ON true
"""

# The answer's columns in order, typed: positional columns let SQLAlchemy keep the result's
# description from one execution to the next, where named ones are matched on every scan.
_D, _C, _U = Dossier.__table__.c, Case.__table__.c, User.__table__.c
_RESULT = (*((name, _D[name].type) for name in ("id", "code", "volume", "case_id", "holder_id", "location",
                                                "head_seq", "head_hash", "head_last_at")),
           ("case_number", _C.number.type), ("case_status", _C.status.type), ("judge_id", _C.judge_id.type),
           ("holder_row_id", _U.id.type), ("holder_username", _U.username.type),
           ("holder_display_name", _U.display_name.type), ("existing_id", Integer()), ("event_id", Integer()),
           ("event_seq", Integer()), ("event_hash", String()), ("event_to_holder_id", Integer()))

# Run on the driver's cursor (``ancillary.driversql``): Core's execution layer cost a scan more than the statement.
_STATEMENT = DriverStatement(text(_SQL).bindparams(
    *(bindparam(name, type_=Integer()) for name in ("actor_id",)),
    *(bindparam(name, type_=Boolean()) for name in ("receive", "may_write", "any_case")),
    *(bindparam(name, type_=UTCDateTime()) for name in ("at", "device_at", "server_at")),
    *(bindparam(name, type_=String()) for name in ("code", "scan_id", "action", "location", "audit_action",
                                                   "p_dossier", "p_from", "p_seq", "p_to", "p_prev",
                                                   "a_dossier", "a_seq", "a_to", "a_rest")),
    bindparam("details", type_=CustodyEvent.__table__.c.details.type),
).columns(*(column(name, type_) for name, type_ in _RESULT)))


def read(session, built: dict, *, code: str, actor, client_scan_id: str | None, **scan):
    """The locking read's row (None: no dossier); on PostgreSQL through ``attempt``, which may write the scan."""
    if session.get_bind().dialect.name == "postgresql":
        row = attempt(session.connection(), code=code, actor=actor, client_scan_id=client_scan_id, **scan)
        if row is not None and row.event_id is not None:
            forget(session, row.id)
        return row
    return session.connection().execute(built["read"][bool(client_scan_id)],
                                        {"code": code, "actor_id": actor.id, "scan_id": client_scan_id}).first()


def pieces(*, action: CustodyAction, actor_id: int, client_scan_id: str | None, details: dict | None,
           device_at: datetime | None, location: str | None, server_at: datetime) -> dict:
    """The canonical JSON of the event around what the statement splices in, as ``event_digest`` writes it."""
    known = event_content(dossier_id=0, seq=0, action=action, from_holder_id=None, to_holder_id=None,
                          location=location, device_at=device_at, server_at=server_at, actor_id=actor_id,
                          client_scan_id=client_scan_id, details=details, conflict=False)

    def value(key: str) -> str:
        return json.dumps(known[key], **_DUMP)

    before = ",".join(f'"{key}":{value(key)}' for key in ("action", "actor_id", "client_scan_id", "conflict",
                                                           "details", "device_at"))
    return {"p_dossier": '{"content":{' + before + ',"dossier_id":', "p_from": ',"from_holder_id":',
            "p_seq": f',"location":{value("location")},"seq":',
            "p_to": f',"server_at":{value("server_at")},"to_holder_id":', "p_prev": '},"prev":"'}


def audit_pieces(location: str | None) -> dict:
    """The audit entry's ``after`` as the JSON column writes it (``json.dumps``), around the event's values."""
    return {"a_dossier": '{"dossier_id": ', "a_seq": ', "seq": ', "a_to": ', "to_holder_id": ',
            "a_rest": f', "location": {json.dumps(location)}, "conflict": false}}'}


def attempt(conn, *, code: str, action: CustodyAction, location: str | None, client_scan_id: str | None,
            device_at: datetime | None, actor, may_scan: bool, any_case: bool, now: datetime, typed: bool):
    """Lock the dossier of ``code`` and, if a plain scan may be written, write it; the row, or None (no dossier).

    ``may_scan``: the caller's role scans dossiers; ``any_case``: of any case, not only their own.
    """
    details = {"entry": "typed"} if typed else None
    params = {
        "code": code, "actor_id": actor.id, "scan_id": client_scan_id, "receive": action == CustodyAction.receive,
        "may_write": may_scan and (action == CustodyAction.receive or bool(location)), "any_case": any_case,
        "at": device_at or now, "device_at": device_at, "server_at": now, "action": action.value,
        "location": location, "audit_action": f"custody.{action.value}", "details": details,
        **pieces(action=action, actor_id=actor.id, client_scan_id=client_scan_id, details=details,
                 device_at=device_at, location=location, server_at=now),
        **audit_pieces(location),
    }
    row = _STATEMENT.first(conn, params)
    if row is not None and row.event_id is not None:
        _check_hash(row, action=action, actor_id=actor.id, client_scan_id=client_scan_id, details=details,
                    device_at=device_at, location=location, server_at=now)
    return row


def _check_hash(row, **fields) -> None:
    """The hash the database stored is the one ``event_digest`` gives, or the request fails with nothing kept."""
    prev = row.head_hash or GENESIS
    content = event_content(dossier_id=row.id, seq=row.event_seq, from_holder_id=row.holder_id,
                            to_holder_id=row.event_to_holder_id, conflict=False, **fields)
    if event_digest(content, prev) != row.event_hash:
        raise RuntimeError(f"the database hashed event {row.event_id} of dossier {row.id} differently")


def forget(session, dossier_id: int) -> None:
    """Expire the dossier and its head if this session holds them: written past the ORM, they are stale."""
    for model in (Dossier, CustodyHead):
        held = session.identity_map.get((model, (dossier_id,), None))  # identity_key(model, dossier_id), unbuilt
        if held is not None:
            session.expire(held)
