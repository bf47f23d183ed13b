"""The walk over one dossier range, in the standard library alone.

A SQLite range is walked in a fresh interpreter of its own (``verify_processes``): this file
is run there as a script, without the application (importing it costs seconds on a busy
machine), reads its task as JSON on stdin, opens the database read-only, and writes its
progress and its findings as lines on stdout. The same classes walk in the application's
process (one walk, one dossier, and PostgreSQL, whose walk ``verify.py`` builds on these).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from dataclasses import asdict, dataclass
from hashlib import sha256

BATCH = 20_000


@dataclass
class BadEvent:
    event_id: int | None
    dossier_id: int
    seq: int | None
    reason: str

    def as_dict(self) -> dict:
        return {"id": self.event_id, "dossier_id": self.dossier_id, "seq": self.seq, "reason": self.reason}


@dataclass
class RangeResult:
    """What one range found: the walk's first bad event, else a head without events, else a holder."""

    checked: int = 0
    bad: BadEvent | None = None
    orphan: BadEvent | None = None
    holder: BadEvent | None = None


class Stopped(Exception):
    """The walk was told to stop (an earlier range found a bad event, or the reader left)."""


class Unsure(Exception):
    """An event needs the reference functions, which a walker without the application lacks."""


class Db:
    """One DB-API connection as the walk uses it: plain cursors, server-side on PostgreSQL."""

    def __init__(self, raw, postgres: bool):
        self.raw, self.postgres = raw, postgres
        self.mark = "%s" if postgres else "?"

    def cursor(self, sql: str, params, name: str):
        if self.postgres:
            cursor = self.raw.cursor(name=name)
            cursor.itersize = BATCH
        else:
            cursor = self.raw.cursor()
        cursor.execute(sql, tuple(params))
        return cursor

    def one(self, sql: str, params):
        cursor = self.raw.cursor()
        try:
            cursor.execute(sql, tuple(params))
            return cursor.fetchone()
        finally:
            cursor.close()


class Heads:
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


def close_chain(heads: Heads, d_id, last_seq, last_hash) -> BadEvent | None:
    head_seq, head_hash = heads.find(d_id)
    if head_seq is None or head_seq != last_seq or head_hash != last_hash:
        truncated = bool(head_seq) and head_seq > last_seq
        return BadEvent(None, d_id, last_seq + 1 if truncated else last_seq,
                        "chain_truncated" if truncated else "head_mismatch")
    return None


class Walk:
    """Check rows in (dossier, seq) order; stop at the first bad event (Python hashes each payload).

    ``checked`` may be read from another thread while the walk goes; ``stop()`` is asked
    between batches; ``reference(event_id)`` hashes an event whose payload is NULL."""

    def __init__(self, reference, progress=None, every: int = 100_000, stop=None):
        self.reference, self.progress, self.stop = reference, progress, stop
        self.checked, self.current = 0, None  # current: (dossier_id, last_seq, last_hash)
        self.every = max(1, every)
        self.next_report = self.every if progress else -1  # -1: never reached

    def batches(self, cursor):
        while batch := cursor.fetchmany(BATCH):
            if self.stop is not None and self.stop():
                raise Stopped
            yield batch

    def run(self, cursor, heads: Heads, genesis: str) -> BadEvent | None:
        expected_seq, prev_hash = 1, genesis
        for batch in self.batches(cursor):
            for event_id, d_id, seq, link, digest, payload in batch:
                if self.current is None or d_id != self.current[0]:
                    if self.current is not None and (bad := close_chain(heads, *self.current)):
                        return bad
                    expected_seq, prev_hash = 1, genesis
                self.checked += 1
                if self.checked == self.next_report:
                    self.progress(self.checked)
                    self.next_report += self.every
                if seq != expected_seq:
                    return BadEvent(event_id, d_id, seq, "missing_event" if seq > expected_seq else "sequence_broken")
                if link != prev_hash:
                    return BadEvent(event_id, d_id, seq, "broken_link")
                if payload is None:
                    matches = self.reference(event_id)
                else:
                    matches = sha256(payload.encode()).hexdigest() == digest
                if not matches:
                    return BadEvent(event_id, d_id, seq, "content_altered")
                expected_seq, prev_hash = seq + 1, digest
                self.current = (d_id, seq, digest)
        return close_chain(heads, *self.current) if self.current is not None else None


def walk_range(db: Db, queries: dict, walk: Walk, result: RangeResult, *, holders: bool) -> RangeResult:
    """Walk one range's chains (``queries``: its SQL, parameters and genesis hash) completely,
    then (if sound) look for a head without events and, with ``holders``, a dossier its chain
    does not explain."""
    params = queries["params"]
    events = db.cursor(queries["events"], params, "custody_verify")
    head_cursor = db.cursor(queries["heads"], params, "custody_verify_heads")
    try:
        result.bad = walk.run(events, Heads(head_cursor), queries["genesis"])
    finally:
        result.checked = walk.checked
        events.close()
        head_cursor.close()
    if result.bad is None:
        row = db.one(queries["orphan"], params)
        result.orphan = BadEvent(None, row[0], 1, "chain_truncated") if row else None
    if result.bad is None and holders:
        row = db.one(queries["holder"], params)
        result.holder = BadEvent(None, row[0], row[1], "holder_mismatch") if row else None
        if result.holder is None:
            row = db.one(queries["head_copy"], params)
            result.holder = BadEvent(None, row[0], row[1], "head_mismatch") if row else None
    return result


# --- a walker process: task on stdin, lines on stdout -------------------------------------------


def _unsure(event_id):
    raise Unsure(event_id)


class _Reporting(Walk):
    """A walk that writes how far it got after every batch (the coordinator sums the ranges)."""

    def batches(self, cursor):
        for batch in super().batches(cursor):
            yield batch
            _say("checked", self.checked)


def _say(kind: str, value) -> None:
    sys.stdout.write(f"{kind} {json.dumps(value)}\n")
    sys.stdout.flush()


def main() -> None:
    task = json.loads(sys.stdin.readline())
    raw = sqlite3.connect(task["database"], uri=True, isolation_level=None)  # a read-only URI
    raw.execute("PRAGMA cache_size = -8192")  # a scan in order needs little cache
    raw.execute("BEGIN")  # one read snapshot for the whole range, from its first read on
    _say("newest", raw.execute("SELECT max(id) FROM custody_events").fetchone()[0])
    walk = _Reporting(_unsure)
    try:
        result = walk_range(Db(raw, False), task["queries"], walk, RangeResult(), holders=task["holders"])
    except Unsure:
        _say("unsure", walk.checked)
        return
    _say("result", asdict(result))


if __name__ == "__main__":
    main()
