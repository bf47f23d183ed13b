"""Shared benchmark plumbing: a database, a migrated app in this process or a gunicorn server,
load clients, and where results are written."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
QR_KEYS = "B1:bench-signing-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_database(prefix: str = "bench") -> tuple[str, callable]:
    """A new database on ANCILLARY_TEST_POSTGRES_URL (scripts/with-postgres.sh); its URL and a drop()."""
    from sqlalchemy import create_engine, text

    server = os.environ.get("ANCILLARY_TEST_POSTGRES_URL")
    if not server:
        sys.exit("PostgreSQL benchmarks need a server: run them through scripts/run-bench.sh")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return f"{server}/{name}", drop


@contextmanager
def database(kind: str):
    """Yield a fresh database URL: a SQLite file, or a new database on ANCILLARY_TEST_POSTGRES_URL."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    url, drop = postgres_database()
    try:
        yield url
    finally:
        drop()


def env_for(database_url: str, storage: str) -> dict:
    env = dict(os.environ)
    env.update(ANCILLARY_DATABASE_URL=database_url, ANCILLARY_SECRET_KEY="bench", ANCILLARY_QR_KEYS=QR_KEYS,
               ANCILLARY_STORAGE_DIR=storage, ANCILLARY_INSTANCE_DIR=storage)
    return env


def ancillary(env: dict, *args: str, input: str | None = None) -> str:
    result = subprocess.run([str(ROOT / ".venv/bin/ancillary"), *args], env=env, input=input, text=True,
                            capture_output=True, cwd=ROOT)
    if result.returncode != 0:
        sys.exit(f"ancillary {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def gunicorn(env: dict, workers: int = 2, threads: int = 4):
    """Serve wsgi:app on a free loopback port; yield the base URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "--threads", str(threads), "-k", "gthread",
         "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(f"{base}/healthz", timeout=5).ok:
                    break
            except requests.RequestException:  # not listening yet, or still loading the app
                time.sleep(0.05)
        else:
            sys.exit("gunicorn did not start: " + (process.stderr.read() if process.stderr else ""))
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def run_clients(count: int, per_client: int, work) -> list[tuple[str, float]]:
    """Run ``work(client_index, session, i) -> label`` per_client times in each of count threads.

    Returns (label, seconds) for every call.
    """
    results: list[tuple[str, float]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(count)

    def client(index):
        session = requests.Session()
        mine = []
        barrier.wait()
        for i in range(per_client):
            started = time.perf_counter()
            label = work(index, session, i)
            mine.append((label, time.perf_counter() - started))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def percentiles(seconds: list[float]) -> dict:
    ms = sorted(s * 1000 for s in seconds)
    if not ms:
        return {"n": 0}
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else [ms[0]] * 99
    return {"n": len(ms), "p50_ms": round(q[49], 2), "p99_ms": round(q[98], 2), "max_ms": round(ms[-1], 2)}


def write_json(name: str, data) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    return path


class Progress:
    """A running count on one line."""

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.lock = threading.Lock()

    def step(self, n: int = 1):
        with self.lock:
            self.done += n
            if self.done % max(1, self.total // 20) == 0 or self.done == self.total:
                print(f"\r  {self.label}: {self.done}/{self.total}", end="", flush=True)
                if self.done == self.total:
                    print()


def fresh_database(kind: str) -> str:
    """A new database URL that outlives the run (the in-process benchmarks inspect it after)."""
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='ancillary-bench-')}/bench.sqlite3"
    return postgres_database()[0]


def settings_env(url: str, **extra) -> dict:
    """The environment of an app in this process on ``url``."""
    env = {"ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench", "ANCILLARY_QR_KEYS": QR_KEYS,
           "ANCILLARY_INSTANCE_DIR": tempfile.mkdtemp(prefix="ancillary-bench-instance-")}
    env.update(extra)
    return env


def make_app(url: str, **overrides):
    """An app on ``url``, migrated to head, logging warnings only."""
    import logging

    from flask_migrate import upgrade

    from ancillary import create_app
    from ancillary.config import Settings

    app = create_app(Settings.from_env(settings_env(url), **overrides))
    with app.app_context():
        upgrade()
    logging.getLogger().setLevel(logging.WARNING)
    return app


def write(name: str, data: dict) -> Path:
    """Print the results and keep them in bench/out/NAME.json."""
    path = write_json(name, data)
    print(json.dumps(data, indent=2, ensure_ascii=False))
    print(f"written to {path}")
    return path
