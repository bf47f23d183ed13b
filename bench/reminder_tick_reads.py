"""A routine reminder tick's two reads at a year's scale: before and after issue 14's fourth cuts.

    .venv/bin/python bench/reminder_tick_reads.py [--entries 720000] [--hearings 19000] [--rounds 20]

Fills a SQLite database (the product's tables, from its models) with a replayed year's
audit entries (about 720,000) and booked hearings (about 19,000), spread over 2026, then
times, side by side in one process, the reads a tick six hours after the last makes: the
cases changed since then (``marks.changed_cases``) and the cases whose last hearing ended
in the heard-not-closed window (``sources.last_held_hearings``), each against the statement
it replaced. Checks both give the same answer. Writes bench/out/reminder_tick_reads.json.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta

from common import write
from sqlalchemy import create_engine, func, insert, not_, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

import ancillary.models  # noqa: F401 - every table, so the foreign keys resolve
from ancillary.audit.models import AuditEntry
from ancillary.db import Base
from ancillary.reminders import marks, sources
from ancillary.scheduling.models import Hearing, HearingStatus

YEAR = datetime(2026, 1, 1, tzinfo=UTC)
ACTIONS = ["case.file", "custody.count", "service.attempt", "reminder.sent", "task.claim", "hearing.book"]


def before_changed_cases(session: Session, since: datetime) -> list[int]:
    """The statement before: DISTINCT and IS NOT NULL in SQL (SQLite then walks the case index)."""
    return sorted(session.scalars(select(AuditEntry.case_id).where(
        AuditEntry.at >= since, AuditEntry.case_id.is_not(None),
        not_(AuditEntry.action.startswith(marks.OWN_ACTIONS))).distinct()))


def before_last_held(session: Session, ended_from: datetime, ended_to: datetime) -> list[tuple]:
    """The statement before: every case's hearings grouped at every tick."""
    live = Hearing.status == HearingStatus.booked
    latest = select(Hearing.case_id, func.max(Hearing.ends_at).label("last_end")).where(live) \
        .group_by(Hearing.case_id).subquery()
    query = (select(Hearing.case_id, Hearing.id, Hearing.ends_at)
             .join(latest, (latest.c.case_id == Hearing.case_id) & (latest.c.last_end == Hearing.ends_at))
             .where(live, Hearing.ends_at >= ended_from, Hearing.ends_at < ended_to))
    return [tuple(row) for row in session.execute(query)]


def fill(session: Session, entries: int, hearings: int, rng: random.Random) -> None:
    seconds = 365 * 86400
    rows = [{"at": YEAR + timedelta(seconds=i * seconds / entries), "action": rng.choice(ACTIONS),
             "object_type": "cases", "case_id": None if rng.random() < 0.05 else rng.randrange(1, 16000)}
            for i in range(entries)]
    for start in range(0, len(rows), 50_000):
        session.execute(insert(AuditEntry), rows[start:start + 50_000])
    now = YEAR
    hearing_rows = []
    for i in range(hearings):
        ends = YEAR + timedelta(seconds=i * seconds / hearings) + timedelta(days=rng.randint(0, 20))
        hearing_rows.append({"case_id": 1 + i * 15_700 // hearings + rng.randrange(0, 3), "courtroom_id": 1,
                             "judge_id": 1, "starts_at": ends - timedelta(hours=1), "ends_at": ends, "lane": 0,
                             "status": HearingStatus.booked, "created_at": now, "updated_at": now})
    session.execute(insert(Hearing), hearing_rows)
    session.commit()


def timed(fn, rounds: int):
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(rounds):
        answer = fn()
    return answer, (time.process_time() - cpu) / rounds * 1000, (time.perf_counter() - wall) / rounds * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=720_000)
    parser.add_argument("--hearings", type=int, default=19_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="tick-reads-")
    engine = create_engine(f"sqlite:///{folder}/bench.sqlite3", poolclass=StaticPool)  # one connection
    Base.metadata.create_all(engine)
    raw = engine.raw_connection()
    raw.driver_connection.execute("PRAGMA foreign_keys=OFF")  # hearings without their cases and rooms
    raw.close()
    results = {"entries": args.entries, "hearings": args.hearings, "rounds": args.rounds}
    with Session(engine) as session:
        fill(session, args.entries, args.hearings, random.Random(14))
        now = datetime(2026, 12, 31, 10, 0, tzinfo=UTC)
        since = now - timedelta(hours=6)
        window = (now - timedelta(days=16), now - timedelta(days=14))
        pairs = {"changed_cases": (lambda: before_changed_cases(session, since),
                                   lambda: marks.changed_cases(session, since)),
                 "last_held_hearings": (lambda: sorted(before_last_held(session, *window)),
                                        lambda: sorted(sources.last_held_hearings(session, *window)))}
        for name, (before, after) in pairs.items():
            old, old_cpu, old_wall = timed(before, args.rounds)
            new, new_cpu, new_wall = timed(after, args.rounds)
            assert old == new, f"{name}: the two statements disagree"
            results[name] = {"before_ms_cpu": round(old_cpu, 2), "before_ms_wall": round(old_wall, 2),
                             "after_ms_cpu": round(new_cpu, 2), "after_ms_wall": round(new_wall, 2),
                             "rows": len(new)}
            print(f"{name:20s} before {old_cpu:8.2f} ms CPU ({old_wall:8.2f} wall)  after {new_cpu:7.2f} ms CPU "
                  f"({new_wall:7.2f} wall)  same {len(new)} rows")
    engine.dispose()
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print("load average", results["load_average"])
    write("reminder_tick_reads", results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
