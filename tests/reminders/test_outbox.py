"""The sender against the stand-in: retries on 429 (Retry-After honoured) and 5xx, gives up
after a bounded time, never resends when the outcome is unknown, honours STOP."""

from datetime import datetime, timedelta

from tests.reminders.conftest import notifications, signed_post, tick

AT = "2027-01-04T10:00:00+08:00"


def put(app, n=1, to="+8613800138000", **kw):
    from ancillary.extensions import db
    from ancillary.outbox import enqueue

    with app.app_context():
        for i in range(n):
            enqueue(db.session, key=f"t:{i}:{to}", channel=kw.pop("channel", "sms"), to_address=to, body=f"提醒 {i}",
                    kind="test", now=datetime.fromisoformat(AT), settings=app.config["SETTINGS"], **kw)
        db.session.commit()


def at(value, **delta):
    return (datetime.fromisoformat(value) + timedelta(**delta)).isoformat()


def test_http_429_waits_at_least_retry_after_then_sends(app, twilio):
    put(app)
    twilio.fail_next(1, status=429, retry_after=120)
    assert tick(app, AT)["deliver"] == {"retry": 1}
    [row] = notifications(app)
    assert row.status.value == "pending" and row.attempts == 1 and "429" in row.last_error
    assert row.not_before == datetime.fromisoformat(at(AT, seconds=120))
    assert tick(app, at(AT, seconds=119))["deliver"] == {}
    assert tick(app, at(AT, seconds=120))["deliver"] == {"sent": 1}
    [row] = notifications(app)
    assert row.status.value == "queued" and row.provider_id == twilio.messages[0]["sid"] and row.attempts == 2


def test_server_errors_back_off_and_give_up_after_the_bounded_time(app, twilio):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(sms_give_up_hours=0.05)  # 3 minutes
    put(app)
    twilio.fail_next(50, status=500)
    moment, outcomes = AT, []
    for _ in range(6):
        outcomes.append(tick(app, moment)["deliver"])
        moment = at(moment, minutes=1)
    assert outcomes[0] == {"retry": 1}
    assert {"failed": 1} in outcomes
    [row] = notifications(app)
    assert row.status.value == "failed" and "gave up" in row.last_error and twilio.messages == []


def test_an_invalid_number_fails_at_once(app, twilio):
    twilio.invalid_numbers.add("+8610000000000")
    put(app, to="+8610000000000")
    assert tick(app, AT)["deliver"] == {"failed": 1}
    assert "21211" in notifications(app)[0].last_error


def test_a_number_not_in_e164_fails_visibly_without_a_request(app, twilio):
    put(app, to="13800138000")
    assert tick(app, AT)["deliver"] == {"failed": 1}
    [row] = notifications(app)
    assert "E.164" in row.last_error and twilio.request_count == 0


def test_a_timeout_after_the_request_left_is_never_resent(app, twilio):
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(sms_timeout_seconds=1.0)
    from ancillary.outbox import build_channels

    app.config["CHANNELS"] = build_channels(app.config["SETTINGS"])
    put(app)
    twilio.delay_next(1, seconds=1.5)
    assert tick(app, AT)["deliver"] == {"unknown": 1}
    [row] = notifications(app)
    assert row.status.value == "failed" and "outcome unknown" in row.last_error
    assert tick(app, at(AT, hours=1))["deliver"] == {}


def test_a_sender_that_died_after_claiming_leaves_an_unknown_row_not_a_resend(app, twilio):
    from ancillary.extensions import db
    from ancillary.outbox import claim_one

    put(app)
    with app.app_context():
        assert claim_one(db.session, datetime.fromisoformat(AT), app.config["SETTINGS"]) is not None
    assert tick(app, at(AT, minutes=1))["deliver"] == {}  # claimed by the dead sender, not yet stale
    assert tick(app, at(AT, minutes=6))["deliver"] == {"unknown": 1}
    assert twilio.messages == [] and notifications(app)[0].status.value == "failed"


def test_e_mail_goes_through_smtp(app, tmp_path):
    from ancillary.outbox import build_channels
    from notifications.testing.smtp_standin import SmtpStandin

    with SmtpStandin() as smtp:
        settings = app.config["SETTINGS"].with_overrides(smtp_url=f"smtp://127.0.0.1:{smtp.port}")
        app.config["SETTINGS"] = settings
        app.config["CHANNELS"] = build_channels(settings)
        try:
            put(app, channel="email", to="judge@court.example.cn", subject="提醒")
            assert tick(app, AT)["deliver"] == {"sent": 1}
            [message] = smtp.messages
            assert "提醒 0" in message.message.get_content()
        finally:
            app.config["CHANNELS"] = None


def test_stop_is_honoured_for_contractor_staff_but_not_for_judges(app, client, staffed, twilio):
    inbound = "/api/v1/webhooks/twilio/inbound"
    manager, judge = "+8613800000005", "+8613800000001"
    reply = signed_post(client, inbound, {"From": manager, "Body": "STOP"}, twilio.auth_token)
    assert reply.status_code == 200 and b"<Message>" not in reply.data
    put(app, to=manager)
    assert tick(app, AT)["deliver"].get("failed") == 1
    assert "STOP" in notifications(app, to_address=manager)[-1].last_error

    refused = signed_post(client, inbound, {"From": judge, "Body": "stop"}, twilio.auth_token)
    assert b"<Message>" in refused.data  # told that duty reminders cannot be stopped
    put(app, to=judge)
    assert tick(app, at(AT, minutes=1))["deliver"] == {"sent": 1}

    signed_post(client, inbound, {"From": manager, "Body": "START"}, twilio.auth_token)
    from ancillary.extensions import db
    from ancillary.outbox import SmsOptOut

    with app.app_context():
        assert db.session.get(SmsOptOut, manager) is None
