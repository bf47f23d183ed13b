"""Twilio's webhooks: signed for the public URL or 403; unknown ids and numbers handled."""

from tests.reminders.conftest import PUBLIC_URL, notifications, signed_post, tick
from tests.reminders.test_outbox import AT, put

STATUS = "/api/v1/webhooks/twilio/status"
INBOUND = "/api/v1/webhooks/twilio/inbound"


def sent_one(app, twilio):
    put(app)
    tick(app, AT)
    return twilio.messages[0]["sid"]


def test_unsigned_forged_and_wrong_url_callbacks_are_refused(app, client, twilio):
    sid = sent_one(app, twilio)
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert client.post(STATUS, data=params).status_code == 403
    assert signed_post(client, STATUS, params, "another-token").status_code == 403
    # signed for the URL the app sees behind the proxy, not the public one
    assert signed_post(client, STATUS, params, twilio.auth_token, url_base="http://localhost").status_code == 403
    _, good, signature = twilio.signed_status_callback(sid, "delivered", url=PUBLIC_URL + STATUS)
    assert signed_post(client, STATUS, {**good, "MessageStatus": "failed"}, twilio.auth_token,
                       signature=signature).status_code == 403
    assert notifications(app)[0].status.value == "queued"  # nothing changed
    answer = client.post(STATUS, data=params)
    assert answer.get_json()["error"] == "bad_signature"


def test_unknown_message_ids_and_statuses_are_clear_errors(app, client, twilio):
    sid = sent_one(app, twilio)
    answer = signed_post(client, STATUS, {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"},
                         twilio.auth_token)
    assert answer.status_code == 404 and answer.get_json()["field"] == "MessageSid"
    answer = signed_post(client, STATUS, {"MessageSid": sid, "MessageStatus": "exploded"}, twilio.auth_token)
    assert answer.status_code == 422 and answer.get_json()["field"] == "MessageStatus"
    answer = signed_post(client, STATUS, {"MessageStatus": "sent"}, twilio.auth_token)
    assert answer.status_code == 422 and answer.get_json()["field"] == "MessageSid"


def test_statuses_never_move_backwards(app, client, twilio):
    sid = sent_one(app, twilio)
    for status in ("delivered", "sent", "queued"):
        assert signed_post(client, STATUS, {"MessageSid": sid, "MessageStatus": status},
                           twilio.auth_token).status_code == 200
    [row] = notifications(app)
    assert row.status.value == "delivered" and row.delivered_at is not None


def test_undelivered_is_recorded_with_the_error(app, client, twilio):
    sid = sent_one(app, twilio)
    signed_post(client, STATUS, {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"},
                twilio.auth_token)
    [row] = notifications(app)
    assert row.status.value == "undelivered" and "30003" in row.last_error


def test_auto_callbacks_from_the_standin_reach_the_app_over_http(app, standin):
    """The stand-in POSTs its own signed callbacks; a real server proves the signature check."""
    import threading

    from werkzeug.serving import make_server

    from ancillary.outbox import build_channels

    server = make_server("127.0.0.1", 0, app, threaded=True)
    base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    original = app.config["SETTINGS"]
    try:
        settings = original.with_overrides(
            sms_backend="twilio", twilio_account_sid=standin.account_sid, twilio_auth_token=standin.auth_token,
            twilio_from_number="+8653100000001", twilio_api_base=standin.base_url, public_url=base,
            sms_rate_per_second=1000.0)
        app.config["SETTINGS"] = settings
        app.config["CHANNELS"] = build_channels(settings)
        standin.auto_callbacks = ("sent", "delivered")
        put(app)
        tick(app, AT)
        import time

        deadline = time.monotonic() + 10
        while len(standin.callbacks) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [c.response_status for c in standin.callbacks] == [200, 200]
        assert notifications(app)[0].status.value == "delivered"
    finally:
        server.shutdown()
        thread.join()
        app.config["SETTINGS"] = original
        app.config["CHANNELS"] = None


def test_replies_from_unknown_numbers_change_nothing(app, client, staffed, twilio):
    for sender in ("+8613999999999", "not-a-number", ""):
        reply = signed_post(client, INBOUND, {"From": sender or "x", "Body": "OK"}, twilio.auth_token)
        assert reply.status_code == 200
        assert reply.data.strip().endswith(b"<Response />")
    assert client.post(INBOUND, data={"From": "+8613800000001", "Body": "OK"}).status_code == 403


def test_ok_with_a_code_acknowledges_exactly_that_reminder(app, client, staffed, twilio):
    from tests.reminders.conftest import PHONES, enforcement_case

    enforcement_case(staffed, n=401)
    tick(app, "2027-01-12T09:00:00+08:00")
    enforcement_case(staffed, n=402, filed_at="2027-01-04T09:10:00+08:00")
    # a second reminder for the same officer, a day later
    from datetime import datetime

    from ancillary.extensions import db
    from ancillary.outbox import enqueue

    with app.app_context():
        newer = enqueue(db.session, key="x", channel="sms", to_address=PHONES["enforcement_officer"], body="另一提醒",
                        kind="remind_now", now=datetime.fromisoformat("2027-01-12T10:00:00+08:00"),
                        recipient_id=staffed["enforcement_officer"].id, needs_ack=True, ack_code="9999",
                        settings=app.config["SETTINGS"])
        db.session.commit()
        newer_id = newer.id
    [first] = notifications(app, kind="action_digest")
    code = first.ack_code if first.ack_code != "9999" else None
    assert code
    reply = signed_post(client, INBOUND, {"From": PHONES["enforcement_officer"], "Body": f"OK {code}"},
                        twilio.auth_token)
    assert b"<Message>" in reply.data
    assert notifications(app, kind="action_digest")[0].acked_at is not None
    assert notifications(app, id=newer_id)[0].acked_at is None
    # nothing left to acknowledge with that code
    again = signed_post(client, INBOUND, {"From": PHONES["enforcement_officer"], "Body": f"OK {code}"},
                        twilio.auth_token)
    assert b"<Message>" in again.data and notifications(app, id=newer_id)[0].acked_at is None


def test_a_callback_that_outruns_the_sender_still_finds_its_message(app, client, twilio):
    """Twilio may report "delivered" before the sender has recorded the SID: the callback URL
    names our row, and the sender's later record does not move the status back."""
    from sqlalchemy import update

    from ancillary.extensions import db
    from ancillary.outbox import Notification

    sid = sent_one(app, twilio)
    [row] = notifications(app)
    with app.app_context():  # as if the sender had not yet written down what Twilio answered
        db.session.execute(update(Notification).values(provider_id=None))
        db.session.commit()
    path = f"{STATUS}?notification={row.id}"
    answer = signed_post(client, path, {"MessageSid": sid, "MessageStatus": "delivered"}, twilio.auth_token)
    assert answer.status_code == 200, answer.get_json()
    [row] = notifications(app)
    assert row.provider_id == sid and row.status.value == "delivered"
    # another message's row cannot be claimed by a stray SID
    other = signed_post(client, path, {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"},
                        twilio.auth_token)
    assert other.status_code == 404
    assert twilio.messages[0]["status_callback"].endswith(f"/api/v1/webhooks/twilio/status?notification={row.id}")
