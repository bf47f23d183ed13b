"""The reminder sweep's mark: a routine tick reads only what is new, and stages exactly what
full sweeps would; the sweep's in-memory fold writes the rows staging and the one-row fold write."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from ancillary.audit.models import AuditEntry
from ancillary.auth.models import User
from ancillary.cases.models import Case
from ancillary.outbox import Notification, NotificationItem
from ancillary.reminders import digests, marks, rules
from ancillary.reminders.jobs import DIGESTS, sweep_reminders
from ancillary.reminders.models import EnforcementRecord, SweepMark
from ancillary.reminders.services import record_enforcement_nodes
from ancillary.timeutil import period_end_months
from tests.conftest import NOW
from tests.reminders.conftest import tick
from tests.reminders.test_bulk_fold import CASES, load_cases, snapshot

DAY = timedelta(days=1)


def stage_and_fold_one_by_one(session, now, settings):
    """The sweep as it was: every rule over the whole lookback staged, then folded a message at a time."""
    lookback = now - timedelta(days=settings.sweep_lookback_days)
    posts = rules.follow_up_posts_by_officer(session)
    for nodes in (rules.case_nodes(session, settings, lookback, now), rules.deadline_warnings(session, now, settings),
                  rules.task_nodes(session, settings, lookback, now), rules.hearing_digest_nodes(session, now, settings)):
        rules.stage(session, nodes, now, settings, posts)
    return digests.fold(session, now, settings, DIGESTS, bulk=False)


@pytest.mark.parametrize("local_time", ["09:30", "22:15"])  # the second falls in the quiet hours
def test_the_sweep_writes_what_staging_and_the_one_row_fold_write(app, staffed, db_session, local_time, monkeypatch):
    monkeypatch.setattr(digests, "new_ack_code", lambda: "4821")  # random codes could match digits of a text
    load_cases(app, staffed)
    settings = app.config["SETTINGS"]
    now = datetime.fromisoformat(f"2027-01-04T{local_time}:00+08:00")
    made = sweep_reminders(db_session, now, settings)
    got = snapshot(db_session)
    db_session.rollback()
    assert stage_and_fold_one_by_one(db_session, now, settings) == made["messages"] >= 6
    expected = snapshot(db_session)
    db_session.rollback()
    assert made["items"] == len(expected["items"]) > 2 * CASES
    assert all(got["items"].values())  # every item written is in a message
    assert got == expected


def forget(session):
    """Back to before any sweep: no items, messages, their audit entries or mark."""
    session.execute(delete(NotificationItem))
    session.execute(delete(AuditEntry).where(AuditEntry.action.startswith("reminder.")))
    session.execute(delete(Notification))
    session.execute(delete(SweepMark))
    session.execute(update(EnforcementRecord).values(fully_seized_at=None))
    session.commit()


OLD_CASE = 20_000


def load_old_case(app, court):
    """An enforcement case filed 45 days ago: nothing of it is due until a seizure is recorded."""
    filed = NOW - 45 * DAY
    with app.app_context():
        from ancillary.extensions import db

        db.session.execute(insert(Case), [{
            "id": OLD_CASE, "number": "(2026)鲁1002执恢1号", "kind": "enforcement", "venue": "main", "filed_at": filed,
            "judge_id": court["enforcement_officer"].id, "volumes": 1, "status": "open", "mediation_likely": False,
            "deadline_at": period_end_months(filed, 6, app.config["SETTINGS"].timezone),
            "created_by_id": court["court_admin"].id, "created_at": filed}])
        db.session.execute(insert(EnforcementRecord), [{"case_id": OLD_CASE, "updated_at": filed,
                                                        "property_search_started_at": filed + DAY}])
        db.session.commit()


def run(app, staffed, session, days, *, full=False):
    """Sweep at NOW + each of ``days``; after the first, the officer records a seizure 44 days back
    (its reminder fell due 14 days ago: only the change makes it due, not the clock)."""
    settings = app.config["SETTINGS"]
    forget(session)
    for index, day in enumerate(days):
        if full:
            session.execute(delete(SweepMark))
        sweep_reminders(session, NOW + day * DAY, settings)
        session.commit()
        if index == 0:
            record_enforcement_nodes(session, session.get(Case, OLD_CASE), {"fully_seized_at": NOW - 44 * DAY},
                                     actor=session.get(User, staffed["enforcement_officer"].id),
                                     now=NOW + timedelta(hours=6))
            session.commit()
    return set(session.scalars(select(NotificationItem.key)))


def test_a_tick_after_skipped_days_stages_what_daily_ticks_stage(app, staffed, db_session):
    load_cases(app, staffed)
    load_old_case(app, staffed)
    daily = run(app, staffed, db_session, [0, 3, 4])  # day 4: the speedy deadlines' 7-day warnings
    skipped = run(app, staffed, db_session, [0, 4])
    full = run(app, staffed, db_session, [0, 3, 4], full=True)
    assert daily == skipped == full
    assert any(key.startswith("seized_not_closed:") for key in daily)  # the change after the first tick
    assert {key.split(":")[3] for key in daily if key.startswith("deadline:")} >= {"d7", "d15"}


def test_a_routine_tick_reads_only_what_is_new(app, staffed, db_session):
    load_cases(app, staffed)
    settings = app.config["SETTINGS"]
    sweep_reminders(db_session, NOW, settings)
    db_session.commit()
    scope = marks.scope(db_session, NOW + timedelta(minutes=5), settings, rules.follow_up_posts_by_officer(db_session))
    assert scope.since == NOW - marks.OVERLAP and scope.changed == []  # the sweep's own audit entries aside
    assert sweep_reminders(db_session, NOW + timedelta(minutes=5), settings) == {}
    db_session.commit()
    assert db_session.get(SweepMark, marks.SWEEP).swept_to == NOW + timedelta(minutes=5)


def test_running_twice_for_one_instant_stages_and_sends_once(app, staffed, db_session):
    load_cases(app, staffed)
    first = tick(app, (NOW + DAY).isoformat(), only=["sweep_reminders"], deliver=False)["sweep_reminders"]
    again = tick(app, (NOW + DAY).isoformat(), only=["sweep_reminders"], deliver=False)["sweep_reminders"]
    assert first["messages"] >= 6 and again == {}
    assert db_session.scalar(select(SweepMark.swept_to)) == NOW + DAY
    assert len(db_session.scalars(select(Notification.id)).all()) == first["messages"]


def test_a_sweep_that_fails_half_way_leaves_the_mark_and_the_rerun_completes_it(app, staffed, db_session,
                                                                               monkeypatch):
    load_cases(app, staffed)
    load_old_case(app, staffed)
    reference = run(app, staffed, db_session, [0, 4])
    forget(db_session)
    tick(app, NOW.isoformat(), only=["sweep_reminders"], deliver=False)
    before = state(db_session)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away half-way")

    monkeypatch.setattr(digests, "audit_steps", broken)  # after the messages and items are written
    later = (NOW + 4 * DAY).isoformat()  # the speedy deadlines reach their 7-day warnings
    assert tick(app, later, only=["sweep_reminders"], deliver=False)["sweep_reminders"] == {
        "error": "failed; see the log"}
    assert state(db_session) == before
    monkeypatch.undo()
    assert tick(app, later, only=["sweep_reminders"], deliver=False)["sweep_reminders"]["messages"] > 0
    mark, keys, _ = state(db_session)
    assert mark == NOW + 4 * DAY
    assert keys == reference - {key for key in reference if key.startswith("seized_not_closed:")}


def state(session):
    """The mark, the staged keys and the messages' keys (read, then let go of the database)."""
    found = (session.scalar(select(SweepMark.swept_to)), set(session.scalars(select(NotificationItem.key))),
             set(session.scalars(select(Notification.idempotency_key))))
    session.rollback()
    return found
