"""A large first sweep on PostgreSQL writes its items with their foreign keys checked once
(``ancillary/foreign_keys.py``): the same rows as with per-row checks, a dangling reference
still refuses the whole sweep, a concurrent writer waits and then succeeds, a long reader
makes the sweep fall back to per-row checks instead of waiting. On SQLite the same tests
run the ordinary path and must give the same answers."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import IntegrityError

from ancillary import foreign_keys
from ancillary.audit.models import AuditEntry
from ancillary.config import Settings, SettingsError
from ancillary.outbox import Notification, NotificationItem
from ancillary.reminders import digests, staging
from ancillary.reminders.jobs import sweep_reminders
from ancillary.reminders.models import SweepMark
from tests.conftest import NOW
from tests.reminders.test_bulk_fold import load_cases, snapshot

ITEM_KEYS = 4  # recipient, case, message, escalated message


def item_keys(session) -> int:
    if session.get_bind().dialect.name != "postgresql":
        return ITEM_KEYS
    return session.scalar(text("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                               "AND conrelid = CAST('notification_items' AS regclass)"))


def counts(session) -> tuple[int, int, int, int]:
    return (session.scalar(select(func.count()).select_from(NotificationItem)),
            session.scalar(select(func.count()).select_from(Notification)),
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "reminder.queue")),
            session.scalar(select(func.count()).select_from(SweepMark)))


def forget(session) -> None:
    for model in (NotificationItem, Notification, SweepMark):
        session.query(model).delete()
    session.query(AuditEntry).filter(AuditEntry.action == "reminder.queue").delete()
    session.commit()


@pytest.fixture
def spy(monkeypatch):
    """Records what ``write_checked_once`` answered: True when the keys were checked once."""
    answers = []
    original = foreign_keys.write_checked_once

    def recording(*args, **kwargs):
        answers.append(original(*args, **kwargs))
        return answers[-1]

    monkeypatch.setattr(foreign_keys, "write_checked_once", recording)
    monkeypatch.setattr(digests, "new_ack_code", lambda: "4821")
    # a connection of an earlier test may still be closing: wait for it rather than fall back
    monkeypatch.setattr(foreign_keys, "LOCK_TIMEOUT", "60s")
    return answers


def test_keys_checked_once_give_the_same_rows_as_per_row_checks(app, staffed, db_session, spy):
    load_cases(app, staffed)
    settings = app.config["SETTINGS"]
    sweep_reminders(db_session, NOW, settings.with_overrides(sweep_bulk_check_rows=0))
    db_session.commit()
    expected = snapshot(db_session)
    forget(db_session)
    first = sweep_reminders(db_session, NOW, settings.with_overrides(sweep_bulk_check_rows=1))
    db_session.commit()
    assert spy == ([True] if db_session.get_bind().dialect.name == "postgresql" else [])
    assert snapshot(db_session) == expected and first["items"] == len(expected["items"])
    assert item_keys(db_session) == ITEM_KEYS
    # idempotent: run again, nothing new
    assert sweep_reminders(db_session, NOW, settings.with_overrides(sweep_bulk_check_rows=1)) == {}
    assert sweep_reminders(db_session, NOW + timedelta(minutes=5), settings.with_overrides(sweep_bulk_check_rows=1)) == {}
    db_session.commit()
    assert snapshot(db_session) == expected


def test_a_dangling_reference_refuses_the_whole_sweep(app, staffed, db_session, spy, monkeypatch):
    load_cases(app, staffed)
    original = staging.collect

    def with_a_stray(*args):
        fresh = original(*args)
        stray = fresh[0]._replace(key="stray", case_id=987_654, object_id=987_654)
        return [*fresh, stray]

    monkeypatch.setattr(staging, "collect", with_a_stray)
    settings = app.config["SETTINGS"].with_overrides(sweep_bulk_check_rows=1)
    with pytest.raises(IntegrityError):
        sweep_reminders(db_session, NOW, settings)
    db_session.rollback()
    assert counts(db_session) == (0, 0, 0, 0)
    assert item_keys(db_session) == ITEM_KEYS


def test_a_concurrent_writer_waits_for_the_sweep_and_then_succeeds(app, staffed, db_session, spy, monkeypatch):
    from ancillary.extensions import db

    load_cases(app, staffed)
    settings = app.config["SETTINGS"].with_overrides(sweep_bulk_check_rows=1)
    inside, release, writer_started, writer_done = (threading.Event() for _ in range(4))
    original = staging._write_linked
    failures = []

    def pausing(*args):
        original(*args)
        inside.set()  # the items are written; on PostgreSQL the keys are still dropped
        release.wait(60)

    monkeypatch.setattr(staging, "_write_linked", pausing)

    def sweeper():
        with app.app_context():
            try:
                sweep_reminders(db.session, NOW, settings)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
                release.set()

    def writer():
        with app.app_context():
            writer_started.set()
            db.session.add(NotificationItem(key="written-beside", rule="deadline", digest="action",
                                            recipient_id=staffed["judge"].id, case_id=10_000, created_at=NOW))
            db.session.commit()
            writer_done.set()

    threads = [threading.Thread(target=sweeper)]
    threads[0].start()
    assert inside.wait(60)
    threads.append(threading.Thread(target=writer))
    threads[1].start()
    assert writer_started.wait(60)
    if db_session.get_bind().dialect.name == "postgresql":
        wait_for_a_lock_wait(db_session)
    assert not writer_done.is_set()  # it waits for the sweep
    release.set()
    for thread in threads:
        thread.join(120)
    assert not failures and writer_done.is_set()
    assert spy == ([True] if db_session.get_bind().dialect.name == "postgresql" else [])
    db_session.rollback()
    items, messages, audit, marks = counts(db_session)
    assert messages >= 6 and marks == 1 and audit >= items - 1 > 2 * 90
    assert db_session.scalar(select(NotificationItem.id).where(NotificationItem.key == "written-beside"))
    assert item_keys(db_session) == ITEM_KEYS


def wait_for_a_lock_wait(session) -> None:
    """Until another backend of this database waits for a lock (it must, while the sweep holds them)."""
    engine = create_engine(session.get_bind().url)
    try:
        for _ in range(600):
            with engine.connect() as conn:
                if conn.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                    "AND wait_event_type = 'Lock'")):
                    return
            threading.Event().wait(0.1)
        raise AssertionError("the writer never waited for the sweep's locks")
    finally:
        engine.dispose()


def test_a_long_reader_makes_the_sweep_check_keys_row_by_row(app, staffed, db_session, spy, monkeypatch):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite checks keys row by row always")
    load_cases(app, staffed)
    monkeypatch.setattr(foreign_keys, "LOCK_TIMEOUT", "200ms")
    engine = create_engine(db_session.get_bind().url)
    try:
        with engine.connect() as reader:
            reader.execute(text("SELECT count(*) FROM users"))  # holds users until it ends
            first = sweep_reminders(db_session, NOW, app.config["SETTINGS"].with_overrides(sweep_bulk_check_rows=1))
            db_session.commit()
            reader.rollback()
    finally:
        engine.dispose()
    assert spy == [False] and first["items"] > 2 * 90
    assert counts(db_session)[0] == first["items"] and item_keys(db_session) == ITEM_KEYS


def test_the_threshold_is_a_setting_and_a_negative_one_is_refused():
    assert Settings.from_env({"ANCILLARY_SWEEP_BULK_CHECK_ROWS": "0"}).sweep_bulk_check_rows == 0
    with pytest.raises(SettingsError, match="ANCILLARY_SWEEP_BULK_CHECK_ROWS"):
        Settings.from_env({"ANCILLARY_SWEEP_BULK_CHECK_ROWS": "-1"})
