"""`ancillary serve` started exactly as `make run` starts it (scheduler on), fresh each time."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import DB_KIND
from tests.ops.processes import (
    ANCILLARY,
    children,
    connections_per_process,
    free_port,
    prepare_court,
    process_env,
    run,
    sign_in,
    stop,
    wait_for_port,
)

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="`make run` serves a SQLite file")


@pytest.fixture(scope="module")
def court(tmp_path_factory):
    instance = tmp_path_factory.mktemp("serve")
    env = process_env(f"sqlite:///{instance / 'ancillary.sqlite3'}", instance)
    prepare_court(env)
    return env, instance


# The broken server waited 30 s on an inherited lock, then answered 503. The goal is 2 s
# (bench/process_model.py measures it); the bound here leaves room for a loaded machine
# without letting the 30 s wait through.
SIGN_IN_BOUND = 10.0


def test_every_fresh_start_signs_in_promptly(court):
    env, instance = court
    for attempt in range(10):
        port = free_port()
        with open(instance / f"serve{attempt}.log", "wb") as log:
            server = subprocess.Popen([ANCILLARY, "serve", "--port", str(port)], env=env, stdout=log,
                                      stderr=subprocess.STDOUT)
            try:
                opened = wait_for_port(port, server)
                answer = sign_in(f"http://127.0.0.1:{port}", timeout=SIGN_IN_BOUND)
                took = time.monotonic() - opened
                assert answer.status_code == 201, (attempt, answer.status_code, answer.text)
                assert answer.json()["role"] == "court_admin"
                assert took < SIGN_IN_BOUND, f"start {attempt}: signing in took {took:.1f} s after the port opened"
            finally:
                assert stop(server) == 0, (instance / f"serve{attempt}.log").read_text()


def test_two_workers_share_the_connections_evenly_and_a_taken_port_refuses_to_start(court):
    """Each worker listens on a socket of its own: kept-alive clients land on both, then settle half and half."""
    env, instance = court
    port = free_port()
    with open(instance / "spread.log", "wb") as log:
        server = subprocess.Popen([ANCILLARY, "serve", "--port", str(port), "--workers", "2", "--no-scheduler"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, server)
            deadline = time.monotonic() + 60
            while len(children(server.pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            clients = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(32)]
            # One after the other: on a shared socket the same worker took every one. A worker
            # over its half answers with "Connection: close", and the client opens another.
            for _ in range(20):
                closed = sum(healthz(client) == "close" for client in clients)
                if not closed:
                    break
            assert closed == 0, "the connections never settled"
            assert connections_per_process(children(server.pid), port) == [16, 16]
            for client in clients:
                client.close()

            second = run(env, "serve", "--port", str(port), "--no-scheduler", timeout=120)
            assert second.returncode == 2, second.stderr
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("refusing to start") and f":{port} is already in use" in lines[0]
            healthz(http.client.HTTPConnection("127.0.0.1", port, timeout=30))  # the first still serves
        finally:
            assert stop(server) == 0, (instance / "spread.log").read_text()


def test_an_idle_connection_stays_open_as_long_as_keep_alive_says(court):
    """Behind nginx the server must keep an idle connection longer than nginx does (deploy/)."""
    env, instance = court

    def open_after_idle(*options: str) -> bool:
        port = free_port()
        with open(instance / "keep-alive.log", "ab") as log:
            server = subprocess.Popen([ANCILLARY, "serve", "--port", str(port), "--no-scheduler", *options],
                                      env=env, stdout=log, stderr=subprocess.STDOUT)
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                wait_for_port(port, server)
                healthz(client)
                time.sleep(3.5)
                client.sock.setblocking(False)
                try:  # a peek: an empty read is the server's close, no data yet is open
                    return client.sock.recv(1, socket.MSG_PEEK) != b""
                except BlockingIOError:
                    return True
            finally:
                client.close()
                assert stop(server) == 0, (instance / "keep-alive.log").read_text()

    assert not open_after_idle()  # gunicorn's 2 s, for phones served directly
    assert open_after_idle("--keep-alive", "75")


def test_a_worker_closes_connections_only_beyond_its_share_of_the_workers_alive():
    from types import SimpleNamespace

    from ancillary.serving import ConnectionShares

    shares = ConnectionShares(2)
    server = SimpleNamespace(WORKERS={})
    first, second = SimpleNamespace(nr_conns=0), SimpleNamespace(nr_conns=0)
    for pid, worker in ((101, first), (102, second)):
        shares.assign(server, worker)
        server.WORKERS[pid] = worker

    def closes(worker, held):
        worker.nr_conns = held
        request = SimpleNamespace(must_close=False)
        shares.pre_request(worker, request)
        return request.must_close

    assert closes(first, 8)  # the other holds none yet: half of 8 each
    assert not closes(second, 7)
    assert closes(first, 9)  # 16 between two: 8 each
    assert not closes(first, 8)
    assert not closes(second, 8)

    shares.forget(server, server.WORKERS.pop(102))  # it died: its clients can only come here
    assert not closes(first, 16)
    replacement = SimpleNamespace(nr_conns=0)
    shares.assign(server, replacement)  # the next one forks into the same slot, with nothing yet
    assert replacement.share_slot == second.share_slot
    assert closes(first, 16)  # now they can go to it
    assert not closes(replacement, 1)


def healthz(client: http.client.HTTPConnection) -> str:
    """``GET /healthz`` on the client's connection (reopened if the last answer closed it): what the server said of it."""
    client.request("GET", "/healthz")
    answer = client.getresponse()
    answer.read()
    assert answer.status == 200
    return answer.getheader("Connection", "keep-alive")


FROZEN_CHECK = """
import gc, json
from ancillary import create_app
from ancillary.config import Settings
from ancillary.serving import Server
app = create_app(Settings.from_env())
server = Server(app, bind="127.0.0.1:0", workers=2, scheduler=False)
before = len(gc.get_objects())
server.cfg.pre_fork(None, None)
print(json.dumps({"before": before, "after": len(gc.get_objects()), "frozen": gc.get_freeze_count()}))
"""


def test_the_workers_full_collections_leave_the_apps_start_up_objects_alone(court):
    """A full collection in a worker walked the master's ~200,000 objects, stalling its requests 100-200 ms."""
    env, _ = court
    done = subprocess.run([sys.executable, "-c", FROZEN_CHECK], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    # What a forked worker's full collection walks: what it makes itself, not the app built before the fork.
    assert counts["before"] > 50_000 and counts["frozen"] > 50_000, counts
    assert counts["after"] < counts["before"] / 20, counts
