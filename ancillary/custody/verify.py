"""Verify custody chains fast: the database writes each event's canonical payload.

The hashed payload of :func:`ancillary.custody.models.event_digest` is canonical JSON, so
the query can write it with the database's own JSON quoting (keys in sorted order; the
same escaping as ``json.dumps(ensure_ascii=False)``, which a test checks character by
character). PostgreSQL also hashes it, in its own process beside ours; on SQLite Python
hashes the string. Rows come as plain tuples through a server-side cursor, in large
batches, so no ORM object is built and memory stays flat.

A value of a type the query does not expect (an edited row, details with content) makes
its payload NULL, and that event alone is hashed by the reference functions. So an event
verifies here exactly when it verifies by :func:`event_digest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.custody.models import GENESIS, CustodyEvent, event_content, event_digest

BATCH = 20_000


def _sqlite_payload() -> str:
    def integer(c, nullable=False):
        null = " WHEN 'null' THEN 'null'" if nullable else ""
        return f"CASE typeof(e.{c}) WHEN 'integer' THEN e.{c}{null} END"

    def string(c):
        return f"CASE typeof(e.{c}) WHEN 'text' THEN json_quote(e.{c}) WHEN 'null' THEN 'null' END"

    def time(c):  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC)
        return (f"CASE WHEN e.{c} IS NULL THEN 'null' WHEN typeof(e.{c}) = 'text' AND length(e.{c}) = 26 AND "
                f"substr(e.{c}, 11, 1) = ' ' THEN '\"' || substr(e.{c}, 1, 10) || 'T' || substr(e.{c}, 12) "
                "|| 'Z\"' END")

    return _payload(integer, string, time, details="CASE WHEN e.details IS NULL OR e.details = 'null' THEN 'null' END",
                    conflict="CASE e.conflict WHEN 1 THEN 'true' WHEN 0 THEN 'false' END")


def _postgres_payload() -> str:
    def integer(c, nullable=False):
        return f"COALESCE(e.{c}::text, 'null')"

    def string(c):
        return f"COALESCE(to_json(e.{c}::text)::text, 'null')"

    def time(c):
        return f"""COALESCE('"' || to_char(e.{c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"', 'null')"""

    return _payload(integer, string, time, details="CASE WHEN e.details IS NULL OR e.details::text = 'null' "
                    "THEN 'null' END", conflict="CASE WHEN e.conflict THEN 'true' ELSE 'false' END")


def _payload(integer, string, time, *, details: str, conflict: str) -> str:
    """SQL for ``{"content":{...sorted keys...},"prev":...}``; NULL if any part is unexpected."""
    parts = [
        ("action", string("action")), ("actor_id", integer("actor_id")), ("client_scan_id", string("client_scan_id")),
        ("conflict", conflict), ("details", details), ("device_at", time("device_at")),
        ("dossier_id", integer("dossier_id")), ("from_holder_id", integer("from_holder_id", True)),
        ("location", string("location")), ("seq", integer("seq")), ("server_at", time("server_at")),
        ("to_holder_id", integer("to_holder_id", True)),
    ]
    body = " || ',' || ".join(f"'\"{key}\":' || ({sql})" for key, sql in parts)
    return f"""'{{"content":{{' || {body} || '}},"prev":' || ({string("prev_hash")}) || '}}'"""


_EVENTS = ("SELECT e.id, e.dossier_id, e.seq, e.prev_hash, e.hash, {check} FROM custody_events e {where} "
           "ORDER BY e.dossier_id, e.seq")
# PostgreSQL answers whether the digest matches (NULL: hash this one by the reference).
_PG_CHECK = "encode(sha256(convert_to({payload}, 'UTF8')), 'hex') = e.hash"
# Heads walk beside the events in the same order (a join would copy a head into every row).
_HEADS = "SELECT h.dossier_id, h.seq, h.hash FROM custody_heads h {where} ORDER BY h.dossier_id"
_ORPHAN = (
    "SELECT h.dossier_id, h.seq FROM custody_heads h WHERE NOT EXISTS "
    "(SELECT 1 FROM custody_events e WHERE e.dossier_id = h.dossier_id) {where} ORDER BY h.dossier_id LIMIT 1"
)


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


def _reference_matches(session: Session, event_id: int) -> bool:
    """Hash one event the reference way (ORM types, the model's digest)."""
    event = session.execute(select(CustodyEvent.__table__).where(CustodyEvent.id == event_id)).one()
    content = event_content(**{k: getattr(event, k) for k in (
        "dossier_id", "seq", "action", "from_holder_id", "to_holder_id", "location", "device_at", "server_at",
        "actor_id", "client_scan_id", "details", "conflict")})
    return event_digest(content, event.prev_hash) == event.hash


class _Walk:
    """Check rows in (dossier, seq) order; stop at the first bad event."""

    def __init__(self, session: Session, heads: _Heads, postgres: bool, progress, every: int):
        self.session, self.heads, self.postgres, self.progress = session, heads, postgres, progress
        self.checked, self.current = 0, None  # current: (dossier_id, last_seq, last_hash)
        self.every = max(1, every)
        self.next_report = self.every if progress else -1  # -1: never equal to a count

    def run(self, cursor) -> BadEvent | None:
        expected_seq, prev_hash, postgres = 1, GENESIS, self.postgres
        while batch := cursor.fetchmany(BATCH):
            for event_id, d_id, seq, link, digest, check in batch:
                if self.current is None or d_id != self.current[0]:
                    if self.current is not None and (bad := _close_chain(self.heads, *self.current)):
                        return bad
                    expected_seq, prev_hash = 1, GENESIS
                self.checked += 1
                if self.checked == self.next_report:
                    self.progress(self.checked)
                    self.next_report += self.every
                if seq != expected_seq:
                    reason = "missing_event" if seq > expected_seq else "sequence_broken"
                    return BadEvent(event_id, d_id, seq, reason)
                if link != prev_hash:
                    return BadEvent(event_id, d_id, seq, "broken_link")
                if check is None:
                    matches = _reference_matches(self.session, event_id)
                else:
                    matches = check if postgres else sha256(check.encode()).hexdigest() == digest
                if not matches:
                    return BadEvent(event_id, d_id, seq, "content_altered")
                expected_seq, prev_hash = seq + 1, digest
                self.current = (d_id, seq, digest)
        if self.current is not None:
            return _close_chain(self.heads, *self.current)
        return None


def _cursor(session: Session, sql: str, params: tuple, name: str):
    """A plain DB-API cursor on the session's connection: server-side on PostgreSQL."""
    raw = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        cursor = raw.cursor(name=name)
        cursor.itersize = BATCH
    else:
        cursor = raw.cursor()
    cursor.execute(sql, params)
    return cursor


def verify_chains(session: Session, dossier_id: int | None = None, *, progress=None,
                  every: int = 100_000) -> Verification:
    """Walk every chain (or one dossier's) in order, streaming; stop at the first bad event.

    ``progress(n)`` is called each time another ``every`` events have been checked."""
    postgres = session.get_bind().dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    params = (dossier_id,) if dossier_id is not None else ()
    check = _PG_CHECK.format(payload=_postgres_payload()) if postgres else _sqlite_payload()
    events = _cursor(session, _EVENTS.format(check=check, where=f"WHERE e.dossier_id = {mark}" if params else ""),
                     params, "custody_verify")
    head_cursor = _cursor(session, _HEADS.format(where=f"WHERE h.dossier_id = {mark}" if params else ""), params,
                          "custody_verify_heads")
    walk = _Walk(session, _Heads(head_cursor), postgres, progress, every)
    try:
        bad = walk.run(events)
    finally:
        events.close()
        head_cursor.close()
    if bad is not None:
        return Verification(False, walk.checked, bad)
    cursor = _cursor(session, _ORPHAN.format(where=f"AND h.dossier_id = {mark}" if params else ""), params,
                     "custody_verify_orphans")
    try:
        row = cursor.fetchone()
    finally:
        cursor.close()
    if row is not None:
        return Verification(False, walk.checked, BadEvent(None, row[0], 1, "chain_truncated"))
    return Verification(True, walk.checked, None)
