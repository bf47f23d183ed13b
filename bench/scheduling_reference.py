"""Auto-scheduling time beside a reference tree: the same 1,300-case court, the two codes alternately.

    git archive REF | tar -x -C DIR          # e.g. REF = main, or the commit before a change
    scripts/with-postgres.sh .venv/bin/python bench/scheduling_reference.py --reference DIR [--rounds 3] \
        [--reserve 0 150]

Builds the court of ``bench/scheduling.py`` (12 rooms, 30 judges, 10 officers, 1,300 cases
filed the week before March 2027) once per database: a SQLite file, and a PostgreSQL template
database when ANCILLARY_TEST_POSTGRES_URL is set. Each round copies it and plans and books
March with the reference tree's code, then with this tree's, each in a fresh process; prints
one JSON line per run: seconds to plan, seconds to plan and book (commit included), rows
written, tasks done, overlapping pairs (must be 0), the cases left out by reason and the load
average. ``--reserve P ...`` runs each code with the speedy reserve at each percentage given
(``ANCILLARY_SPEEDY_RESERVE_PERCENT``; without it, each tree's own default).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time as clock
from pathlib import Path

HERE = Path(__file__).resolve().parent
OVERLAPS = ("SELECT count(*) FROM hearings a JOIN hearings b ON a.id < b.id AND a.status = 'booked' AND "
            "b.status = 'booked' AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at AND "
            "(a.courtroom_id = b.courtroom_id OR a.judge_id = b.judge_id)")


def run_once(tree: str, url: str, build: bool, reserve: int | None = None) -> None:
    """In this process: ``tree``'s code plans and books March on ``url`` (or builds the court there)."""
    sys.path[:0] = [tree + "/bench", tree]
    import scheduling as bench  # noqa: PLC0415 - the tree's own bench module, chosen at run time
    from sqlalchemy import select, text

    from ancillary import create_app
    from ancillary.auth.models import User
    from ancillary.extensions import db
    from ancillary.scheduling import auto

    app = create_app(bench.settings_for(url, Path(tempfile.gettempdir())))
    settings = app.config["SETTINGS"]
    if reserve is not None and hasattr(settings, "speedy_reserve_percent"):  # a reference may predate it
        settings = settings.with_overrides(speedy_reserve_percent=reserve)
    with app.app_context():
        if build:
            from flask_migrate import upgrade
            upgrade()
            bench.build_court(db.session, settings, 1300)
            db.engine.dispose()
            return
        started = clock.perf_counter()
        auto.plan(db.session, *bench.WINDOW, now=bench.NOW, settings=settings)
        planned = clock.perf_counter() - started
        db.session.rollback()
        actor = db.session.scalar(select(User).where(User.username == "scheduler"))
        started = clock.perf_counter()
        result = auto.run(db.session, *bench.WINDOW, actor=actor, now=bench.NOW, settings=settings)
        db.session.commit()
        seconds = clock.perf_counter() - started
        rows = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}"))
                for t in ("hearings", "audit_entries", "notifications")}
        done = db.session.scalar(text("SELECT count(*) FROM tasks WHERE kind = 'schedule_hearing' AND status = 'done'"))
        reasons: dict[str, int] = {}
        for item in result["unscheduled"]:
            reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
        print(json.dumps({"code": tree, "database": url.split(":")[0], "reserve": getattr(settings, "speedy_reserve_percent", None),
                          "plan_seconds": round(planned, 3),
                          "plan_and_book_seconds": round(seconds, 3), "scheduled": len(result["scheduled"]), **rows,
                          "tasks_done": done, "overlapping_pairs": db.session.scalar(text(OVERLAPS)),
                          "unscheduled": reasons,
                          "load": round(os.getloadavg()[0], 1)}), flush=True)
        db.engine.dispose()


def _child(tree: str, url: str, build: bool = False, reserve: int | None = None) -> None:
    args = [sys.executable, __file__, "--run", tree, url] + (["--build"] if build else [])
    args += ["--reserve", str(reserve)] if reserve is not None else []
    result = subprocess.run(args, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr)
    if not build:
        print(result.stdout.strip().splitlines()[-1], flush=True)


def _admin(sql: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["ANCILLARY_TEST_POSTGRES_URL"] + "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        for statement in sql.split(";"):
            connection.execute(text(statement))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", help="a tree of the reference code (git archive REF | tar -x -C DIR)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reserve", type=int, nargs="+", help="speedy reserve percentages to run each code with")
    parser.add_argument("--postgresql-only", action="store_true", help="skip the SQLite runs")
    parser.add_argument("--run", nargs=2, metavar=("TREE", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        return run_once(*args.run, build=args.build, reserve=args.reserve[0] if args.reserve else None)
    trees = [args.reference, str(HERE.parent)] if args.reference else [str(HERE.parent)]
    runs = [(tree, reserve) for reserve in (args.reserve or [None]) for tree in trees]
    sqlite_runs = [] if args.postgresql_only else runs
    with tempfile.TemporaryDirectory() as folder:
        base, work = Path(folder) / "court.sqlite3", Path(folder) / "work.sqlite3"
        if sqlite_runs:
            _child(str(HERE.parent), f"sqlite:///{base}", build=True)
        for _ in range(args.rounds):
            for tree, reserve in sqlite_runs:
                shutil.copy(base, work)
                _child(tree, f"sqlite:///{work}", reserve=reserve)
    server = os.environ.get("ANCILLARY_TEST_POSTGRES_URL")
    if not server:
        return print("(no ANCILLARY_TEST_POSTGRES_URL: run under scripts/with-postgres.sh for PostgreSQL)")
    _admin("DROP DATABASE IF EXISTS sched_ref_court; CREATE DATABASE sched_ref_court")
    _child(str(HERE.parent), f"{server}/sched_ref_court", build=True)
    for _ in range(args.rounds):
        for tree, reserve in runs:
            _admin("DROP DATABASE IF EXISTS sched_ref_work; CREATE DATABASE sched_ref_work TEMPLATE sched_ref_court")
            _child(tree, f"{server}/sched_ref_work", reserve=reserve)
    _admin("DROP DATABASE IF EXISTS sched_ref_work; DROP DATABASE IF EXISTS sched_ref_court")


if __name__ == "__main__":
    main()
