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


def answers_health(base: str, seconds: float = 30) -> bool:
    """Whether the server at ``base`` answers /healthz within ``seconds`` (it may still be loading the app)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=5).ok:
                return True
        except requests.RequestException:  # not listening yet, or still loading the app
            pass
        time.sleep(0.05)
    return False


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
        if not answers_health(base):
            sys.exit("gunicorn did not start: " + (process.stderr.read() if process.stderr else ""))
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@contextmanager
def serve_app(env: dict, *options: str, tree: Path = ROOT):
    """``ancillary serve --no-scheduler`` of ``tree`` as `make run` serves it, on a free loopback port.

    ``options`` are more of its options (``--workers 2 --threads 2``). Yields the process once
    /healthz answers and a second more has passed, so that every worker is up.
    """
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "ancillary", "serve", "--port", str(port), "--no-scheduler",
                                *options], cwd=tree, env={**env, "PYTHONPATH": str(tree)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process.port = port
    try:
        if not answers_health(f"http://127.0.0.1:{port}"):
            sys.exit(f"ancillary serve {' '.join(options)} did not start")
        time.sleep(1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=60)


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


# --- where the CPU goes: processes' own CPU time, read from /proc (Linux) -------------

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_of(pid: int) -> list[int]:
    """``pid`` and every live descendant."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, ()))
    return found


def postmaster_pid(connection) -> int | None:
    """The PostgreSQL server's main process (its data directory's postmaster.pid), if readable here."""
    from sqlalchemy import text

    folder = connection.execute(text("SELECT setting FROM pg_settings WHERE name = 'data_directory'")).scalar()
    try:
        return int(Path(folder, "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class CpuMeter:
    """CPU seconds used by process trees (the server, the database) and this process, between two readings."""

    def __init__(self, **roots: int | None):
        self.roots = {name: pid for name, pid in roots.items() if pid}
        self.before: dict[str, dict[int, float]] = {}

    def _read(self) -> dict[str, dict[int, float]]:
        return {name: {pid: cpu_of(pid) for pid in children_of(root)} for name, root in self.roots.items()}

    def start(self) -> None:
        self.before = self._read()
        self.own = time.process_time()

    def stop(self) -> dict[str, float]:
        """Seconds per tree (processes started meanwhile count from zero), and ``client``: this process."""
        after, used = self._read(), {"client": time.process_time() - self.own}
        for name, pids in after.items():
            used[name] = sum(cpu - self.before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
        return used


def cpu_breakdown(used: dict[str, float], figures: dict) -> dict:
    """CPU milliseconds per request by part, and how many cores the parts kept busy."""
    requests, seconds = figures["requests"], figures["seconds"]
    return {"cpu_ms_per_request": {name: round(value * 1000 / requests, 2) for name, value in used.items()},
            "cores_busy": round(sum(used.values()) / seconds, 2)}


class WaitSampler:
    """What a PostgreSQL database's connections are doing, sampled every few milliseconds in a thread.

    ``stop()`` answers the mean number of connections in each state over the samples: running a
    statement (``in_database``), waiting for another transaction's lock (``on_a_lock``), inside a
    transaction waiting for the application's next statement (``in_transaction_waiting_for_the_app``)
    and ``idle``. Where a request's time goes between the server's Python and the database.
    """

    def __init__(self, url: str, every: float = 0.004):
        from sqlalchemy import create_engine

        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")
        self.name = url.rsplit("/", 1)[-1]
        self.every, self.samples = every, []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from sqlalchemy import text

        query = text("SELECT state, wait_event_type FROM pg_stat_activity WHERE datname = :name "
                     "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        with self.engine.connect() as conn:
            while not self.done.wait(self.every):
                self.samples.append(conn.execute(query, {"name": self.name}).all())

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> dict:
        self.done.set()
        self.thread.join()
        self.engine.dispose()
        totals = {"in_database": 0, "on_a_lock": 0, "in_transaction_waiting_for_the_app": 0, "idle": 0}
        for rows in self.samples:
            for state, wait in rows:
                if state == "active":
                    totals["on_a_lock" if wait == "Lock" else "in_database"] += 1
                elif state and state.startswith("idle in transaction"):
                    totals["in_transaction_waiting_for_the_app"] += 1
                else:
                    totals["idle"] += 1
        count = max(1, len(self.samples))
        return {"samples": len(self.samples), **{k: round(v / count, 2) for k, v in totals.items()}}
