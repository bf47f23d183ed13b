"""Booking race on PostgreSQL: 16 schedulers booking at once, this tree beside a reference tree.

    scripts/with-postgres.sh .venv/bin/python bench/booking_race.py [--reference DIR] [--rounds 63]

Each run gets a fresh database: 12 courtrooms, 16 schedulers with their own tokens and
judges, ``rounds`` cases each (and 8 to warm up). Round r puts every client in the same
hour of the same working day (lunch left free); clients c and c+12 aim at the same room, so 4 of every 16
requests lose a real race (409) and 12 win. Measured two ways, one after the other:

- ``server``: as ``make run`` serves it on PostgreSQL (``ancillary serve``: gunicorn, 2 workers x 2
  threads, the scheduler left out), 16 HTTP clients with keep-alive connections;
- ``in-process``: Flask's test client in 16 threads of one process.

``--reference DIR`` (a checkout of an earlier commit, e.g. ``git archive <commit> | tar
-x -C DIR``) runs the same on that code first, so before and after are measured side by
side under the same load. ``--clients 1`` measures a booking alone. Reports bookings/s,
latency p50/p99/p99.9 and the slowest over every request, the p99 of each answer (201,
409) and the range of the clients' own medians (where the tail lies), statuses, and double bookings (must be 0); for the
server, how many of the clients' connections each worker held (``connections_per_worker``) and
how many answers closed their connection to even them out, warm-up included (``connections_closed``),
the CPU milliseconds per request of the server's processes, the database's and the clients
(``cpu_ms_per_request``) and how many cores they kept busy; with ``BENCH_CONNECTIONS=1``,
what the database's connections were doing on average (``connections``: running a statement,
waiting on a lock, or inside a transaction waiting for the server's Python; the sampling costs
about 0.2 ms of database and client CPU a request). Each client first sends 3 untimed
``GET /api/v1/me``, then books its first 8 cases (in the weeks before the race's, rooms
contested as in the race), untimed: connections open and statements compiled and
prepared, as on a server already running. ``--cold`` times those bookings too: a fresh
server's first bookings cost about 20 ms each in one thread, and 16 at once queue.
``--rate 150`` posts 150 bookings a second in all on a timetable and times each from its due
instant: with 16 clients in a closed loop the mean latency is 16 / throughput (Little's law),
so only a paced run says what a scheduler waits below the server's limit.
``BENCH_SERVE="--workers 2 --threads 4"`` serves another shape (this tree only knows
``--threads``). Writes bench/out/booking_race.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOW = datetime(2027, 2, 26, 17, 0, tzinfo=UTC)
HOURS = [(8, 30), (9, 30), (10, 30), (13, 30), (14, 30), (15, 30), (16, 30)]  # around the lunch break
WARM_CALLS = 3  # GET /api/v1/me per client before the start, not timed
# Bookings per client before the start, not timed (each client's first cases, in later weeks):
# a server that has been running has compiled its statements, and psycopg prepares a
# statement on a connection's sixth run of it. ``--cold`` times a fresh server's first ones.
WARM_BOOKINGS = 8
DOUBLE = ("SELECT count(*) FROM hearings a JOIN hearings b ON a.id < b.id AND a.status = 'booked' AND "
          "b.status = 'booked' AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at AND "
          "(a.courtroom_id = b.courtroom_id OR a.judge_id = b.judge_id)")


def slot(r: int, tz) -> tuple[str, str]:
    """Round ``r``'s hour: 7 a working day from Monday 1 March 2027, weekends skipped."""
    week, day = divmod(r // len(HOURS), 5)
    starts = datetime.combine(date(2027, 3, 1) + timedelta(days=7 * week + day), clock_time(*HOURS[r % len(HOURS)]),
                              tz)
    return starts.isoformat(), (starts + timedelta(hours=1)).isoformat()


def seed(app, clients: int, rounds: int) -> list[tuple[str, list[dict]]]:
    """Rooms, the calendar, clients x (scheduler, judge, cases); returns each client's token and bodies."""
    from ancillary.auth.models import Role, User
    from ancillary.auth.services import issue_token
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.extensions import db
    from ancillary.scheduling.calendar import load_official
    from ancillary.scheduling.services import create_courtroom

    settings = app.config["SETTINGS"]
    with app.app_context():
        session = db.session
        rooms = [create_courtroom(session, name=f"第{n}法庭", venue="main", opens=clock_time(8, 30),
                                  closes=clock_time(17, 30), actor=None, now=NOW).id for n in range(1, 13)]
        load_official(session, [2027], now=NOW)
        intake = User(username="intake", display_name="intake", role=Role.intake_clerk, is_active=True,
                      is_president=False, created_at=NOW)
        session.add(intake)
        work = []
        for c in range(clients):
            scheduler = User(username=f"sched{c}", display_name="s", role=Role.scheduler, is_active=True,
                             is_president=False, created_at=NOW)
            judge = User(username=f"judge{c}", display_name="j", role=Role.judge, phone=f"+861380000{c:04d}",
                         is_active=True, is_president=False, created_at=NOW)
            session.add_all([scheduler, judge])
            session.flush()
            token, _ = issue_token(session, scheduler, now=NOW, lifetime=timedelta(days=3650))
            bodies = []
            for r in range(rounds):
                case = file_case(session, CaseIn(number=f"R{c}-{r}", kind="ordinary", venue="main",
                                                 filed_at=NOW - timedelta(hours=1), judge_id=judge.id,
                                                 parties=[PartyIn(role="plaintiff", name="甲")]),
                                 actor=intake, now=NOW - timedelta(hours=1), settings=settings)
                starts, ends = slot(r, settings.timezone)
                bodies.append({"case_id": case.id, "courtroom_id": rooms[c % 12], "starts_at": starts,
                               "ends_at": ends})
            work.append((token, bodies))
        session.commit()
    return work


def race(work, post, warm=None, rate: float | None = None, warm_bookings: int = 0) -> dict:
    """Every client posts its bodies in turn, all starting together; ``post(client, token, body) -> status``.

    With ``rate``, the clients together post ``rate`` bodies a second on a fixed timetable
    (client c's body r is due at (r x clients + c) / rate), each timed from its due instant;
    without it, each posts the next as soon as the last is answered (a closed loop, whose
    mean latency is clients / throughput whatever the server does).

    ``warm(client, token)``, if given, runs a few times per client before the start and is
    not counted: the server's connections (HTTP and database) are open, as in a server
    that has been running, so the figures are of booking, not of connecting. The first
    ``warm_bookings`` bodies of each client are then posted, not counted either.
    """
    barrier = threading.Barrier(len(work))
    answers: list[tuple[float, int, int]] = []  # (seconds, status, client)
    lock = threading.Lock()

    def client(index, token, bodies):
        mine, state = [], {}
        for _ in range(WARM_CALLS if warm else 0):
            warm(state, token)
        for body in bodies[:warm_bookings]:
            post(state, token, body)
        bodies = bodies[warm_bookings:]
        barrier.wait()
        began = time.perf_counter()
        for r, body in enumerate(bodies):
            started = time.perf_counter()
            if rate:
                started = began + (r * len(work) + index) / rate
                time.sleep(max(0.0, started - time.perf_counter()))
            status = post(state, token, body)
            mine.append((time.perf_counter() - started, status, index))
        with lock:
            answers.extend(mine)

    threads = [threading.Thread(target=client, args=(i, *w)) for i, w in enumerate(work)]
    started = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    seconds = time.perf_counter() - started
    statuses: dict[int, int] = {}
    for _, status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1

    def pct(latencies, p):
        latencies = sorted(latencies)
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 1)

    every = [a[0] for a in answers]
    by_client = [pct([a[0] for a in answers if a[2] == c], 0.5) for c in range(len(work))]
    return {"seconds": round(seconds, 3), "requests": len(answers), "statuses": dict(sorted(statuses.items())),
            "bookings_per_second": round(statuses.get(201, 0) / seconds, 1),
            "requests_per_second": round(len(answers) / seconds, 1), "warm_bookings": warm_bookings,
            "p50_ms": pct(every, 0.5),
            "p99_ms": pct(every, 0.99), "p999_ms": pct(every, 0.999), "max_ms": pct(every, 1.0),
            # Where the tail lies: the answers that lost the room, or some clients' connections.
            "p99_ms_by_status": {s: pct([a[0] for a in answers if a[1] == s], 0.99) for s in sorted(statuses)},
            "client_p50_ms_range": [min(by_client), max(by_client)]}


def in_process(app, work, rate=None, warm_bookings: int = 0) -> dict:
    def post(state, token, body):
        client = state.setdefault("client", app.test_client())
        return client.post("/api/v1/hearings", json=body, headers={"Authorization": f"Bearer {token}"}).status_code

    def warm(state, token):
        state.setdefault("client", app.test_client()).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    return race(work, post, warm, rate, warm_bookings)


def over_http(port: int):
    """``race``'s ``post`` and ``warm`` for a server on ``port``: one kept-alive connection a client.

    Also a list that gets one item per answer that closed its connection (``Connection:
    close``: the worker held more than its share); the client reopens on its next request.
    """
    closed = []

    def connection(state):
        return state.setdefault("conn", http.client.HTTPConnection("127.0.0.1", port, timeout=60))

    def ask(state, method, path, token, body=None):
        conn = connection(state)
        conn.request(method, path, body=body and json.dumps(body),
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        answer = conn.getresponse()
        answer.read()
        if answer.will_close:
            closed.append(1)
        return answer.status

    def post(state, token, body):
        return ask(state, "POST", "/api/v1/hearings", token, body)

    def warm(state, token):
        ask(state, "GET", "/api/v1/me", token)

    return post, warm, closed


def served(url: str, work, env: dict, postmaster: int | None = None, rate: float | None = None,
           warm_bookings: int = 0) -> dict:
    """The same race against ``ancillary serve`` (gunicorn, 2 workers x 2 threads on PostgreSQL) on a free port.

    Also the CPU time the server's processes, the database's and these clients used in the
    race, per request (``cpu_ms_per_request``): where a booking's cost lies.
    """
    from common import CpuMeter, WaitSampler, children_of, cpu_breakdown, serve_app

    from tests.ops.processes import connections_per_process

    shape = os.environ.get("BENCH_SERVE", "").split()  # e.g. "--workers 2 --threads 4" (both trees must know them)
    with serve_app(env, *shape, tree=Path(env["PYTHONPATH"])) as server:
        post, warm, closed = over_http(server.port)
        meter = CpuMeter(server=server.pid, database=postmaster)
        # The sampler costs about 0.2 ms of database and of client CPU a request: only when asked.
        waits = WaitSampler(url) if os.environ.get("BENCH_CONNECTIONS") == "1" else None
        meter.start()  # the warm-up's CPU counts too: a little more per request, never less
        if waits:
            waits.start()
        spread = []  # the clients' connections per worker, once all are open
        timer = threading.Timer(1.0, lambda: spread.extend(
            connections_per_process(children_of(server.pid), server.port)))
        timer.start()
        figures = race(work, post, warm, rate, warm_bookings)
        timer.join()
        figures.update(cpu_breakdown(meter.stop(), figures), connections_per_worker=spread,
                       connections_closed=len(closed))
        return {**figures, "connections": waits.stop()} if waits else figures


@contextmanager
def fresh_court(prefix: str):
    """A fresh PostgreSQL database migrated to head, and the app on it with the race's clock.

    Yields ``(url, env, app)``: ``env`` is what ``ancillary serve`` needs to serve the same
    database. The database is dropped afterwards.
    """
    from common import postgres_database
    from flask_migrate import upgrade

    from ancillary import create_app
    from ancillary.config import Settings
    from ancillary.extensions import db

    url, drop = postgres_database(prefix)
    env = {**os.environ, "ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench",
           "ANCILLARY_QR_KEYS": "K1:bench-secret-0123456789",
           "ANCILLARY_STORAGE_DIR": tempfile.mkdtemp(prefix=f"{prefix}-storage-"),
           "ANCILLARY_INSTANCE_DIR": tempfile.mkdtemp(prefix=f"{prefix}-instance-")}
    app = create_app(Settings.from_env(env, testing=True))
    app.config["CLOCK"] = lambda: NOW
    try:
        with app.app_context():
            upgrade()
        yield url, env, app
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()


def worker(mode: str, clients: int, rounds: int, rate: float | None = None, warm_bookings: int = 0) -> dict:
    """One measurement with the code on PYTHONPATH (this tree or the reference), on a fresh database."""
    import logging

    from common import postmaster_pid
    from sqlalchemy import text

    import ancillary
    from ancillary.extensions import db

    with fresh_court("race") as (url, env, app):
        logging.getLogger().setLevel(logging.WARNING)
        work = seed(app, clients, warm_bookings + rounds)
        with app.app_context():
            postmaster = postmaster_pid(db.session.connection())
            db.session.rollback()
        figures = (in_process(app, work, rate, warm_bookings) if mode == "in-process"
                   else served(url, work, env, postmaster, rate, warm_bookings))
        with app.app_context():
            figures["double_bookings"] = db.session.scalar(text(DOUBLE))
            figures["bookings"] = db.session.scalar(text("SELECT count(*) FROM hearings"))
            db.session.rollback()
        figures["expected_bookings"] = (warm_bookings + rounds) * (clients - max(0, clients - 12))
        figures["code"] = str(Path(ancillary.__file__).parent.parent)
        return figures


def run_tree(tree: Path, mode: str, clients: int, rounds: int, rate: float | None = None, cold: bool = False) -> dict:
    """This script as a worker, in a child process that imports the code of ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    paced = (["--rate", str(rate)] if rate else []) + (["--cold"] if cold else [])
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", mode, "--clients",
                             str(clients), "--rounds", str(rounds), *paced], env=env, cwd=tree, capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{tree} {mode} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="an earlier checkout to measure beside this one")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=63)
    parser.add_argument("--modes", default="server,in-process")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true",
                        help=f"time each client's first bookings too (by default {WARM_BOOKINGS} each go untimed first)")
    parser.add_argument("--rate", type=float, help="post this many bookings a second in all, on a timetable "
                                                   "(the latency a scheduler feels below the server's limit)")
    args = parser.parse_args()
    if args.worker:
        import ancillary  # noqa: F401  (the code on PYTHONPATH, before bench/common.py puts this tree first)

        sys.path.insert(0, str(HERE))
        print(json.dumps(worker(args.worker, args.clients, args.rounds, args.rate, 0 if args.cold else WARM_BOOKINGS)))
        return
    if not os.environ.get("ANCILLARY_TEST_POSTGRES_URL"):
        raise SystemExit("run under scripts/with-postgres.sh: the race is on PostgreSQL")
    trees = ([("reference", args.reference.resolve())] if args.reference else []) + [("this tree", ROOT)]
    out = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "clients": args.clients,
           "rounds": args.rounds, "rate": args.rate, "cold": args.cold, "runs": []}
    for mode in args.modes.split(","):
        for label, tree in trees:
            load = os.getloadavg()[0]
            figures = run_tree(tree, mode, args.clients, args.rounds, args.rate, args.cold)
            row = {"tree": label, "mode": mode, "load_before": round(load, 1), **figures}
            out["runs"].append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    sys.path.insert(0, str(HERE))
    from common import write_json

    print(f"written to {write_json('booking_race', out)}")


if __name__ == "__main__":
    main()
