"""The process model, measured: sign-in latency from a cold `ancillary serve` (as `make run` starts it,
SQLite, scheduler on), scheduler takeover after kill -9 (PostgreSQL), and requests per second of a
cheap authenticated read (GET /api/v1/me) with 1, 2 and 4 web processes on PostgreSQL.

    scripts/with-postgres.sh .venv/bin/python bench/process_model.py [--starts 20] [--kills 3] [--seconds 8]

(`make bench` runs it.) Figures are printed and written to bench/out/process_model.json.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import threading
import time

import requests
from common import ROOT, ancillary, database, env_for, free_port, percentiles, write_json
from sqlalchemy import create_engine, text

ANCILLARY = str(ROOT / ".venv/bin/ancillary")
PASSWORD = "bench-password-0123"


def prepare(env: dict) -> None:
    ancillary(env, "db", "upgrade")
    ancillary(env, "users", "add", "admin", "--role", "court_admin", "--password-stdin", input=PASSWORD + "\n")


def wait_port(port: int, proc: subprocess.Popen) -> float:
    import socket

    while proc.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return time.monotonic()
        time.sleep(0.005)
    raise SystemExit("the server exited before opening its port")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cold_sign_in(starts: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = env_for(f"sqlite:///{folder}/court.sqlite3", folder)
        prepare(env)
        seconds = []
        for _ in range(starts):
            port = free_port()
            proc = subprocess.Popen([ANCILLARY, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                opened = wait_port(port, proc)
                answer = requests.post(f"http://127.0.0.1:{port}/api/v1/auth/tokens",
                                       json={"username": "admin", "password": PASSWORD}, timeout=60)
                assert answer.status_code == 201, answer.text
                seconds.append(time.monotonic() - opened)
            finally:
                stop(proc)
    return {"starts": starts, **percentiles(seconds)}


def _leader(engine) -> str | None:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT node FROM scheduler_beats WHERE is_leader ORDER BY beat_at DESC LIMIT 1"))


def _seen(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT count(*) FROM scheduler_beats WHERE node LIKE :n"), {"n": f"%:{pid}"}))


def takeover(url: str, kills: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = env_for(url, folder)
        env.update(ANCILLARY_HEARTBEAT_SECONDS="1", ANCILLARY_TICK_SECONDS="10")
        engine = create_engine(url)
        procs = {}
        times = []
        try:
            for _ in range(2):
                proc = subprocess.Popen([ANCILLARY, "scheduler"], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                procs[proc.pid] = proc
            for pid in procs:
                while not _seen(engine, pid):
                    time.sleep(0.1)
            for _ in range(kills):
                while (node := _leader(engine)) is None:
                    time.sleep(0.05)
                victim = procs.pop(int(node.rsplit(":", 1)[1]))
                victim.send_signal(signal.SIGKILL)
                killed = time.monotonic()
                victim.wait()
                # the heir's first heartbeat as leader names a different node
                while _leader(engine) in (None, node):
                    time.sleep(0.02)
                times.append(time.monotonic() - killed)
                replacement = subprocess.Popen([ANCILLARY, "scheduler"], env=env, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
                procs[replacement.pid] = replacement
                while not _seen(engine, replacement.pid):  # the next kill finds a standby ready
                    time.sleep(0.1)
        finally:
            for proc in procs.values():
                stop(proc)
            engine.dispose()
    return {"kills": kills, "seconds": [round(t, 2) for t in times], "max_seconds": round(max(times), 2)}


def throughput(url: str, workers: int, seconds: float, clients: int = 8) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        env = env_for(url, folder)
        port = free_port()
        proc = subprocess.Popen([ANCILLARY, "serve", "--no-scheduler", "--workers", str(workers), "--port", str(port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, proc)
            base = f"http://127.0.0.1:{port}"
            token = requests.post(f"{base}/api/v1/auth/tokens", json={"username": "admin", "password": PASSWORD},
                                  timeout=60).json()["token"]
            counts = [0] * clients
            deadline = time.monotonic() + seconds

            def client(i):
                session = requests.Session()
                session.headers["Authorization"] = f"Bearer {token}"
                while time.monotonic() < deadline:
                    assert session.get(f"{base}/api/v1/me", timeout=30).status_code == 200
                    counts[i] += 1

            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            stop(proc)
    return {"workers": workers, "clients": clients, "req_per_s": round(sum(counts) / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--only", choices=("cold", "takeover", "reads"), help="run one part only")
    args = parser.parse_args()
    results = {"load_average_at_start": os.getloadavg()[0]}
    if args.only in (None, "cold"):
        results["cold_sign_in_ms"] = cold_sign_in(args.starts)
        print("sign-in after a cold `ancillary serve` (SQLite, scheduler on):", results["cold_sign_in_ms"])
    if args.only == "cold":
        write_json("process_model", results)
        return
    with database("postgresql") as url:
        with tempfile.TemporaryDirectory() as folder:
            prepare(env_for(url, folder))
        if args.only in (None, "takeover"):
            results["takeover"] = takeover(url, args.kills)
            print("scheduler takeover after kill -9 (PostgreSQL):", results["takeover"])
        results["me_read"] = [throughput(url, n, args.seconds) for n in (1, 2, 4)] if args.only != "takeover" else []
        for row in results["me_read"]:
            print(f"GET /api/v1/me, {row['workers']} web process(es), {row['clients']} clients: {row['req_per_s']} req/s")
    write_json("process_model", results)


if __name__ == "__main__":
    main()
