"""Bookings beside slow requests, for each shape of workers and threads: a mixed hour on PostgreSQL.

    scripts/with-postgres.sh .venv/bin/python bench/mixed_load.py [--shapes 2x8,2x2,2x4] [--runs 3]
        [--rounds 120] [--every 1.0] [--rate 300]

The booking race (``bench/booking_race.py``: 16 schedulers booking contested rooms, each
client's first 8 bookings untimed) runs against ``ancillary serve --workers W --threads T``
while other people of the court send the server's slow requests at the same time:

- 2 file clerks photographing labels: ``POST /api/v1/scans/decode`` with a 12-megapixel
  phone photo (4000 x 3000, about 1.5 MB), decoded in the worker;
- an intake clerk printing a case's label sheet: ``GET /api/v1/cases/{id}/labels.pdf`` (6 volumes);
- a court administrator's dashboard for the quarter: ``GET /api/v1/reports/dashboard``;
- 2 schedulers reading the race's week: ``GET /api/v1/hearings`` (its page's script does so).

Each of those 6 people sends one request every ``--every`` seconds (0: the next as soon as
the last is answered, the worst case), on a connection of their own. The question it answers:
with fewer threads a worker, does a slow request hold back the bookings queued behind it, and
do the slow requests themselves wait longer? Reports, per run, the bookings (bookings/s, p50,
p99, p99.9 and the slowest, 0 double bookings) and for each slow kind its count and p50, p99
and slowest. ``--rate`` paces the bookings instead (``booking_race.py --rate``). The shapes
alternate run by run, each on a fresh database. Writes bench/out/mixed_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from booking_race import DOUBLE, NOW, WARM_BOOKINGS, fresh_court, over_http, race, seed  # noqa: E402
from common import ROOT, serve_app, write_json  # noqa: E402
from decode_bench import make_large_sample  # noqa: E402

CLIENTS = 16
WEEK = {"from": "2027-03-01T00:00:00+08:00", "to": "2027-03-08T00:00:00+08:00"}


def people(app) -> dict:
    """The slow requests' people and what they ask for: (kind, token, method, path, body) each."""
    from ancillary.auth.models import Role, User
    from ancillary.auth.services import issue_token
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.extensions import db

    settings = app.config["SETTINGS"]
    with app.app_context():
        session = db.session

        def token(username, role):
            user = User(username=username, display_name=username, role=role, is_active=True, is_president=False,
                        created_at=NOW)
            session.add(user)
            session.flush()
            return user, issue_token(session, user, now=NOW, lifetime=timedelta(days=3650))[0]

        intake, intake_token = token("labels", Role.intake_clerk)
        judge, _ = token("judge-labels", Role.judge)
        case = file_case(session, CaseIn(number="(2027)鲁1002民初1号", kind="ordinary", venue="main",
                                         filed_at=NOW - timedelta(hours=2), judge_id=judge.id, volumes=6,
                                         parties=[PartyIn(role="plaintiff", name="甲")]),
                         actor=intake, now=NOW - timedelta(hours=2), settings=settings)
        photo = make_large_sample("large_photo", np.random.default_rng(136)).jpeg
        slow = [("photo", token(f"clerk{n}", Role.file_clerk)[1], "POST", "/api/v1/scans/decode",
                 {"files": {"image": ("label.jpg", photo, "image/jpeg")}}) for n in range(2)]
        slow.append(("labels_pdf", intake_token, "GET", f"/api/v1/cases/{case.id}/labels.pdf", {}))
        slow.append(("dashboard", token("admin", Role.court_admin)[1], "GET", "/api/v1/reports/dashboard",
                     {"params": {"from": "2027-01-01", "to": "2027-03-31"}}))
        slow += [("week", token(f"reader{n}", Role.scheduler)[1], "GET", "/api/v1/hearings",
                  {"params": {**WEEK, "limit": 200}}) for n in range(2)]
        session.commit()
    return slow


def background(port: int, slow: list, every: float, stop: threading.Event) -> tuple[list, list]:
    """Start one thread per slow person; each appends (kind, seconds, status) until ``stop``."""
    answers: list[tuple[str, float, int]] = []
    lock = threading.Lock()

    def person(kind, token, method, path, options):
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            while not stop.is_set():
                started = time.perf_counter()
                status = http.request(method, f"http://127.0.0.1:{port}{path}", timeout=120, **options).status_code
                took = time.perf_counter() - started
                with lock:
                    answers.append((kind, took, status))
                stop.wait(max(0.0, every - took))

    threads = [threading.Thread(target=person, args=s) for s in slow]
    [t.start() for t in threads]
    return threads, answers


def summary(seconds: list[float]) -> dict:
    seconds = sorted(seconds)

    def pct(p):
        return round(seconds[min(len(seconds) - 1, int(len(seconds) * p))] * 1000, 1) if seconds else None

    return {"count": len(seconds), "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0)}


def one_run(shape: str, rounds: int, every: float, rate: float | None, kinds: set[str] | None = None) -> dict:
    """A fresh database, the court, the server in ``shape`` ("2x8"), the race with the slow requests beside it."""
    from sqlalchemy import text

    from ancillary.extensions import db

    workers, threads = shape.split("x")
    with fresh_court("mixed") as (_, env, app):
        work = seed(app, CLIENTS, WARM_BOOKINGS + rounds)
        slow = [person for person in people(app) if kinds is None or person[0] in kinds]
        with serve_app(env, "--workers", workers, "--threads", threads) as server:
            post, warm, _ = over_http(server.port)
            stop = threading.Event()
            persons, answers = background(server.port, slow, every, stop)
            try:
                bookings = race(work, post, warm, rate, WARM_BOOKINGS)
            finally:
                stop.set()
                [t.join() for t in persons]
        with app.app_context():
            bookings["double_bookings"] = db.session.scalar(text(DOUBLE))
            db.session.rollback()
    kinds = {kind for kind, _, _ in answers}
    return {"shape": shape, "bookings": bookings,
            "slow": {kind: {**summary([s for k, s, _ in answers if k == kind]),
                            "statuses": sorted({st for k, _, st in answers if k == kind})} for kind in sorted(kinds)}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="2x8,2x2,2x4", help="workers x threads, alternated run by run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each shape")
    parser.add_argument("--rounds", type=int, default=120, help="timed bookings per scheduler")
    parser.add_argument("--every", type=float, default=1.0,
                        help="seconds between one slow person's requests (0: back to back)")
    parser.add_argument("--rate", type=float, help="pace the bookings: this many a second in all")
    parser.add_argument("--kinds", help="only these slow kinds (photo,labels_pdf,dashboard,week); none: bookings alone")
    args = parser.parse_args()
    if not os.environ.get("ANCILLARY_TEST_POSTGRES_URL"):
        raise SystemExit("run under scripts/with-postgres.sh: the mixed hour is on PostgreSQL")
    import logging

    logging.disable(logging.INFO)  # each run's migrations
    kinds = None if args.kinds is None else set(filter(None, args.kinds.split(",")))
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "code": str(ROOT),
           "clients": CLIENTS, "rounds": args.rounds, "every": args.every, "rate": args.rate,
           "kinds": sorted(kinds) if kinds is not None else "all", "runs": []}
    shapes = args.shapes.split(",")
    for n in range(args.runs):
        for shape in shapes if n % 2 == 0 else reversed(shapes):
            load = os.getloadavg()[0]
            row = {"run": n + 1, "load_before": round(load, 1), **one_run(shape, args.rounds, args.every, args.rate,
                                                                          kinds)}
            out["runs"].append(row)
            b = row["bookings"]
            slow = ", ".join(f"{k} {v['count']}: p50 {v['p50_ms']} p99 {v['p99_ms']} max {v['max_ms']}"
                             for k, v in row["slow"].items())
            print(f"{shape} run {n + 1}: {b['bookings_per_second']} bookings/s, p99 {b['p99_ms']} / p99.9 "
                  f"{b['p999_ms']} / max {b['max_ms']} ms, double {b['double_bookings']}; {slow}", flush=True)
    print(json.dumps(out["runs"], ensure_ascii=False))
    print(f"written to {write_json('mixed_load', out)}")


if __name__ == "__main__":
    main()
