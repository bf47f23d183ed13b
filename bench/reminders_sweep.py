"""A reminder sweep over one million open cases with their enforcement nodes.

    .venv/bin/python bench/reminders_sweep.py --db sqlite [--cases 1000000] [--no-before]
    scripts/with-postgres.sh .venv/bin/python bench/reminders_sweep.py --db postgresql

Loads officers, follow-up posts and N open cases (20% enforcement, with node dates),
filed over the last 200 days; then runs every sweep twice, each time in a fresh process:
*first* (everything that fell due is staged and folded into digests) and *routine* (the
next tick, five minutes later: nothing new). Prints seconds and the sweep process's peak
resident memory; writes bench/out/reminders_sweep_<db>.json.

Then, on the same database emptied of what the sweeps wrote, the same two runs with the
reminder sweep as it was before the sweep mark and the in-memory fold (the reference,
side by side): every tick stages the whole 30-day lookback (``rules.stage``, each key
checked), then ``digests.fold`` reads the staged items back and links them. It shares
today's ``bulk_insert``, so it is, if anything, faster than the code it stands for.
``--no-before`` skips it.

``--reference DIR`` (an extracted tree of other code: ``git archive main | tar -x -C DIR``,
``ln -s $PWD/.venv DIR/.venv``, ``pybabel compile -d DIR/ancillary/translations``) runs the
first and routine ticks of DIR's code and of this tree in turn, ``--rounds`` times, on the same
database emptied between runs; beside each run it writes the load average and, on PostgreSQL,
the server's CPU seconds (its processes' own, read from /proc: they travel to an idle machine).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from common import ROOT, TICKS, children_of, cpu_of, fresh_database, make_app, postmaster_pid, write

NOW = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)


def load(app, cases: int) -> None:
    from sqlalchemy import insert

    from ancillary.auth.models import Role, User
    from ancillary.cases.models import Case
    from ancillary.extensions import db
    from ancillary.queues.services import create_follow_up_post
    from ancillary.reminders.models import EnforcementRecord
    from ancillary.timeutil import period_end_months

    rng = random.Random(136)
    tz = app.config["SETTINGS"].timezone
    months = {"speedy": 1, "summary": 3, "ordinary": 6, "enforcement": 6}
    with app.app_context():
        session = db.session
        def user(name, role, **kw):
            u = User(username=name, display_name=name, role=role, phone=f"+86138{rng.randrange(10**8):08d}",
                     is_active=True, created_at=NOW, **kw)
            session.add(u)
            return u
        admin = user("admin", Role.court_admin)
        user("president", Role.court_admin, is_president=True)
        judges = [user(f"judge{i}", Role.judge) for i in range(30)]
        officers = [user(f"officer{i}", Role.enforcement_officer) for i in range(10)]
        posts = [user(f"follow{i}", Role.follow_up) for i in range(22)]
        session.flush()
        for i, p in enumerate(posts[:12]):
            create_follow_up_post(session, user_id=p.id, officer_ids=[judges[(i * 5 // 2 + k) % 30].id for k in range(3)],
                                  actor=admin, now=NOW)
        for i, p in enumerate(posts[12:]):
            create_follow_up_post(session, user_id=p.id, officer_ids=[officers[(i + k) % 10].id for k in range(3)],
                                  actor=admin, now=NOW)
        session.commit()
        judge_ids, officer_ids = [j.id for j in judges], [o.id for o in officers]
        kinds = ["speedy", "summary", "ordinary", "enforcement"]
        started = time.perf_counter()
        chunk = 20000
        for base in range(0, cases, chunk):
            rows, records = [], []
            for n in range(base, min(cases, base + chunk)):
                kind = rng.choices(kinds, (30, 35, 15, 20))[0]
                filed = NOW - timedelta(days=rng.uniform(0, 200))
                rows.append({"id": n + 1, "number": f"(2026)鲁1002{n}号", "kind": kind, "venue": "main",
                             "filed_at": filed, "judge_id": rng.choice(officer_ids if kind == "enforcement" else judge_ids),
                             "volumes": 1, "status": "open", "mediation_likely": False,
                             "deadline_at": period_end_months(filed, months[kind], tz),
                             "created_by_id": admin.id, "created_at": filed})
                if kind == "enforcement":
                    record = {"case_id": n + 1, "updated_at": NOW, "property_search_started_at": None,
                              "fully_seized_at": None, "auction_at": None, "auction_measures_at": None,
                              "payment_received_at": None, "payment_released_at": None}
                    if rng.random() < 0.7:
                        record["property_search_started_at"] = filed + timedelta(days=rng.uniform(1, 10))
                    if rng.random() < 0.3:
                        record["fully_seized_at"] = filed + timedelta(days=rng.uniform(10, 60))
                    if rng.random() < 0.1:
                        record["auction_at"] = filed + timedelta(days=rng.uniform(30, 120))
                    if rng.random() < 0.15:
                        record["payment_received_at"] = filed + timedelta(days=rng.uniform(20, 150))
                    records.append(record)
            session.execute(insert(Case), rows)
            if records:
                session.execute(insert(EnforcementRecord), records)
            session.commit()
            done = min(cases, base + chunk)
            print(f"\r  loaded {done:,}/{cases:,} cases ({time.perf_counter() - started:.0f} s)", end="", flush=True)
        print()
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import text

            with db.engine.connect() as conn:
                conn.execute(text("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))"))
                conn.execute(text("ANALYZE"))
                conn.commit()
        else:
            from sqlalchemy import text

            with db.engine.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()


def sweep_reminders_before(session, now, settings) -> dict:
    """The reminder sweep before the mark: the whole lookback staged every tick, then folded from the table."""
    from sqlalchemy import text

    from ancillary.reminders import digests, rules
    from ancillary.reminders.jobs import DIGESTS

    lookback = now - timedelta(days=settings.sweep_lookback_days)
    posts = rules.follow_up_posts_by_officer(session)
    staged = sum(rules.stage(session, nodes, now, settings, posts) for nodes in (
        rules.case_nodes(session, settings, lookback, now), rules.deadline_warnings(session, now, settings),
        rules.task_nodes(session, settings, lookback, now), rules.hearing_digest_nodes(session, now, settings)))
    if staged > 10_000 and session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE notification_items"))
    messages = digests.fold(session, now, settings, DIGESTS)
    return {"items": staged, "messages": messages} if staged or messages else {}


def sweep(url: str, now_iso: str, queue, before: bool = False) -> None:
    """Run in a fresh process so its peak memory is the sweep's alone."""
    from ancillary import wiring
    from ancillary.jobs import run_sweeps
    from ancillary.reminders.jobs import sweep_reminders

    if before:  # the reference: the reminder sweep as it was
        wiring.SWEEPS = tuple(sweep_reminders_before if s is sweep_reminders else s for s in wiring.SWEEPS)
    app = make_app(url)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    results = run_sweeps(app, datetime.fromisoformat(now_iso), deliver=False)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put({"seconds": round(seconds, 2), "peak_rss_mb": round(peak / 1024, 1),
               "rss_before_sweep_mb": round(baseline / 1024, 1),
               "results": {path.rsplit(".", 1)[-1]: outcome for path, outcome in results}})


def run_in_child(url, now, before: bool = False):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=sweep, args=(url, now.isoformat(), queue, before))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def first_and_routine(url: str, label: str, before: bool = False) -> dict:
    print(f"==> {label}: first sweep (everything that fell due is staged and folded)")
    first = run_in_child(url, NOW, before)
    print(f"    {first['seconds']} s, peak {first['peak_rss_mb']} MB: {first['results']}")
    print(f"==> {label}: routine sweep (the next tick, five minutes later)")
    routine = run_in_child(url, NOW + timedelta(minutes=5), before)
    print(f"    {routine['seconds']} s, peak {routine['peak_rss_mb']} MB: {routine['results']}")
    return {"first_sweep": first, "routine_sweep": routine}


def forget_sweep(app) -> tuple[int, int]:
    """Empty what the sweeps wrote (items, messages, their audit entries, the mark), so the next one is first again."""
    from sqlalchemy import delete, func, select

    from ancillary.audit.models import AuditEntry
    from ancillary.extensions import db
    from ancillary.outbox import Notification, NotificationItem
    from ancillary.reminders.models import SweepMark

    with app.app_context():
        counts = (db.session.scalar(select(func.count()).select_from(NotificationItem)),
                  db.session.scalar(select(func.count()).select_from(Notification)))
        db.session.execute(delete(AuditEntry).where(AuditEntry.action.startswith("reminder.")))
        db.session.execute(delete(NotificationItem))
        db.session.execute(delete(Notification))
        db.session.execute(delete(SweepMark))
        db.session.commit()
        db.engine.dispose()
    return counts


# --- side by side with another tree's code ------------------------------------------------

CHILD = """
import json, resource, sys, time
sys.path[:0] = [{root!r}, {root!r} + "/bench"]
from datetime import datetime
from common import make_app
from ancillary.jobs import run_sweeps
app = make_app({url!r})
started, cpu = time.perf_counter(), time.process_time()
results = run_sweeps(app, datetime.fromisoformat({now!r}), deliver=False)
print("RESULT", json.dumps({{"seconds": round(time.perf_counter() - started, 2),
      "client_cpu_s": round(time.process_time() - cpu, 2),
      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
      "results": {{path.rsplit(".", 1)[-1]: outcome for path, outcome in results}}}}))
"""


def server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds the database server has used: its live processes and those it reaped (ended connections)."""
    if postmaster is None:
        return None
    try:
        fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    reaped = (int(fields[13]) + int(fields[14])) / TICKS
    return reaped + sum(cpu_of(pid) for pid in children_of(postmaster))


def run_tree(root: Path, url: str, now: datetime, postmaster: int | None) -> dict:
    """One tick of ``root``'s code in a fresh interpreter, with the load before it and the server's CPU."""
    load_before, cpu_before = os.getloadavg()[0], server_cpu(postmaster)
    done = subprocess.run([str(ROOT / ".venv/bin/python"), "-c", CHILD.format(root=str(root), url=url,
                                                                             now=now.isoformat())],
                          cwd=root, capture_output=True, text=True, check=True)
    time.sleep(0.5)  # let the server reap the tick's connections
    figures = json.loads(done.stdout.rsplit("RESULT ", 1)[1])
    cpu_after = server_cpu(postmaster)
    figures.update(load_before=round(load_before, 2), server_cpu_s=None if cpu_before is None
                   else round(cpu_after - cpu_before, 2))
    return figures


def side_by_side(app, url: str, reference: Path, rounds: int) -> list[dict]:
    """The reference tree's first and routine ticks, then this tree's, ``rounds`` times on one database."""
    from ancillary.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            postmaster = postmaster_pid(conn) if conn.dialect.name == "postgresql" else None
        db.engine.dispose()
    vacuum(url)  # so that no autovacuum of the loaded cases runs into the first measurement
    runs = []
    for number in range(1, rounds + 1):
        for label, root in (("reference", reference), ("this tree", ROOT)):
            first = run_tree(root, url, NOW, postmaster)
            routine = run_tree(root, url, NOW + timedelta(minutes=5), postmaster)
            runs.append({"round": number, "code": label, "first": first, "routine": routine})
            print(f"==> round {number}, {label}: first {first['seconds']} s (load {first['load_before']}, "
                  f"server CPU {first['server_cpu_s']} s, client CPU {first['client_cpu_s']} s, "
                  f"peak {first['peak_rss_mb']} MB); routine {routine['seconds']} s", flush=True)
            forget_sweep(app)
            vacuum(url)
    return runs


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the database (PostgreSQL): every run starts from the same state, no autovacuum in it."""
    from sqlalchemy import create_engine, text

    if not url.startswith("postgresql"):
        return
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--no-before", action="store_true", help="skip the reference runs of the sweep as it was")
    parser.add_argument("--reference", type=Path, help="another tree's code, run in turn with this one")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()
    url = fresh_database(args.db)
    print(f"==> {args.db}: {args.cases:,} open cases")
    app = make_app(url)
    started = time.perf_counter()
    load(app, args.cases)
    load_seconds = time.perf_counter() - started
    if args.reference:
        runs = side_by_side(app, url, args.reference.resolve(), args.rounds)
        write(f"reminders_sweep_{args.db}_side_by_side", {
            "database": args.db, "open_cases": args.cases, "reference": str(args.reference), "runs": runs,
            "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()}})
        return
    now = first_and_routine(url, "now")
    items, messages = forget_sweep(app)
    before = None if args.no_before else first_and_routine(url, "before (reference)", before=True)
    if before is not None:
        forget_sweep(app)
    write(f"reminders_sweep_{args.db}", {
        "database": args.db, "open_cases": args.cases, "load_seconds": round(load_seconds, 1),
        "now": now, "before": before, "items_staged": items, "messages": messages,
        "machine": {"cpus": os.cpu_count(), "load_before": load_before, "load_after": os.getloadavg()},
    })


if __name__ == "__main__":
    main()
