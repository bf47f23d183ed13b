"""Scan throughput: 16 concurrent scanners posting codes to gunicorn on loopback.

    .venv/bin/python bench/scan_throughput.py [--clients 16] [--seconds 10]
    scripts/with-postgres.sh .venv/bin/python bench/scan_throughput.py   # adds PostgreSQL

For each database: a fresh schema, 200 dossiers and 16 file clerks; the server as `make run`
serves it (``ancillary serve``, the scheduler left out: gunicorn gthread, 1 worker x 8 threads
on SQLite, 2 x 2 otherwise) on 127.0.0.1; then, in the same run, the trivial /healthz under
the same 16 clients, the trivial authenticated GET /api/v1/me (the issue's reference), and
the scans (each a new client_scan_id, a random dossier). Reports requests/s, p50 and p99
latency and the ratios, the CPU milliseconds per request of the server's processes, the
database's and the clients (``cpu_ms_per_request``), and the SQL statements of one /me,
one scan and one replay. ``--paced 100,200,300`` also sends scans at those rates a second on a
timetable shared by the 16 clients and reports the latency from each request's due time: with
16 clients in a closed loop the mean latency is 16 / throughput (Little's law), so a p99 there
says how full the queue is, while the paced figures say what a scanner waits below the limit.

``--reference DIR`` (an earlier checkout: ``git archive <commit> | tar -x -C DIR``) serves
the same from that code first, on a fresh database of its own, so before and after are
measured side by side under the same load. Writes bench/out/scan_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from common import CpuMeter, cpu_breakdown, postgres_database, postmaster_pid, serve_app  # noqa: E402

QR_KEYS = "K1:bench-secret-0123456789abcdef"


def env_for(url: str) -> dict:
    return {**os.environ, "ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench", "ANCILLARY_QR_KEYS": QR_KEYS}


def prepare(url: str, clients: int) -> tuple[list[str], list[str]]:
    """Schema, a judge, 16 clerks with tokens, 100 cases of 2 volumes; returns tokens and QR codes."""
    from ancillary import create_app
    from ancillary.auth.services import create_user, issue_token
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.config import Settings
    from ancillary.extensions import db
    from ancillary.timeutil import utcnow

    subprocess.run([BIN / "ancillary", "db", "upgrade"], env=env_for(url), check=True, capture_output=True)
    app = create_app(Settings.from_env(env_for(url)))
    with app.app_context():
        now = utcnow()
        judge = create_user(db.session, username="judge", role="judge", phone=None, actor=None, now=now)
        intake = create_user(db.session, username="intake", role="intake_clerk", phone=None, actor=None, now=now)
        tokens = []
        for i in range(clients):
            clerk = create_user(db.session, username=f"file{i:02d}", role="file_clerk", phone=None, actor=None, now=now)
            tokens.append(issue_token(db.session, clerk, now=now, lifetime=timedelta(days=1))[0])
        codes = []
        for n in range(100):
            case = file_case(db.session, CaseIn(number=f"(2027)鲁1002民初{n + 1}号", kind="summary", venue="main",
                                                filed_at=now, judge_id=judge.id, volumes=2,
                                                parties=[PartyIn(role="plaintiff", name="张三")]),
                             actor=intake, now=now, settings=app.config["SETTINGS"])
            codes.extend(d.qr_token for d in case.dossiers)
        db.session.commit()
        db.engine.dispose()
    return tokens, codes


def _postmaster(url: str) -> int | None:
    """The PostgreSQL server's main process (None on SQLite, which runs inside the server)."""
    if url.startswith("sqlite"):
        return None
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return postmaster_pid(conn)
    finally:
        engine.dispose()


def load(base: str, tokens: list[str], seconds: float, make_request, meter: CpuMeter | None = None,
         rate: float | None = None) -> dict:
    """``make_request`` from every client for ``seconds``; with ``meter``, the CPU per request by part too.

    Without ``rate`` each client sends its next request as soon as the last is answered (closed
    loop: the latency is then bound to clients / throughput). With ``rate`` the clients together
    send ``rate`` requests a second on a fixed timetable, as scanners at work do, and a request's
    latency counts from the instant it was due, so a server falling behind is not hidden.
    """
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    began_at = time.perf_counter() + 0.05
    stop = began_at + seconds

    def client(index: int, token: str):
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        mine, counts, sent = [], {}, 0
        while time.perf_counter() < stop:
            started = time.perf_counter()
            if rate:
                started = began_at + (sent * len(tokens) + index) / rate
                if started >= stop:
                    break
                time.sleep(max(0.0, started - time.perf_counter()))
                sent += 1
            response = make_request(session, base)
            mine.append(time.perf_counter() - started)
            counts[response.status_code] = counts.get(response.status_code, 0) + 1
        with lock:
            latencies.extend(mine)
            for k, v in counts.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(i, t)) for i, t in enumerate(tokens)]
    if meter:
        meter.start()
    began = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    elapsed = time.perf_counter() - began
    latencies.sort()
    figures = {
        "requests": len(latencies), "per_second": round(len(latencies) / elapsed, 1), "seconds": round(elapsed, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
    return {**figures, **cpu_breakdown(meter.stop(), figures)} if meter else figures


def statements(url: str, token: str, code: str) -> dict:
    """How many SQL statements one GET /me, one scan and its replay send (this tree, in process)."""
    from sqlalchemy import event

    from ancillary import create_app
    from ancillary.config import Settings
    from ancillary.extensions import db

    app = create_app(Settings.from_env(env_for(url)))
    sent: list[str] = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    counts = {}
    for name, call in (("me", lambda: client.get("/api/v1/me", headers=headers)),
                       ("scan", lambda: client.post("/api/v1/scans", headers=headers, json={
                           "code": code, "action": "receive", "location": "审判组", "client_scan_id": "count-1"})),
                       ("replay", lambda: client.post("/api/v1/scans", headers=headers, json={
                           "code": code, "action": "receive", "location": "审判组", "client_scan_id": "count-1"}))):
        sent.clear()
        call()
        counts[name] = len([s for s in sent if not s.startswith("BEGIN")]) + 1  # and the COMMIT
    with app.app_context():
        db.engine.dispose()
    return counts


def run(label: str, url: str, clients: int, seconds: float, tree: Path = ROOT, paced: tuple = ()) -> dict:
    print(f"==> {label} ({tree}): preparing")
    tokens, codes = prepare(url, clients)
    # Served as `make run` serves it (the scheduler left out): the same workers, threads and sockets.
    with serve_app(env_for(url), tree=tree) as server:
        base = f"http://127.0.0.1:{server.port}"
        meter = CpuMeter(server=server.pid, database=_postmaster(url))
        print(f"==> {label}: /healthz, {clients} clients, {seconds:.0f} s")
        health = load(base, tokens, seconds, lambda s, b: s.get(f"{b}/healthz"), meter)
        print(f"    {health}")
        print(f"==> {label}: GET /api/v1/me, {clients} clients, {seconds:.0f} s")
        me = load(base, tokens, seconds, lambda s, b: s.get(f"{b}/api/v1/me"), meter)
        print(f"    {me}")
        rng = random.Random(7)

        def scan(session, b):
            return session.post(f"{b}/api/v1/scans", json={
                "code": rng.choice(codes), "action": "receive", "location": "审判组",
                "client_scan_id": uuid.uuid4().hex})

        print(f"==> {label}: POST /api/v1/scans, {clients} clients, {seconds:.0f} s")
        scans = load(base, tokens, seconds, scan, meter)
        print(f"    {scans}")
        paced_scans = {}
        for rate in paced:
            print(f"==> {label}: POST /api/v1/scans, {clients} clients sending {rate:g}/s in all, {seconds:.0f} s")
            paced_scans[f"{rate:g}"] = load(base, tokens, seconds, scan, meter, rate=rate)
            print(f"    {paced_scans[f'{rate:g}']}")
    counted = statements(url, tokens[0], codes[0]) if tree == ROOT else None
    return {"tree": str(tree), "healthz": health, "me": me, "scans": scans, "paced_scans": paced_scans, "load_average": os.getloadavg()[0],
            "statements": counted,
            "scan_to_healthz_throughput": round(scans["per_second"] / health["per_second"], 3),
            "scan_to_me_throughput": round(scans["per_second"] / me["per_second"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--reference", type=Path, help="an earlier checkout to serve first, beside this one")
    parser.add_argument("--paced", type=lambda v: tuple(float(x) for x in v.split(",") if x), default=(),
                        help="also scan at these rates a second, on a timetable (e.g. 100,200,300): "
                             "the latency a scanner feels below the server's limit")
    args = parser.parse_args()
    results = {"clients": args.clients, "seconds": args.seconds, "databases": {},
               "server": "ancillary serve (gunicorn gthread, 1 x 8 on SQLite, 2 x 2 otherwise)"}
    trees = ([("reference", args.reference.resolve())] if args.reference else []) + [("this tree", ROOT)]
    for label, tree in trees:  # SQLite: the reference, then this tree
        tmp = Path(tempfile.mkdtemp(prefix="scan-bench-"))
        results["databases"].setdefault("sqlite", {})[label] = run(
            "sqlite", f"sqlite:///{tmp / 'bench.sqlite3'}", args.clients, args.seconds, tree, args.paced)
    for label, tree in trees if os.environ.get("ANCILLARY_TEST_POSTGRES_URL") else ():  # then PostgreSQL
        url, drop = postgres_database("scan_bench")
        try:
            results["databases"].setdefault("postgresql", {})[label] = run(
                "postgresql", url, args.clients, args.seconds, tree, args.paced)
        finally:
            drop()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "scan_throughput.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"written to {out / 'scan_throughput.json'}")


if __name__ == "__main__":
    main()
