"""Real sender processes against the stand-in: several at once on PostgreSQL (SKIP LOCKED),
one killed mid-run, then a restart — nothing lost, nothing sent twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import DB_KIND, QR_KEYS
from tests.reminders.conftest import FROM

ANCILLARY = str(Path(sys.executable).parent / "ancillary")


def _env(app, standin, tmp_path):
    settings = app.config["SETTINGS"]
    env = dict(os.environ)
    env.update({
        "ANCILLARY_DATABASE_URL": settings.database_url,
        "ANCILLARY_SECRET_KEY": "test-secret-key",
        "ANCILLARY_QR_KEYS": QR_KEYS,
        "ANCILLARY_INSTANCE_DIR": str(tmp_path),
        "ANCILLARY_SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": standin.account_sid,
        "TWILIO_AUTH_TOKEN": standin.auth_token,
        "TWILIO_FROM_NUMBER": FROM,
        "TWILIO_API_BASE": standin.base_url,
        "ANCILLARY_SMS_RATE": "1000",
        "ANCILLARY_SMS_TIMEOUT": "5",
    })
    return env


def _fill_outbox(app, count: int) -> None:
    from ancillary.extensions import db
    from ancillary.outbox import enqueue
    from ancillary.timeutil import utcnow

    now = utcnow() - timedelta(minutes=1)  # the processes read the real clock
    with app.app_context():
        for i in range(count):
            enqueue(db.session, key=f"bench:{i}", channel="sms", to_address=f"+86139{i:08d}", body=f"提醒 {i}",
                    kind="test", now=now, is_urgent=True, settings=app.config["SETTINGS"])  # urgent: whatever the hour, it may go now
        db.session.commit()


def _count_sent(app) -> int:
    from ancillary.extensions import db
    from ancillary.outbox import Notification

    with app.app_context():
        value = db.session.scalar(select(func.count()).where(Notification.provider_id.is_not(None)))
        db.session.remove()
        return value


def _wait_for(condition, timeout=90.0):  # a hang guard, generous: a loaded machine starts processes slowly
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _senders(env, n, tmp_path):
    return [subprocess.Popen([ANCILLARY, "send", "--until-idle"], env=env, stdout=subprocess.DEVNULL,
                             stderr=open(tmp_path / f"sender{i}.log", "wb")) for i in range(n)]


def _restart_and_check(app, standin, env, total):
    from ancillary.extensions import db
    from ancillary.outbox import Notification, NotificationStatus
    from ancillary.timeutil import utcnow

    # the restart: a tick past the claim timeout recovers what the dead sender held
    later = (utcnow() + timedelta(minutes=10)).isoformat()
    done = subprocess.run([ANCILLARY, "tick", "--at", later], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with app.app_context():
        rows = db.session.scalars(select(Notification)).all()
        db.session.expunge_all()
    assert len(rows) == total
    statuses = Counter(r.status for r in rows)
    assert statuses[NotificationStatus.pending] == 0  # nothing lost: every row reached an end
    unknown = [r for r in rows if r.status == NotificationStatus.failed]
    assert len(unknown) <= 1 and all("outcome unknown" in r.last_error for r in unknown)
    bodies = Counter(m["body"] for m in standin.messages)
    assert [b for b, n in bodies.items() if n > 1] == []  # nothing sent twice
    sids = {m["sid"] for m in standin.messages}
    assert {r.provider_id for r in rows if r.provider_id} <= sids
    assert len(standin.messages) - len([r for r in rows if r.provider_id]) in (0, len(unknown))
    return rows


@pytest.mark.skipif(DB_KIND != "postgresql", reason="several senders need PostgreSQL's SKIP LOCKED")
def test_four_senders_share_the_outbox_and_a_killed_one_loses_nothing(app, standin, tmp_path):
    total = 240
    _fill_outbox(app, total)
    standin.delay_next(total, seconds=0.01)
    env = _env(app, standin, tmp_path)
    procs = _senders(env, 4, tmp_path)
    try:
        assert _wait_for(lambda: len(standin.messages) >= 40)
        procs[0].kill()
        for proc in procs[1:]:
            proc.wait(timeout=180)
            assert proc.returncode == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    rows = _restart_and_check(app, standin, env, total)
    assert len([r for r in rows if r.provider_id]) >= total - 1


def test_a_killed_sender_restarts_without_sending_twice(app, standin, tmp_path):
    total = 60
    _fill_outbox(app, total)
    standin.delay_next(total, seconds=0.02)
    env = _env(app, standin, tmp_path)
    [proc] = _senders(env, 1, tmp_path)
    try:
        assert _wait_for(lambda: len(standin.messages) >= 10)
        proc.kill()
    finally:
        proc.wait()
    assert len(standin.messages) < total  # killed mid-run
    _restart_and_check(app, standin, env, total)
