"""The core story, end to end: a rule fires, the outbox delivers through the real twilio
SDK to the stand-in, Twilio's status callback and the judge's "OK" reply come back
signed, and an unanswered reminder escalates to the management office, then the president."""

from sqlalchemy import select

from tests.reminders.conftest import (
    PHONES,
    PRESIDENT_PHONE,
    PUBLIC_URL,
    enforcement_case,
    notifications,
    signed_post,
    tick,
)

STATUS = "/api/v1/webhooks/twilio/status"
INBOUND = "/api/v1/webhooks/twilio/inbound"


def to(standin, role):
    return [m for m in standin.messages if m["to"] == PHONES[role]]


def history(app, case_id):
    from ancillary.audit.models import AuditEntry
    from ancillary.extensions import db

    with app.app_context():
        return [a for (a,) in db.session.execute(
            select(AuditEntry.action).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id))]


def test_reminder_reaches_the_officer_and_the_post_and_ok_closes_the_loop(app, client, staffed, twilio):
    case = enforcement_case(staffed, n=301)  # filed Monday 2027-01-04 09:00; property search due by the 11th

    tick(app, "2027-01-11T09:00:00+08:00")  # not due yet (the manager hears of the late scheduling task)
    assert not to(twilio, "enforcement_officer") and len(to(twilio, "contractor_manager")) == 1
    twilio.reset()
    outcome = tick(app, "2027-01-12T09:00:00+08:00")
    assert outcome["sweep_reminders"] == {"items": 2, "messages": 2}
    assert outcome["deliver"] == {"sent": 2}

    sent = {m["to"]: m for m in twilio.messages}
    officer_sms = sent[PHONES["enforcement_officer"]]
    assert case["number"] in officer_sms["body"]
    assert "OK" in officer_sms["body"]
    assert case["number"] in sent[PHONES["follow_up"]]["body"]
    [reminder] = notifications(app, kind="action_digest")
    assert officer_sms["status_callback"] == f"{PUBLIC_URL}{STATUS}?notification={reminder.id}"
    assert reminder.status.value == "queued" and reminder.provider_id == officer_sms["sid"]
    assert reminder.ack_code in officer_sms["body"]

    # Twilio reports delivery, signed for the public URL
    callback = officer_sms["status_callback"]
    _, params, signature = twilio.signed_status_callback(officer_sms["sid"], "delivered", url=callback)
    answer = signed_post(client, callback[len(PUBLIC_URL):], params, twilio.auth_token, signature=signature)
    assert answer.status_code == 200, answer.get_json()
    assert notifications(app, kind="action_digest")[0].status.value == "delivered"

    # the officer answers "OK" by SMS
    reply = signed_post(client, INBOUND, {"From": PHONES["enforcement_officer"], "Body": " ok ", "MessageSid": "SMx"},
                        twilio.auth_token)
    assert reply.status_code == 200
    assert b"<Message>" in reply.data and case["number"].encode() in reply.data
    [acked] = notifications(app, kind="action_digest")
    assert acked.acked_at is not None and acked.resolved_at is not None

    # a day later nothing escalates, and the same rule does not fire twice
    outcome = tick(app, "2027-01-13T10:00:00+08:00")
    assert outcome["sweep_escalations"] == {} and outcome["sweep_reminders"] == {}
    assert len(twilio.messages) == 2

    steps = history(app, case["id"])
    for step in ("reminder.queue", "reminder.sent", "reminder.delivery", "reminder.ack"):
        assert step in steps


def test_unanswered_reminder_escalates_to_the_office_then_the_president(app, client, staffed, twilio):
    case = enforcement_case(staffed, n=302)
    tick(app, "2027-01-12T09:00:00+08:00")
    assert len(to(twilio, "enforcement_officer")) == 1 and len(to(twilio, "follow_up")) == 1

    assert tick(app, "2027-01-13T08:59:00+08:00")["sweep_escalations"] == {}  # 23 h 59 min
    outcome = tick(app, "2027-01-13T09:00:00+08:00")
    assert outcome["sweep_escalations"] == {"escalated": 1, "resolved": 0, "messages": 1}
    office = [m for m in twilio.messages if m["to"] == PHONES["court_admin"]]
    assert len(office) == 1 and case["number"] in office[0]["body"]
    assert not [m for m in twilio.messages if m["to"] == PRESIDENT_PHONE]

    outcome = tick(app, "2027-01-14T09:00:00+08:00")
    assert outcome["sweep_escalations"]["escalated"] == 1
    president = [m for m in twilio.messages if m["to"] == PRESIDENT_PHONE]
    assert len(president) == 1 and case["number"] in president[0]["body"]

    # nothing further: the president is the last step
    tick(app, "2027-01-16T09:00:00+08:00")
    assert len([m for m in twilio.messages if m["to"] == PRESIDENT_PHONE]) == 1
    assert history(app, case["id"]).count("reminder.escalate") == 2
    [root] = notifications(app, kind="action_digest")
    assert root.escalation_level == 2 and root.resolved_at is None


def test_the_office_acknowledging_an_escalation_stops_the_climb(app, client, staffed, twilio):
    enforcement_case(staffed, n=303)
    tick(app, "2027-01-12T09:00:00+08:00")
    tick(app, "2027-01-13T09:00:00+08:00")
    [escalation] = notifications(app, kind="escalation")
    answer = staffed["court_admin"].post(f"/api/v1/notifications/{escalation.id}/ack")
    assert answer.status_code == 200 and answer.get_json()["acked_at"]
    tick(app, "2027-01-14T09:00:00+08:00")
    assert not [m for m in twilio.messages if m["to"] == PRESIDENT_PHONE]
    assert notifications(app, kind="action_digest")[0].resolved_at is not None


def test_closing_the_case_resolves_the_loop_instead_of_escalating(app, staffed, twilio):
    case = enforcement_case(staffed, n=304)
    tick(app, "2027-01-12T09:00:00+08:00")
    from datetime import datetime

    closed = staffed["enforcement_officer"]
    app.config["CLOCK"].set(datetime.fromisoformat("2027-01-12T15:00:00+08:00"))
    assert closed.post(f"/api/v1/cases/{case['id']}/close",
                       json={"closed_at": "2027-01-12T15:00:00+08:00", "outcome": "执行完毕"}).status_code == 200
    outcome = tick(app, "2027-01-13T09:30:00+08:00")
    assert outcome["sweep_escalations"]["resolved"] == 1
    assert not [m for m in twilio.messages if m["to"] == PHONES["court_admin"]]


def test_enforcement_escalations_also_reach_the_command_center(app, staffed, twilio, make_actor):
    center = make_actor("court_admin", username="command01", phone="+8613700000001")
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(command_center=("command01",))
    enforcement_case(staffed, n=305)
    tick(app, "2027-01-12T09:00:00+08:00")
    tick(app, "2027-01-13T09:00:00+08:00")
    assert [m for m in twilio.messages if m["to"] == "+8613700000001"]
    assert center.get("/api/v1/notifications?kind=escalation").get_json()["total"] >= 1


def test_quiet_hours_hold_messages_until_eight(app, staffed, twilio):
    enforcement_case(staffed, n=306)
    outcome = tick(app, "2027-01-12T22:30:00+08:00")
    assert outcome["sweep_reminders"]["messages"] == 3 and outcome["deliver"] == {}  # officer, post, manager
    rows = notifications(app)
    assert {r.status.value for r in rows} == {"pending"}
    assert {r.not_before.isoformat() for r in rows} == {"2027-01-13T00:00:00+00:00"}  # 08:00 Shanghai
    assert tick(app, "2027-01-13T07:59:00+08:00")["deliver"] == {}
    assert tick(app, "2027-01-13T08:00:00+08:00")["deliver"] == {"sent": 3}
