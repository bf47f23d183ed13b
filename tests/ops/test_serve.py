"""`ancillary serve` started exactly as `make run` starts it (scheduler on), fresh each time."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.conftest import DB_KIND
from tests.ops.processes import ANCILLARY, free_port, prepare_court, process_env, sign_in, stop, wait_for_port

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="`make run` serves a SQLite file")


@pytest.fixture(scope="module")
def court(tmp_path_factory):
    instance = tmp_path_factory.mktemp("serve")
    env = process_env(f"sqlite:///{instance / 'ancillary.sqlite3'}", instance)
    prepare_court(env)
    return env, instance


def test_every_fresh_start_signs_in_within_two_seconds(court):
    env, instance = court
    for attempt in range(10):
        port = free_port()
        log = open(instance / f"serve{attempt}.log", "wb")
        server = subprocess.Popen([ANCILLARY, "serve", "--port", str(port)], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            opened = wait_for_port(port, server)
            answer = sign_in(f"http://127.0.0.1:{port}", timeout=2.0)
            took = time.monotonic() - opened
            assert answer.status_code == 201, (attempt, answer.status_code, answer.text)
            assert answer.json()["role"] == "court_admin"
            assert took < 2.0, f"start {attempt}: signing in took {took:.1f} s after the port opened"
        finally:
            assert stop(server) == 0, (instance / f"serve{attempt}.log").read_text()
            log.close()
