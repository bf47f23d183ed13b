"""Rules as functions of (database, instant); settings refused at start-up; the scheduler."""

import subprocess
import sys
import time as clock_time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ancillary.config import Settings, SettingsError
from tests.conftest import QR_KEYS
from tests.reminders.conftest import PHONES, notifications, tick


def test_deadline_warnings_fire_once_per_threshold(app, staffed, twilio):
    case = staffed.file_case(filed_at="2026-10-20T09:00:00+08:00")  # summary: deadline 2027-01-20
    tick(app, "2027-01-04T10:00:00+08:00")
    [first] = notifications(app, kind="action_digest")
    assert case["number"] in first.body and "2027-01-20" in first.body and "16" in first.body
    tick(app, "2027-01-04T16:00:00+08:00")
    tick(app, "2027-01-05T10:00:00+08:00")  # 15 days left: the 15-day warning
    tick(app, "2027-01-05T16:00:00+08:00")
    assert len(notifications(app, kind="action_digest")) == 2
    tick(app, "2027-01-19T10:00:00+08:00")  # the system was off for two weeks: only the 1-day warning
    assert len(notifications(app, kind="action_digest")) == 3


def test_one_digest_per_recipient_per_sweep(app, staffed, twilio):
    for _ in range(3):
        staffed.file_case(filed_at="2026-10-20T09:00:00+08:00")
    tick(app, "2027-01-04T10:00:00+08:00")
    judge = [m for m in twilio.messages if m["to"] == PHONES["judge"]]
    assert len(judge) == 1 and judge[0]["body"].count("民初") == 3


@pytest.fixture
def hearings(app, staffed):
    """Hearings stored as the scheduling context keeps them (past ones too, which no booking allows)."""
    return app


def _hearing(app, case, starts, minutes=60, judge=None):
    from sqlalchemy import select

    from ancillary.extensions import db
    from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus

    start = datetime.fromisoformat(starts)
    with app.app_context():
        room = db.session.scalar(select(Courtroom).where(Courtroom.venue == "main"))
        db.session.add(Hearing(case_id=case["id"], courtroom_id=room.id, judge_id=judge or case["judge_id"],
                               starts_at=start, ends_at=start + timedelta(minutes=minutes), lane=0,
                               status=HearingStatus.booked, sequence=0, created_at=start, updated_at=start))
        db.session.commit()


def test_tomorrows_hearings_go_out_at_18_as_one_digest(app, staffed, twilio, hearings):
    a, b = staffed.file_case(), staffed.file_case()
    _hearing(hearings, a, "2027-01-05T09:00:00+08:00")
    _hearing(hearings, b, "2027-01-05T14:30:00+08:00")
    tick(app, "2027-01-04T17:55:00+08:00")
    assert notifications(app, kind="hearing_digest") == []
    tick(app, "2027-01-04T18:00:00+08:00")
    tick(app, "2027-01-04T18:05:00+08:00")
    [digest] = notifications(app, kind="hearing_digest")
    assert a["number"] in digest.body and b["number"] in digest.body and "09:00" in digest.body
    assert not digest.needs_ack and digest.status.value == "queued"


def test_heard_but_not_closed_reaches_the_judge_and_the_post(app, staffed, twilio, hearings):
    case = staffed.file_case()
    _hearing(hearings, case, "2027-01-05T09:00:00+08:00")
    tick(app, "2027-01-20T09:00:00+08:00")  # 15 days run to the end of the 20th
    assert [n for n in notifications(app, kind="action_digest") if "2027-01-05" in n.body] == []
    tick(app, "2027-01-21T09:00:00+08:00")
    judge = [n for n in notifications(app, kind="action_digest") if "2027-01-05" in n.body]
    post = [n for n in notifications(app, kind="follow_up_digest") if "2027-01-05" in n.body]
    assert len(judge) == 1 and len(post) == 1 and case["number"] in post[0].body


def test_a_cancelled_hearing_is_neither_announced_nor_counted_as_held(app, staffed, twilio, hearings):
    from sqlalchemy import update

    from ancillary.extensions import db
    from ancillary.scheduling.models import Hearing, HearingStatus

    case = staffed.file_case()
    _hearing(hearings, case, "2027-01-05T09:00:00+08:00")
    with app.app_context():
        db.session.execute(update(Hearing).values(status=HearingStatus.cancelled))
        db.session.commit()
    tick(app, "2027-01-04T18:00:00+08:00")
    tick(app, "2027-01-21T09:00:00+08:00")
    assert notifications(app, kind="hearing_digest") == []
    assert [n for n in notifications(app) if "2027-01-05" in n.body] == []


def test_archive_deadlines_reach_the_archivist_and_the_manager(app, staffed, twilio):
    case = staffed.file_case()
    app.config["CLOCK"].set("2027-01-04T10:00:00+08:00")
    staffed["judge"].post(f"/api/v1/cases/{case['id']}/close", json={"closed_at": "2027-01-04T10:00:00+08:00",
                                                                     "outcome": "调解结案"})
    tick(app, "2027-01-31T11:00:00+08:00")  # archive due 2027-02-03, warned 3 days before
    archivist = [n for n in notifications(app) if n.recipient_id == staffed["archivist"].id]
    assert len(archivist) == 1 and case["number"] in archivist[0].body


def test_catching_up_after_an_hour_down_sends_each_reminder_once(app, staffed, twilio):
    for _n in range(3):
        staffed.file_case(filed_at="2026-10-20T09:00:00+08:00")
    tick(app, "2027-01-04T11:00:00+08:00")  # the scheduler comes back after missing 10:00-11:00
    sent = len(twilio.messages)
    for minute in range(0, 60, 5):  # the missed ticks, replayed late, add nothing
        tick(app, f"2027-01-04T10:{minute:02d}:00+08:00")
    assert len(twilio.messages) == sent


def test_the_scheduler_coalesces_missed_runs_into_one(app, tmp_path, monkeypatch):
    from ancillary.jobs import MISFIRE_GRACE_SECONDS
    from ancillary.leader import SchedulerProcess

    marker = tmp_path / "runs"
    monkeypatch.setenv("REMINDER_PROBE_FILE", str(marker))
    from tests.reminders import probe

    scheduler = SchedulerProcess(app, first_tick_delay=600).ticker(func=probe.record_run)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("tick")
        assert job.coalesce and job.misfire_grace_time == MISFIRE_GRACE_SECONDS
        scheduler.modify_job("tick", next_run_time=datetime.now(UTC) - timedelta(hours=1))
        scheduler.resume()
        deadline = clock_time.monotonic() + 5
        while not marker.exists() and clock_time.monotonic() < deadline:
            clock_time.sleep(0.05)
        clock_time.sleep(0.3)
    finally:
        scheduler.shutdown(wait=True)
    assert marker.read_text().count("run") == 1  # twelve missed 5-minute runs: one catch-up run


@pytest.mark.parametrize("env, message", [
    ({"ANCILLARY_ESCALATION_HOURS": "0"}, "ANCILLARY_ESCALATION_HOURS"),
    ({"ANCILLARY_DIGEST_TIME": "23:00"}, "quiet hours"),
    ({"ANCILLARY_QUIET_HOURS": "19:00-12:00"}, "14 hours"),
    ({"ANCILLARY_DEADLINE_WARNINGS": "30,30"}, "distinct"),
    ({"ANCILLARY_DEADLINE_WARNINGS": "-1"}, "ANCILLARY_DEADLINE_WARNINGS"),
    ({"ANCILLARY_HEARD_NOT_CLOSED_DAYS": "many"}, "whole number"),
    ({"ANCILLARY_SMS_RATE": "0"}, "ANCILLARY_SMS_RATE"),
    ({"ANCILLARY_SMTP_URL": "http://mail"}, "ANCILLARY_SMTP_URL"),
    ({"ANCILLARY_SMS_TIMEOUT": "100", "ANCILLARY_CLAIM_TIMEOUT": "60"}, "ANCILLARY_CLAIM_TIMEOUT"),
    ({"ANCILLARY_SENDER_BATCH": "0"}, "ANCILLARY_SENDER_BATCH"),
    ({"ANCILLARY_SENDER_BATCH": "50"}, "ANCILLARY_CLAIM_TIMEOUT"),  # 50 sends of 10 s each outlive a 300 s claim
])
def test_absurd_settings_refuse_to_start(env, message):
    base = {"ANCILLARY_SECRET_KEY": "x", "ANCILLARY_QR_KEYS": QR_KEYS}
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**base, **env})


def test_the_command_line_refuses_to_start_with_a_clear_message(tmp_path):
    import os

    env = {**os.environ, "ANCILLARY_SECRET_KEY": "x", "ANCILLARY_QR_KEYS": QR_KEYS,
           "ANCILLARY_DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", "ANCILLARY_INSTANCE_DIR": str(tmp_path),
           "ANCILLARY_ESCALATION_HOURS": "9999"}
    done = subprocess.run([str(Path(sys.executable).parent / "ancillary"), "tick", "--at", "2027-01-04T08:00:00+08:00"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "ANCILLARY_ESCALATION_HOURS" in done.stderr


def test_tick_command_prints_what_it_did(app, staffed, monkeypatch):
    from ancillary.outbox import Channels
    from notifications.channels import FakeSms

    fake = FakeSms()
    app.config["CHANNELS"] = Channels(sms=fake)
    try:
        staffed.file_case(filed_at="2026-10-20T09:00:00+08:00")
        result = app.test_cli_runner().invoke(args=["tick", "--at", "2027-01-04T10:00:00+08:00"])
        assert result.exit_code == 0, result.output
        assert "sweep_reminders: items=" in result.output and "deliver: sent=" in result.output
        assert fake.sent
        bad = app.test_cli_runner().invoke(args=["tick", "--at", "2027-01-04T10:00:00"])
        assert bad.exit_code == 1
    finally:
        app.config["CHANNELS"] = None
