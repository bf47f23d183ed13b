"""Scheduler leadership: exactly one leader, takeover after kill -9, each sweep once per instant."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from ancillary.jobs import run_sweeps
from ancillary.leader import claimer, tick_instant
from ancillary.wiring import SWEEPS, dotted
from notifications.testing.twilio_standin import TwilioStandin
from tests.conftest import DB_KIND
from tests.ops.processes import ANCILLARY, process_env
from tests.reminders.test_sender_processes import _fill_outbox

FROM = "+8653100000001"


def test_tick_instants_are_aligned_so_every_process_names_them_alike():
    now = datetime(2027, 1, 4, 1, 7, 42, tzinfo=UTC)
    assert tick_instant(now, 300) == datetime(2027, 1, 4, 1, 5, tzinfo=UTC)
    assert tick_instant(now + timedelta(minutes=3), 300) == datetime(2027, 1, 4, 1, 10, tzinfo=UTC)


def test_a_sweep_runs_once_per_instant_whoever_repeats_it(app, db_session):
    from ancillary.ops.models import SweepRun

    instant = datetime(2027, 1, 4, 1, 5, tzinfo=UTC)
    first = dict(run_sweeps(app, instant, deliver=False, claim=claimer("a:1")))
    again = dict(run_sweeps(app, instant, deliver=False, claim=claimer("b:2")))
    assert all("skipped" not in outcome for outcome in first.values())
    assert all(outcome == {"skipped": "already done for this instant"} for outcome in again.values())
    rows = db_session.scalars(select(SweepRun)).all()
    assert sorted(r.sweep for r in rows) == sorted(dotted(s) for s in SWEEPS) and {r.node for r in rows} == {"a:1"}
    later = dict(run_sweeps(app, instant + timedelta(minutes=5), deliver=False, claim=claimer("b:2")))
    assert all("skipped" not in outcome for outcome in later.values())


def _scheduler(env, log_path):
    return subprocess.Popen([ANCILLARY, "scheduler"], env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)


def _leaders(app) -> list[tuple[str, datetime]]:
    from ancillary.extensions import db
    from ancillary.ops.models import SchedulerBeat

    with app.app_context():
        rows = db.session.execute(select(SchedulerBeat.node, SchedulerBeat.beat_at)
                                  .where(SchedulerBeat.is_leader)).all()
        db.session.remove()
    return [(node, beat_at) for node, beat_at in rows]


def _nodes(app) -> list[str]:
    from ancillary.extensions import db
    from ancillary.ops.models import SchedulerBeat

    with app.app_context():
        nodes = db.session.scalars(select(SchedulerBeat.node)).all()
        db.session.remove()
    return nodes


def _wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    return None


def _notifications(app):
    from ancillary.extensions import db
    from ancillary.outbox import Notification

    with app.app_context():
        rows = db.session.scalars(select(Notification)).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


@pytest.mark.skipif(DB_KIND != "postgresql", reason="leadership across machines is PostgreSQL's advisory lock")
def test_the_standby_takes_over_after_the_leader_is_killed_and_nothing_is_sent_twice(app, tmp_path):
    from ancillary.outbox import NotificationStatus

    total = 120
    with TwilioStandin() as standin:
        env = process_env(app.config["SETTINGS"].database_url, tmp_path, ANCILLARY_SMS_BACKEND="twilio",
                          TWILIO_ACCOUNT_SID=standin.account_sid, TWILIO_AUTH_TOKEN=standin.auth_token,
                          TWILIO_FROM_NUMBER=FROM, TWILIO_API_BASE=standin.base_url, ANCILLARY_SMS_RATE="1000",
                          ANCILLARY_SMS_TIMEOUT="2", ANCILLARY_CLAIM_TIMEOUT="4", ANCILLARY_TICK_SECONDS="10",
                          ANCILLARY_HEARTBEAT_SECONDS="1")
        standin.delay_next(total, seconds=0.1)
        procs = {}
        try:
            for i in range(2):
                proc = _scheduler(env, tmp_path / f"scheduler{i}.log")
                procs[proc.pid] = proc
            # both up (one leading, one standing by) before the kill: a takeover, not a slow start
            assert _wait_for(lambda: len(_nodes(app)) == 2, timeout=120), "the schedulers did not start"
            assert _wait_for(lambda: _leaders(app)), "no scheduler led within a minute"
            _fill_outbox(app, total)  # the leader's next tick (every 10 s) starts delivering
            assert _wait_for(lambda: len(standin.messages) >= 5), "the leader did not deliver"
            [(node, _)] = _leaders(app)
            dead = int(node.rsplit(":", 1)[1])
            procs[dead].send_signal(signal.SIGKILL)
            procs[dead].wait()
            killed_at = datetime.now(UTC)
            assert len(standin.messages) < total  # killed mid-run
            heir = _wait_for(lambda: [n for n, at in _leaders(app) if n != node and at > killed_at], timeout=30)
            assert heir, "no standby took over within 30 s of the kill"
            # every row ends sent, or failed as outcome-unknown once the claim of the dead leader is stale
            done = _wait_for(lambda: all(r.provider_id or r.status == NotificationStatus.failed
                                         for r in _notifications(app)), timeout=120)
            assert done, "notifications were left undelivered after the takeover"
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(60)
        rows = _notifications(app)
        bodies = Counter(m["body"] for m in standin.messages)
    assert [b for b, n in bodies.items() if n > 1] == []  # nothing sent twice
    assert len(rows) == total
    sent = [r for r in rows if r.provider_id]
    unknown = [r for r in rows if r.status == NotificationStatus.failed]
    # the one message in flight at the kill, if any, is reported as outcome-unknown, never resent
    assert len(unknown) <= 1 and len(sent) + len(unknown) == total
