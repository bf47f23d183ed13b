"""SIGTERM lets a running request finish, and a scheduler steps down cleanly."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest

from tests.conftest import DB_KIND
from tests.ops.processes import ANCILLARY, PASSWORD, free_port, prepare_court, process_env, stop, wait_for_port

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="processes on a SQLite file; enough for signals")


@pytest.fixture(scope="module")
def court(tmp_path_factory):
    instance = tmp_path_factory.mktemp("graceful")
    env = process_env(f"sqlite:///{instance / 'ancillary.sqlite3'}", instance)
    prepare_court(env)
    return env, instance


def test_a_request_in_flight_when_sigterm_arrives_is_answered(court):
    env, instance = court
    port = free_port()
    server = subprocess.Popen([ANCILLARY, "serve", "--port", str(port), "--no-scheduler"], env=env,
                              stdout=open(instance / "web.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    try:
        wait_for_port(port, server)
        body = json.dumps({"username": "admin", "password": PASSWORD}).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(b"POST /api/v1/auth/tokens HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:10])
            time.sleep(1.5)  # the worker has the request and waits for the rest of its body
            server.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(body[10:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 201"), answer[:200]
        assert server.wait(60) == 0
    finally:
        stop(server)


def test_a_stopped_scheduler_exits_and_steps_down(court):
    from sqlalchemy import create_engine, text

    env, instance = court
    scheduler = subprocess.Popen([ANCILLARY, "scheduler"], env={**env, "ANCILLARY_HEARTBEAT_SECONDS": "1"},
                                 stdout=open(instance / "scheduler.log", "wb"), stderr=subprocess.STDOUT)  # noqa: SIM115
    engine = create_engine(env["ANCILLARY_DATABASE_URL"])
    try:
        def leaders():
            with engine.connect() as conn:
                return conn.execute(text("SELECT node FROM scheduler_beats WHERE is_leader")).scalars().all()

        deadline = time.monotonic() + 60
        while not leaders() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leaders() == [f"{socket.gethostname()}:{scheduler.pid}"]
        assert stop(scheduler) == 0
        assert leaders() == []
    finally:
        stop(scheduler)
        engine.dispose()
