"""Verify custody chains fast: the database writes each event's canonical payload.

The queries (``verify_sql``) have the database write each event's canonical payload with
its own JSON quoting; PostgreSQL also hashes it, in its own process beside ours; on SQLite
Python hashes the string. Rows come as plain tuples through a server-side cursor, in large
batches, so no ORM object is built and memory stays flat.

A value of a type the query does not expect (an edited row, details with content) makes
its payload NULL, and that event alone is hashed by the reference functions. So an event
verifies here exactly when it verifies by :func:`event_digest`.

The whole court is checked in parallel: the dossier ids are split into ranges, one per
worker, each walked completely: on PostgreSQL on a connection of its own in a thread (psycopg
lets other threads run while the server works), on SQLite in a process of its own
(``verify_processes``), since there Python hashes. The ranges' findings are merged in
dossier order, so the answer is the one a single walk gives.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from ancillary.custody import verify_sql
from ancillary.custody.models import GENESIS, CustodyEvent, event_content, event_digest
from ancillary.custody.verify_parallel import run_ranges
from ancillary.custody.verify_processes import run_processes, sqlite_file
from ancillary.custody.verify_walk import BadEvent, Db, Heads, RangeResult, Stopped, Walk, close_chain, walk_range

__all__ = ["BadEvent", "RangeResult", "Verification", "verify_chains"]

MAX_WORKERS = 16  # each range holds a pooled connection (or a process) while it walks
_REFERENCE = ("dossier_id", "seq", "action", "from_holder_id", "to_holder_id", "location", "device_at", "server_at",
              "actor_id", "client_scan_id", "details", "conflict")


@dataclass
class Verification:
    ok: bool
    events_checked: int
    first_bad_event: BadEvent | None


def _reference_matches(db: Db, dialect, event_id: int) -> bool:
    """Hash one event the reference way: its values typed as the model types them, the model's digest."""
    row = db.one(f"SELECT {', '.join(_REFERENCE)}, prev_hash, hash FROM custody_events WHERE id = {db.mark}",
                 (event_id,))
    values = {}
    for name, value in zip(_REFERENCE, row, strict=False):
        convert = CustodyEvent.__table__.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
        values[name] = convert(value) if convert else value
    return event_digest(event_content(**values), row[-2]) == row[-1]


class _PostgresWalk(Walk):
    """The same walk over what PostgreSQL sends back: only the events that end a chain or fail a
    check, each with what the walk expects of it and how many events come up to it."""

    def run(self, cursor, heads: Heads, genesis: str) -> BadEvent | None:
        for batch in self.batches(cursor):
            for event_id, d_id, seq, link, digest, ok, want_seq, want_prev, last, n in batch:
                self.checked = n
                while 0 < self.next_report <= n:
                    self.progress(self.next_report)
                    self.next_report += self.every
                if seq != want_seq:
                    return BadEvent(event_id, d_id, seq, "missing_event" if seq > want_seq else "sequence_broken")
                if link != want_prev:
                    return BadEvent(event_id, d_id, seq, "broken_link")
                if not ok and (ok is not None or not self.reference(event_id)):
                    return BadEvent(event_id, d_id, seq, "content_altered")
                if last and (bad := close_chain(heads, d_id, seq, digest)):
                    return bad
        return None


def _walk(db: Db, dialect, progress=None, every: int = 100_000, stop=None) -> Walk:
    def reference(event_id: int) -> bool:
        return _reference_matches(db, dialect, event_id)

    return (_PostgresWalk if db.postgres else Walk)(reference, progress, every, stop)


def range_queries(postgres: bool, scope: tuple[int, int] | None) -> dict:
    """The SQL one range is walked with (``verify_walk.walk_range``), its parameters and genesis."""
    mark = "%s" if postgres else "?"
    condition, params = verify_sql.scope_sql("e.dossier_id", mark, scope)
    head_condition, _ = verify_sql.scope_sql("h.dossier_id", mark, scope)
    dossier_condition, _ = verify_sql.scope_sql("d.id", mark, scope)
    return {"events": (verify_sql.postgres_walk_sql(condition, GENESIS) if postgres
                       else verify_sql.sqlite_events_sql(condition)),
            "heads": verify_sql.heads_sql(head_condition), "orphan": verify_sql.orphan_sql(head_condition),
            "holder": verify_sql.holder_sql(postgres, dossier_condition),
            "head_copy": verify_sql.head_copy_sql(postgres, dossier_condition),
            "params": list(params), "genesis": GENESIS}


def check_range(db: Db, dialect, scope: tuple[int, int] | None, walk: Walk, result: RangeResult, *,
                holders: bool) -> RangeResult:
    """Walk the chains of the dossiers in ``scope`` (all when None) completely, then (if sound)
    look for a head without events and, with ``holders``, a dossier its chain does not explain."""
    return walk_range(db, range_queries(db.postgres, scope), walk, result, holders=holders)


def merge(results: list[RangeResult]) -> Verification:
    """The ranges' findings in dossier order, as one walk over all of them would report them."""
    checked = 0
    for result in results:
        checked += result.checked
        if result.bad is not None:
            return Verification(False, checked, result.bad)
    for kind in ("orphan", "holder"):
        found = next((getattr(r, kind) for r in results if getattr(r, kind) is not None), None)
        if found is not None:
            return Verification(False, checked, found)
    return Verification(True, checked, None)


def default_workers(dialect: str) -> int:
    """One range per core: on PostgreSQL each on a connection of its own (the server builds and
    hashes the payloads), on SQLite each in a process of its own (Python hashes them; ranges in
    threads would queue for one interpreter: idle 2-core machine, 1 M events, one walk 6.9 s,
    two ranges in threads 9.4 s)."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def verify_chains(session: Session, dossier_id: int | None = None, *, progress=None, every: int = 100_000,
                  holders: bool = False, workers: int | None = None) -> Verification:
    """Walk every chain (or one dossier's) in order, streaming; name the first bad event.

    ``progress(n)`` is called each time another ``every`` events have been checked.
    ``holders``: also name the first dossier whose holder or location its chain does not
    explain (after every chain verified). ``workers``: how many ranges are walked at once
    (default: one per core); one dossier, or one worker, is walked on the session's connection.
    """
    bind = session.get_bind()
    workers = default_workers(bind.dialect.name) if workers is None else max(1, min(MAX_WORKERS, workers))
    progress = _Monotonic(progress) if progress is not None else None
    if dossier_id is None and workers > 1:
        low, high = session.execute(text(verify_sql.bounds_sql())).one()
        if low is not None and high > low:
            scopes = _split(low, high, workers)
            database = sqlite_file(bind.url) if bind.dialect.name == "sqlite" else None
            if database is None:
                return merge(run_ranges(session, scopes, _range_task(bind, holders), progress, every))
            tasks = [{"queries": range_queries(False, scope), "holders": holders} for scope in scopes]
            results = run_processes(database, tasks, progress, every)
            if results is not None:
                return merge(results)
    db = Db(session.connection().connection.driver_connection, bind.dialect.name == "postgresql")
    scope = (dossier_id, dossier_id + 1) if dossier_id is not None else None
    result = check_range(db, bind.dialect, scope, _walk(db, bind.dialect, progress, every), RangeResult(),
                         holders=holders)
    return merge([result])


class _Monotonic:
    """Progress that never counts back (a walk redone in one pass after ranges starts at zero)."""

    def __init__(self, progress):
        self.progress, self.reported = progress, 0

    def __call__(self, n: int) -> None:
        if n > self.reported:
            self.reported = n
            self.progress(n)


def _split(low: int, high: int, parts: int) -> list[tuple[int, int]]:
    """``[low, high]`` as up to ``parts`` half-open ranges of about equal width."""
    span = high - low + 1
    parts = min(parts, span)
    edges = [low + span * i // parts for i in range(parts)] + [high + 1]
    return list(zip(edges, edges[1:], strict=False))


def _range_task(bind, holders: bool):
    """What a worker thread does with its range (``slot``) on its own connection."""

    def task(raw, slot) -> RangeResult:
        db, result = Db(raw, bind.dialect.name == "postgresql"), RangeResult()
        slot.walk = _walk(db, bind.dialect, stop=slot.stop)  # the coordinator reads walk.checked for progress
        try:
            return check_range(db, bind.dialect, slot.scope, slot.walk, result, holders=holders)
        except Stopped:
            return result  # a range before this one found a bad event: this one's findings come later

    return task
