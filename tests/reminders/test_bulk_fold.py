"""The bulk fold writes exactly the rows the one-message-at-a-time fold writes: the same
messages (keys, recipients, texts, quiet-hour release times), the same items linked to
them, the same audit entries; and a first sweep run twice stages and sends once."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from ancillary.audit.models import AuditEntry
from ancillary.cases.models import Case
from ancillary.outbox import Notification, NotificationItem
from ancillary.reminders import digests, rules
from ancillary.reminders.jobs import sweep_reminders
from ancillary.reminders.models import EnforcementRecord
from ancillary.timeutil import period_end_months
from tests.conftest import NOW

CASES = 90  # 30 per officer: several messages of 12 lines each per recipient and digest


def load_cases(app, court):
    """Open cases whose deadline warnings and property-search nodes fall due at NOW."""
    from ancillary.extensions import db

    tz = app.config["SETTINGS"].timezone
    officers = [court["enforcement_officer"].id, court["judge"].id, court.other_judges[0].id]
    with app.app_context():
        rows, records = [], []
        for n in range(CASES):
            kind = "enforcement" if n % 2 else "speedy"
            filed = NOW - timedelta(days=8 if kind == "enforcement" else 20, hours=n % 7)
            rows.append({"id": 10_000 + n, "number": f"(2026)鲁1002执{n}号", "kind": kind, "venue": "main",
                         "filed_at": filed, "judge_id": officers[n % 3], "volumes": 1, "status": "open",
                         "mediation_likely": False, "deadline_at": period_end_months(filed, 1, tz),
                         "created_by_id": court["court_admin"].id, "created_at": filed})
            if kind == "enforcement":
                records.append({"case_id": 10_000 + n, "updated_at": NOW})
        db.session.execute(insert(Case), rows)
        db.session.execute(insert(EnforcementRecord), records)
        db.session.commit()


def stage_all(session, now, settings):
    lookback = now - timedelta(days=settings.sweep_lookback_days)
    posts = rules.follow_up_posts_by_officer(session)
    staged = rules.stage(session, rules.case_nodes(session, settings, lookback, now), now, settings, posts)
    return staged + rules.stage(session, rules.deadline_warnings(session, now, settings), now, settings, posts)


def snapshot(session) -> dict:
    """Every row a fold writes, with ids replaced by keys and random ack codes blanked."""
    key_of = dict(session.execute(select(Notification.id, Notification.idempotency_key)).all())
    messages = sorted(
        (n.idempotency_key, n.recipient_id, n.channel, n.to_address, n.kind, n.subject,
         n.body.replace(n.ack_code, "####") if n.ack_code else n.body, n.case_id, n.needs_ack, n.ack_code is None,
         n.status, n.not_before, n.created_at, n.attempts, n.escalation_level, n.object_type, n.object_id, n.is_urgent)
        for n in session.scalars(select(Notification)))
    items = {key: key_of.get(nid) for key, nid in session.execute(select(NotificationItem.key,
                                                                         NotificationItem.notification_id))}
    audit = sorted(
        (a.action, a.object_type, key_of[a.object_id], a.case_id, a.actor_id,
         sorted({**a.after, "notification_id": key_of[a.after["notification_id"]]}.items()))
        for a in session.scalars(select(AuditEntry).where(AuditEntry.action == "reminder.queue")))
    return {"messages": messages, "items": items, "audit": audit}


def unfold(session):
    session.execute(update(NotificationItem).values(notification_id=None))
    session.execute(delete(AuditEntry).where(AuditEntry.action == "reminder.queue"))
    session.execute(delete(Notification))
    session.flush()


@pytest.mark.parametrize("local_time", ["09:30", "22:15"])  # the second falls in the quiet hours
def test_the_bulk_fold_writes_the_same_rows_as_the_one_row_fold(app, staffed, db_session, local_time, monkeypatch):
    monkeypatch.setattr(digests, "new_ack_code", lambda: "4821")  # random codes could match digits of a text
    load_cases(app, staffed)
    settings = app.config["SETTINGS"]
    now = datetime.fromisoformat(f"2027-01-04T{local_time}:00+08:00")
    assert stage_all(db_session, now, settings) > 2 * CASES
    digest_kinds = [rules.ACTION, rules.FOLLOW_UP, rules.INFO, rules.HEARING]
    one_by_one = digests.fold(db_session, now, settings, digest_kinds, bulk=False)
    expected = snapshot(db_session)
    unfold(db_session)
    assert digests.fold(db_session, now, settings, digest_kinds, bulk=True) == one_by_one
    got = snapshot(db_session)
    assert one_by_one >= 6 and len(got["messages"]) == one_by_one
    assert all(got["items"].values())  # every staged item is in a message
    assert got == expected
    db_session.rollback()


def test_a_first_sweep_run_twice_stages_and_sends_once(app, staffed, db_session):
    load_cases(app, staffed)
    settings = app.config["SETTINGS"]
    first = sweep_reminders(db_session, NOW, settings)
    db_session.commit()
    assert first["items"] > 2 * CASES and first["messages"] >= 6
    assert sweep_reminders(db_session, NOW, settings) == {}
    db_session.commit()
    counted = db_session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    assert db_session.query(Notification).count() == first["messages"] and counted
    unlinked = db_session.scalars(select(NotificationItem.id).where(NotificationItem.notification_id.is_(None))).all()
    assert unlinked == []
