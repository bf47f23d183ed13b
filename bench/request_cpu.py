"""CPU per request, in process and one request at a time: a booking, a scan, ``GET /api/v1/me``.

    scripts/with-postgres.sh .venv/bin/python bench/request_cpu.py [--reference DIR] [--runs 2] [--profile]

Each run is a child process on a fresh PostgreSQL database (the booking race's court and
the scan bench's dossiers), warmed up first, then times 480 bookings (a quarter lose
their room to an earlier booking: 409), 400 scans and 300 ``/me`` by the process's own
CPU clock: what the server's Python costs per request, without gunicorn, the network or
waiting. ``--reference DIR`` alternates an earlier checkout with this tree, ``--runs``
times each. ``--profile`` adds, for this tree, where a booking's CPU goes (cProfile on
the CPU clock: the shares, not the times, are what to read). Writes bench/out/request_cpu.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROUNDS = 56  # 10 to warm up, 30 timed (480 bookings), 16 profiled
BOOKING_PARTS = {  # the share of a booking's CPU by part: (label, function name, file name or "")
    "token and user": ("_authenticate", "web.py"), "arguments (by hand)": ("hearing_args", "schemas.py"),
    "arguments (webargs)": ("parse", "webargs"),
    "load and lock": ("load", "booking.py"), "ledger": ("ledger_around", "booking.py"),
    "SMS text": ("booked", "sms.py"),
    "hearing, audit entries, task, SMS, access log (one statement)": ("insert_booked", "booking_write.py"),
    "answer": ("hearing", "answers.py"),
    "commit": ("_commit_or_rollback", "web.py"),
}

SCAN_PARTS = {  # the share of a scan's CPU by part
    "token and user": ("_authenticate", "web.py"), "NUL check of the body": ("_refuse_nul_characters", "web.py"),
    "arguments (by hand)": ("scan_args", "custody/schemas.py"), "arguments (marshmallow)": ("_load", "custody/views.py"),
    "label's signature": ("token_to_code", "services.py"),
    "the scan (locking read, chain, writes)": ("scan", "custody/services.py"),
    "of which the writes": ("_write_scan", "services.py"), "answer (by hand)": ("recorded", "custody/answers.py"),
    "answer (marshmallow)": ("dump", "marshmallow/schema.py"),
    "commit": ("_commit_or_rollback", "web.py"),
}


def _booking_app():
    import booking_race
    from common import postgres_database
    from flask_migrate import upgrade

    from ancillary import create_app
    from ancillary.config import Settings

    url, drop = postgres_database("cpu")
    env = {**os.environ, "ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench",
           "ANCILLARY_QR_KEYS": "K1:bench-secret-0123456789", "ANCILLARY_STORAGE_DIR": tempfile.mkdtemp(),
           "ANCILLARY_INSTANCE_DIR": tempfile.mkdtemp()}
    app = create_app(Settings.from_env(env, testing=True))
    app.config["CLOCK"] = lambda: booking_race.NOW
    with app.app_context():
        upgrade()
    logging.getLogger().setLevel(logging.WARNING)
    return app, booking_race.seed(app, 16, ROUNDS), drop


def _cpu_ms(calls) -> float:
    started = time.process_time()
    for call in calls:
        call()
    return round((time.process_time() - started) / len(calls) * 1000, 2)


def bookings(profile: bool) -> dict:
    from ancillary.extensions import db

    app, work, drop = _booking_app()
    try:
        client = app.test_client()
        posts = [lambda t=token, b=bodies[r]: client.post("/api/v1/hearings", json=b,
                                                          headers={"Authorization": f"Bearer {t}"})
                 for r in range(ROUNDS) for token, bodies in work]
        me = [lambda: client.get("/api/v1/me", headers={"Authorization": f"Bearer {work[0][0]}"})] * 300
        _cpu_ms(posts[:160] + me[:50])  # warm-up: connections, compiled statements
        figures = {"booking_ms": _cpu_ms(posts[160:640]), "me_ms": _cpu_ms(me)}
        if profile:
            figures["booking_parts"] = _profile(posts[640:])
        return figures
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()


def _profile(posts, parts=BOOKING_PARTS) -> dict:
    """Shares of a request's CPU by part (per cent), over requests of later rounds."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for post in posts:
        post()
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    total = sum(v[3] for k, v in stats.items() if k[2] == "wsgi_app")
    return {label: round(100 * sum(v[3] for k, v in stats.items() if k[2] == name and where in k[0]) / total, 1)
            for label, (name, where) in parts.items()}


def scans(profile: bool = False) -> dict:
    import scan_throughput
    from common import postgres_database

    from ancillary import create_app
    from ancillary.config import Settings
    from ancillary.extensions import db

    url, drop = postgres_database("cpu_scan")
    try:
        tokens, codes = scan_throughput.prepare(url, 1)
        app = create_app(Settings.from_env(scan_throughput.env_for(url)))
        logging.getLogger().setLevel(logging.WARNING)
        client, headers, rng = app.test_client(), {"Authorization": f"Bearer {tokens[0]}"}, random.Random(3)
        scan = [lambda: client.post("/api/v1/scans", headers=headers, json={
            "code": rng.choice(codes), "action": "receive", "location": "审判组",
            "client_scan_id": uuid.uuid4().hex})] * 500
        me = [lambda: client.get("/api/v1/me", headers=headers)] * 300
        _cpu_ms(scan[:100] + me[:50])
        figures = {"scan_ms": _cpu_ms(scan[100:]), "me_on_scan_app_ms": _cpu_ms(me)}
        if profile:
            figures["scan_parts"] = _profile(scan[:300], SCAN_PARTS)
        with app.app_context():
            db.engine.dispose()
        return figures
    finally:
        drop()


def run_tree(tree: Path, profile: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker"] + (["--profile"] if profile else [])
    result = subprocess.run(argv, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"{tree} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, help="an earlier checkout, alternated with this tree")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import ancillary  # noqa: F401  (the tree on PYTHONPATH, before this folder's common.py adds ROOT)

        sys.path.insert(0, str(HERE))
        print(json.dumps({**bookings(args.profile), **scans(args.profile)}))
        return
    if not os.environ.get("ANCILLARY_TEST_POSTGRES_URL"):
        raise SystemExit("run under scripts/with-postgres.sh")
    trees = ([("reference", args.reference.resolve())] if args.reference else []) + [("this tree", ROOT)]
    rows = []
    for run in range(args.runs):
        for label, tree in trees:
            load = os.getloadavg()[0]
            row = {"tree": label, "run": run + 1, "load_before": round(load, 1),
                   **run_tree(tree, args.profile and tree == ROOT and run == 0)}
            rows.append(row)
            print(json.dumps(row, ensure_ascii=False), flush=True)
    sys.path.insert(0, str(HERE))
    from common import write_json

    print(f"written to {write_json('request_cpu', {'cpus': os.cpu_count(), 'runs': rows})}")


if __name__ == "__main__":
    main()
