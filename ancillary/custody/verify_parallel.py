"""Walk several dossier ranges at once, each on a connection of its own, in threads.

sqlite3 lets other threads run while SQLite steps (where it writes the payloads), and
psycopg while it waits for the server (where PostgreSQL writes and hashes them), so the
ranges overlap on several cores. On PostgreSQL every range reads the same snapshot (the
coordinator's, exported); on SQLite each range reads one snapshot of its own.

A range that finds a bad event stops the ranges after it (their findings would come later
in dossier order); the ranges before it go on, since one of them may find an earlier one.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

from psycopg import sql
from sqlalchemy import text
from sqlalchemy.orm import Session

POLL_SECONDS = 0.05
SQLITE_CACHE_KB = 8192  # per range's connection while it walks


class Slot:
    """One range's place in the run: its bounds, the walk (read for progress), its result."""

    def __init__(self, index: int, scope: tuple[int, int], shared: _Shared):
        self.index, self.scope, self.shared = index, scope, shared
        self.walk = None

    def checked(self) -> int:
        return self.walk.checked if self.walk is not None else 0

    def stop(self) -> bool:
        return self.shared.aborted or self.shared.first_bad < self.index


class _Shared:
    def __init__(self, ranges: int):
        self.aborted, self.first_bad, self.lock = False, ranges, threading.Lock()

    def found_bad(self, index: int) -> None:
        with self.lock:
            self.first_bad = min(self.first_bad, index)


def run_ranges(session: Session, scopes: list[tuple[int, int]], task, progress, every: int) -> list:
    """Run ``task(raw_connection, slot)`` for every range in threads; their results, in range order.

    ``progress(n)`` is called here, in the caller's thread, for each multiple of ``every``
    the ranges have checked between them; if it raises, every range stops and it is raised."""
    engine = session.get_bind()
    snapshot = None
    if engine.dialect.name == "postgresql":
        snapshot = session.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    shared = _Shared(len(scopes))
    slots = [Slot(i, scope, shared) for i, scope in enumerate(scopes)]
    with ThreadPoolExecutor(len(slots), thread_name_prefix="custody-verify") as pool:
        futures = [pool.submit(_in_own_connection, engine, snapshot, task, slot) for slot in slots]
        try:
            _report(futures, slots, progress, max(1, every))
        except BaseException:
            shared.aborted = True
            wait(futures)
            raise
    return [future.result() for future in futures]


def _in_own_connection(engine, snapshot: str | None, task, slot: Slot):
    fairy = engine.raw_connection()
    raw = fairy.driver_connection
    restore = _begin(raw, engine.dialect.name == "postgresql", snapshot)
    try:
        result = task(raw, slot)
        if result.bad is not None:
            slot.shared.found_bad(slot.index)
        return result
    finally:
        raw.rollback()
        restore()
        fairy.close()


def _begin(raw, postgres: bool, snapshot: str | None):
    """Open the range's read transaction; return what puts the connection back as the pool had it."""
    if postgres:
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        return lambda: None
    cache = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    raw.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KB}")  # a scan in order needs little cache
    raw.execute("BEGIN")  # one read snapshot for the whole range
    return lambda: raw.execute(f"PRAGMA cache_size = {cache}")


def _report(futures, slots: list[Slot], progress, every: int) -> None:
    reported = 0
    while True:
        _, pending = wait(futures, timeout=POLL_SECONDS, return_when=FIRST_EXCEPTION)
        if progress is not None:
            checked = sum(slot.checked() for slot in slots)
            while checked >= reported + every:
                reported += every
                progress(reported)
        failed = next((f for f in futures if f.done() and f.exception() is not None), None)
        if failed is not None:
            raise failed.exception()
        if not pending:
            return
