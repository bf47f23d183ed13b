"""A sender that claims rows in batches (``ANCILLARY_SENDER_BATCH``) sends each due message
once, in the order a one-at-a-time sender would, and records each outcome on its own row."""

from datetime import datetime

from tests.reminders.conftest import notifications, tick
from tests.reminders.test_outbox import AT, at, put


def batched(app, size):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(sender_batch=size)


def test_a_batched_sender_sends_every_due_message_once_in_order(app, twilio):
    batched(app, 4)
    put(app, n=10)
    assert tick(app, AT)["deliver"] == {"sent": 10}
    assert [m["body"] for m in twilio.messages] == [f"提醒 {i}" for i in range(10)]
    rows = notifications(app)
    assert [row.provider_id for row in rows] == [m["sid"] for m in twilio.messages]
    assert {row.status.value for row in rows} == {"queued"} and {row.attempts for row in rows} == {1}
    assert tick(app, at(AT, minutes=5))["deliver"] == {}
    assert len(twilio.messages) == 10


def test_a_refusal_inside_a_batch_is_retried_alone_and_the_others_are_sent(app, twilio):
    batched(app, 5)
    put(app, n=3)
    put(app, n=1, to="13800138000")  # not E.164: fails without a request
    twilio.fail_next(1, status=500)
    assert tick(app, AT)["deliver"] == {"retry": 1, "sent": 2, "failed": 1}
    rows = {row.body + row.to_address: row for row in notifications(app)}
    first = rows["提醒 0+8613800138000"]
    assert first.status.value == "pending" and first.provider_id is None and "500" in first.last_error
    assert "E.164" in rows["提醒 013800138000"].last_error
    assert {rows[f"提醒 {i}+8613800138000"].status.value for i in (1, 2)} == {"queued"}
    assert tick(app, at(AT, minutes=5))["deliver"] == {"sent": 1}
    assert [m["body"] for m in twilio.messages] == ["提醒 1", "提醒 2", "提醒 0"]


def test_a_limited_run_takes_no_more_than_its_limit_from_a_batch(app, twilio):
    from ancillary.extensions import db
    from ancillary.outbox import channels_for, deliver_due

    batched(app, 4)
    put(app, n=6)
    with app.app_context():
        moment = datetime.fromisoformat(AT)
        assert deliver_due(db.session, moment, app.config["SETTINGS"], channels_for(app), limit=5) == {"sent": 5}
    assert len(twilio.messages) == 5
    assert [row.status.value for row in notifications(app)].count("pending") == 1
