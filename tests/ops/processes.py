"""Helpers to run the ``ancillary`` command as real processes, the way an operator does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import QR_KEYS

ANCILLARY = str(Path(sys.executable).parent / "ancillary")
PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def process_env(database_url: str, instance: Path, **extra: str) -> dict:
    env = dict(os.environ)
    env.update({
        "ANCILLARY_DATABASE_URL": database_url,
        "ANCILLARY_SECRET_KEY": "test-secret-key",
        "ANCILLARY_QR_KEYS": QR_KEYS,
        "ANCILLARY_INSTANCE_DIR": str(instance),
        "ANCILLARY_STORAGE_DIR": str(instance / "storage"),
    })
    env.update(extra)
    return env


def run(env: dict, *args: str, stdin: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([ANCILLARY, *args], env=env, input=stdin, capture_output=True, text=True, timeout=timeout)


def prepare_court(env: dict) -> None:
    """Migrate the database and add one court_admin, as docs/deploy.md says."""
    done = run(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    done = run(env, "users", "add", "admin", "--role", "court_admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> float:
    """Block until something accepts on ``port``; return the monotonic instant it did."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode} before opening its port")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return time.monotonic()
        time.sleep(0.01)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


def sign_in(base: str, timeout: float) -> requests.Response:
    return requests.post(f"{base}/api/v1/auth/tokens", json={"username": "admin", "password": PASSWORD},
                         timeout=timeout)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


def connections_per_process(pids, port: int) -> list[int]:
    """How many established connections to ``port`` each of ``pids`` holds, most first (Linux /proc)."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED, our side
                established.add(fields[9])  # the socket's inode
    counts = []
    for pid in pids:
        try:
            targets = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue
        held = sum(target.startswith("socket:[") and target[8:-1] in established for target in targets)
        if held:
            counts.append(held)
    return sorted(counts, reverse=True)


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (Linux /proc)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
