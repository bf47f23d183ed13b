"""Verify custody chains fast: plain rows from a server-side cursor, one tight hashing loop.

The canonical payload of :func:`ancillary.custody.models.event_digest` is written here
directly as a string (keys in sorted order, the same escaping as ``json.dumps`` with
``ensure_ascii=False``), so no dict, enum or ORM object is built per event. Times come
from the database already written as UTC ISO strings on PostgreSQL (``to_char`` runs in
the server process, beside ours); SQLite stores them as text that needs one slice. Any
value the fast path does not expect goes through the reference functions, so the
digest of an event is the same however it is computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from hashlib import sha256

from sqlalchemy.dialects.sqlite import DATETIME as SQLITE_DATETIME
from sqlalchemy.orm import Session

from ancillary.custody.models import GENESIS, event_content, event_digest

try:  # the C accelerated string encoder json.dumps uses itself (ensure_ascii=False)
    from _json import encode_basestring as _quote
except ImportError:  # pragma: no cover - CPython always has it
    from json.encoder import py_encode_basestring as _quote

BATCH = 20_000

_SELECT = (
    "SELECT e.id, e.dossier_id, e.seq, e.action, e.from_holder_id, e.to_holder_id, e.location, {device_at}, "
    "{server_at}, e.actor_id, e.client_scan_id, e.details, e.conflict, e.prev_hash, e.hash "
    "FROM custody_events e {where} ORDER BY e.dossier_id, e.seq"
)
# Heads walk beside the events in the same order (a join would copy a head into every row).
_HEADS = "SELECT h.dossier_id, h.seq, h.hash FROM custody_heads h {where} ORDER BY h.dossier_id"
_PG_TIME = "to_char(e.{0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_ORPHAN = (
    "SELECT h.dossier_id, h.seq FROM custody_heads h WHERE NOT EXISTS "
    "(SELECT 1 FROM custody_events e WHERE e.dossier_id = h.dossier_id) {where} ORDER BY h.dossier_id LIMIT 1"
)
_PAYLOAD = ('{{"content":{{"action":{},"actor_id":{},"client_scan_id":{},"conflict":{},"details":{},'
            '"device_at":{},"dossier_id":{},"from_holder_id":{},"location":{},"seq":{},"server_at":{},'
            '"to_holder_id":{}}},"prev":{}}}')


@dataclass
class BadEvent:
    event_id: int | None
    dossier_id: int
    seq: int | None
    reason: str

    def as_dict(self) -> dict:
        return {"id": self.event_id, "dossier_id": self.dossier_id, "seq": self.seq, "reason": self.reason}


@dataclass
class Verification:
    ok: bool
    events_checked: int
    first_bad_event: BadEvent | None


def _value(v) -> str:
    """JSON of an id or text column; anything unexpected as json.dumps would write it."""
    if v is None:
        return "null"
    if v.__class__ is int:
        return str(v)
    if v.__class__ is str:
        return _quote(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _details(v) -> str:
    if v is None or v == "null":
        return "null"
    if v.__class__ is str:  # SQLite hands back the stored JSON text
        v = json.loads(v)
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_SQLITE_PARSE = SQLITE_DATETIME().result_processor(None, None)


def _sqlite_time(v) -> str:
    """SQLite's stored text ``YYYY-MM-DD HH:MM:SS.ffffff`` as the hashed ISO string."""
    if v is None:
        return "null"
    if v.__class__ is str and len(v) == 26 and v[10] == " ":
        return f'"{v[:10]}T{v[11:]}Z"'
    parsed = v if isinstance(v, datetime) else _SQLITE_PARSE(v)
    return f'"{parsed.replace(tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}"'


def _pg_time(v) -> str:
    return "null" if v is None else f'"{v}"'


def _slow_digest(row, as_time) -> str:
    """The reference digest, for rows whose values the fast path did not expect."""
    content = event_content(
        dossier_id=row[1], seq=row[2], action=row[3], from_holder_id=row[4], to_holder_id=row[5],
        location=row[6], device_at=None, server_at=None, actor_id=row[9], client_scan_id=row[10],
        details=json.loads(row[11]) if isinstance(row[11], str) else row[11], conflict=row[12],
    )
    content["device_at"] = json.loads(as_time(row[7]))
    content["server_at"] = json.loads(as_time(row[8]))
    return event_digest(content, row[13])


def _digest(row, as_time) -> str:
    (_, dossier_id, seq, action, from_id, to_id, location, device_at, server_at, actor_id,
     scan_id, details, conflict, prev_hash) = row[:14]
    if action.__class__ is not str or seq.__class__ is not int or prev_hash.__class__ is not str:
        return _slow_digest(row, as_time)
    payload = _PAYLOAD.format(
        _quote(action), _value(actor_id), _value(scan_id), "true" if conflict else "false", _details(details),
        as_time(device_at), _value(dossier_id), _value(from_id), _value(location), seq, as_time(server_at),
        _value(to_id), _quote(prev_hash),
    )
    return sha256(payload.encode()).hexdigest()


class _Heads:
    """Each dossier's head, read from a second cursor in dossier order as the walk needs it."""

    def __init__(self, cursor):
        self.cursor, self.batch, self.at = cursor, [], 0

    def find(self, dossier_id: int) -> tuple[int | None, str | None]:
        while True:
            while self.at < len(self.batch):
                d_id, seq, digest = self.batch[self.at]
                if d_id >= dossier_id:
                    return (seq, digest) if d_id == dossier_id else (None, None)
                self.at += 1
            self.batch, self.at = self.cursor.fetchmany(BATCH), 0
            if not self.batch:
                return None, None


def _close_chain(heads: _Heads, d_id, last_seq, last_hash) -> BadEvent | None:
    head_seq, head_hash = heads.find(d_id)
    if head_seq is None or head_seq != last_seq or head_hash != last_hash:
        truncated = bool(head_seq) and head_seq > last_seq
        return BadEvent(None, d_id, last_seq + 1 if truncated else last_seq,
                        "chain_truncated" if truncated else "head_mismatch")
    return None


def _cursor(session: Session, sql: str, params: tuple, name: str = "custody_verify"):
    """A plain DB-API cursor on the session's connection: server-side on PostgreSQL."""
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        cursor = raw.cursor(name=name)
        cursor.itersize = BATCH
    else:
        cursor = raw.cursor()
    cursor.execute(sql, params)
    return cursor


def _walk(rows, heads: _Heads, as_time, progress) -> tuple[int, BadEvent | None, tuple | None]:
    """Check rows in (dossier, seq) order: events checked, the first bad event, the open chain."""
    checked = 0
    current = None  # (dossier_id, last_seq, last_hash)
    expected_seq, prev_hash = 1, GENESIS
    for batch in rows:
        for row in batch:
            d_id, seq = row[1], row[2]
            if current is None or d_id != current[0]:
                if current is not None and (bad := _close_chain(heads, *current)):
                    return checked, bad, None
                expected_seq, prev_hash = 1, GENESIS
            checked += 1
            if seq != expected_seq:
                reason = "missing_event" if seq > expected_seq else "sequence_broken"
                return checked, BadEvent(row[0], d_id, seq, reason), None
            if row[13] != prev_hash:
                return checked, BadEvent(row[0], d_id, seq, "broken_link"), None
            prev_hash = row[14]
            if _digest(row, as_time) != prev_hash:
                return checked, BadEvent(row[0], d_id, seq, "content_altered"), None
            expected_seq = seq + 1
            current = (d_id, seq, prev_hash)
        if progress and checked % 100_000 < len(batch):
            progress(checked - checked % 100_000)
    return checked, None, current


def _batches(cursor):
    while batch := cursor.fetchmany(BATCH):
        yield batch


def verify_chains(session: Session, dossier_id: int | None = None, *, progress=None) -> Verification:
    """Walk every chain (or one dossier's) in order, streaming; stop at the first bad event."""
    postgres = session.get_bind().dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    where = f"WHERE e.dossier_id = {mark}" if dossier_id is not None else ""
    params = (dossier_id,) if dossier_id is not None else ()
    times = ((_PG_TIME.format("device_at"), _PG_TIME.format("server_at")) if postgres
             else ("e.device_at", "e.server_at"))
    cursor = _cursor(session, _SELECT.format(device_at=times[0], server_at=times[1], where=where), params)
    head_where = f"WHERE h.dossier_id = {mark}" if dossier_id is not None else ""
    head_cursor = _cursor(session, _HEADS.format(where=head_where), params, "custody_verify_heads")
    heads = _Heads(head_cursor)
    try:
        checked, bad, current = _walk(_batches(cursor), heads, _pg_time if postgres else _sqlite_time, progress)
        if bad is None and current is not None:
            bad = _close_chain(heads, *current)
    finally:
        cursor.close()
        head_cursor.close()
    if bad is not None:
        return Verification(False, checked, bad)
    orphan_where = f"AND h.dossier_id = {mark}" if dossier_id is not None else ""
    cursor = _cursor(session, _ORPHAN.format(where=orphan_where), params)
    try:
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is not None:
        return Verification(False, checked, BadEvent(None, row[0], 1, "chain_truncated"))
    return Verification(True, checked, None)
