"""Notifications, acknowledgements, enforcement nodes, follow-up queues: need-to-know for
all eleven roles, and bad input."""

import pytest

from ancillary.auth.models import Role
from tests.reminders.conftest import enforcement_case, notifications, tick

ROLES = [r.value for r in Role]


@pytest.fixture
def loop(app, staffed, twilio):
    """An enforcement case whose property-search reminder went to the officer and the post."""
    case = enforcement_case(staffed, n=501)
    tick(app, "2027-01-12T09:00:00+08:00")
    [reminder] = notifications(app, kind="action_digest")
    return staffed, case, reminder


# role -> (sees the officer's reminder in the list, with its body, may read the post's queue, may record nodes)
EXPECTED = {
    "intake_clerk": (False, False, False, False),
    "scheduler": (False, False, False, False),
    "service_clerk": (False, False, False, False),
    "file_clerk": (False, False, False, False),
    "archivist": (False, False, False, False),
    "follow_up": (True, True, True, True),
    "judge": (False, False, False, False),
    "enforcement_officer": (True, True, False, True),
    "court_admin": (True, True, True, True),
    "contractor_manager": (True, False, True, False),
    "sysadmin": (False, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_need_to_know_for_every_role(app, loop, role):
    court, case, reminder = loop
    app.config["CLOCK"].set("2027-01-12T12:00:00+08:00")
    actor = court[role]
    listed = actor.get("/api/v1/notifications?limit=1000")
    assert listed.status_code == 200
    mine = [n for n in listed.get_json()["items"] if n["id"] == reminder.id]
    sees, with_body, reads_queue, records = EXPECTED[role]
    assert bool(mine) == sees
    if mine:
        assert (mine[0]["body"] is not None) == with_body
        assert (mine[0]["to_address"] is not None) == (role in ("enforcement_officer", "court_admin"))
    others = [n for n in listed.get_json()["items"] if n["recipient_id"] not in (actor.id,)]
    if role not in ("court_admin", "contractor_manager", "follow_up"):
        assert others == []
    queue = actor.get(f"/api/v1/follow-up-posts/{court.post_id}/queue")
    assert (queue.status_code == 200) == reads_queue, queue.get_json()
    nodes = actor.put(f"/api/v1/cases/{case['id']}/enforcement-nodes",
                      json={"property_search_started_at": "2027-01-12T10:00:00+08:00"}) if hasattr(actor, "put") else \
        actor.client.put(f"/api/v1/cases/{case['id']}/enforcement-nodes",
                         json={"property_search_started_at": "2027-01-12T10:00:00+08:00"},
                         headers={"Authorization": f"Bearer {actor.token}"})
    assert (nodes.status_code == 200) == records, nodes.get_json()
    ack = actor.post(f"/api/v1/notifications/{reminder.id}/ack")
    assert ack.status_code == (200 if role == "enforcement_officer" else 403)


def test_acknowledging_bad_ids(app, loop):
    court, _, reminder = loop
    assert court["enforcement_officer"].post("/api/v1/notifications/999999/ack").status_code == 404
    assert court["court_admin"].post(f"/api/v1/notifications/{reminder.id}/ack").get_json()["error"] == \
        "not_your_notification"
    first = court["enforcement_officer"].post(f"/api/v1/notifications/{reminder.id}/ack").get_json()
    again = court["enforcement_officer"].post(f"/api/v1/notifications/{reminder.id}/ack").get_json()
    assert first["acked_at"] == again["acked_at"]
    assert court["enforcement_officer"].get("/api/v1/notifications?unacked=true").get_json()["total"] == 0
    assert court["enforcement_officer"].get("/api/v1/notifications?status=bogus").status_code == 422
    assert court["enforcement_officer"].get("/api/v1/notifications?limit=1001").status_code == 422


def _put(actor, path, body):
    return actor.client.put(path, json=body, headers={"Authorization": f"Bearer {actor.token}"})


def test_enforcement_nodes_bad_input_writes_nothing(app, loop):
    court, case, _ = loop
    path = f"/api/v1/cases/{case['id']}/enforcement-nodes"
    officer = court["enforcement_officer"]
    future = _put(officer, path, {"fully_seized_at": "2030-01-01T00:00:00+08:00"})
    assert future.status_code == 422 and future.get_json()["field"] == "fully_seized_at"
    naive = _put(officer, path, {"fully_seized_at": "2027-01-05T10:00:00"})
    assert naive.status_code == 422 and naive.get_json()["field"] == "fully_seized_at"
    order = _put(officer, path, {"payment_released_at": "2027-01-10T10:00:00+08:00"})
    assert order.status_code == 422 and order.get_json()["field"] == "payment_released_at"
    assert _put(officer, path, {}).status_code == 422
    assert officer.get(path).get_json()["fully_seized_at"] is None
    trial = court.file_case()
    assert _put(officer, f"/api/v1/cases/{trial['id']}/enforcement-nodes",
                {"fully_seized_at": "2027-01-04T10:00:00+08:00"}).status_code in (403, 422)
    assert _put(court["court_admin"], f"/api/v1/cases/{trial['id']}/enforcement-nodes",
                {"fully_seized_at": "2027-01-04T10:00:00+08:00"}).get_json()["error"] == "not_enforcement"
    assert _put(officer, "/api/v1/cases/999999/enforcement-nodes",
                {"fully_seized_at": "2027-01-04T10:00:00+08:00"}).status_code == 404


def test_seized_but_not_closed_fires_after_its_period(app, staffed, twilio):
    case = enforcement_case(staffed, n=502)
    path = f"/api/v1/cases/{case['id']}/enforcement-nodes"
    answer = _put(staffed["follow_up"], path, {"property_search_started_at": "2027-01-04T09:40:00+08:00",
                                               "fully_seized_at": "2027-01-04T10:00:00+08:00"})
    assert answer.status_code == 200
    tick(app, "2027-01-12T09:00:00+08:00")
    assert notifications(app, kind="action_digest") == []  # search started: no property-search reminder
    tick(app, "2027-02-04T09:00:00+08:00")  # 30 days after the seizure
    [reminder] = notifications(app, kind="action_digest")
    assert case["number"] in reminder.body and "2027-01-04" in reminder.body


def test_the_post_queue_and_remind_now(app, staffed, twilio):
    case = enforcement_case(staffed, n=503)
    follow = staffed["follow_up"]
    app.config["CLOCK"].set("2027-01-09T10:00:00+08:00")
    queue = follow.get(f"/api/v1/follow-up-posts/{staffed.post_id}/queue").get_json()
    [node] = [n for n in queue["items"] if n["node"] == "property_search"]
    assert node["case_number"] == case["number"] and node["state"] == "due_soon"
    assert node["officer_id"] == staffed["enforcement_officer"].id
    app.config["CLOCK"].set("2027-01-12T10:00:00+08:00")
    [node] = [n for n in follow.get(f"/api/v1/follow-up-posts/{staffed.post_id}/queue").get_json()["items"]
              if n["node"] == "property_search"]
    assert node["state"] == "overdue"

    answer = follow.post(f"/api/v1/follow-up-posts/{staffed.post_id}/remind",
                         json={"officer_id": staffed["enforcement_officer"].id})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["kind"] == "remind_now" and case["number"] in body["body"] and body["status"] == "pending"
    again = follow.post(f"/api/v1/follow-up-posts/{staffed.post_id}/remind",
                        json={"officer_id": staffed["enforcement_officer"].id})
    assert again.get_json()["id"] == body["id"]  # a double click sends one message
    assert tick(app, "2027-01-12T10:00:30+08:00")["deliver"]["sent"] >= 1
    assert any(case["number"] in m["body"] and m["to"] == "+8613800000002" for m in twilio.messages)

    nobody = follow.post(f"/api/v1/follow-up-posts/{staffed.post_id}/remind", json={"officer_id": 999})
    assert nobody.status_code == 403 and nobody.get_json()["field"] == "officer_id"
    idle = follow.post(f"/api/v1/follow-up-posts/{staffed.post_id}/remind",
                       json={"officer_id": staffed.other_judges[0].id})
    assert idle.status_code == 409
    assert follow.post(f"/api/v1/follow-up-posts/{staffed.post_id}/remind", json={}).status_code == 422
    assert follow.get("/api/v1/follow-up-posts/99999/queue").status_code == 404
    other = staffed.make_actor("follow_up")
    assert other.get(f"/api/v1/follow-up-posts/{staffed.post_id}/queue").status_code == 403


def test_kpis_count_sent_acknowledged_and_escalated(app, staffed, twilio):
    enforcement_case(staffed, n=504)
    enforcement_case(staffed, n=505, filed_at="2027-01-04T08:00:00+08:00")
    tick(app, "2027-01-12T09:00:00+08:00")
    [reminder] = notifications(app, kind="action_digest")  # both cases folded into one message
    assert reminder.body.count("执") == 2 or "2" in reminder.body
    app.config["CLOCK"].set("2027-01-12T09:30:00+08:00")
    staffed["enforcement_officer"].post(f"/api/v1/notifications/{reminder.id}/ack")
    kpis = staffed["court_admin"].get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31").get_json()
    assert kpis["reminders_sent"] == 1 and kpis["reminders_acknowledged"] == 1
    assert kpis["reminders_ack_minutes_p50"] == 30.0 and kpis["reminders_escalated"] == 0
    [officer] = [o for o in kpis["reminders_by_officer"] if o["officer_id"] == staffed["enforcement_officer"].id]
    assert officer["acknowledged_rate"] == 1.0
    [post] = kpis["reminders_by_post"]
    assert post["reminders"] == 1


def test_openapi_describes_every_reminder_endpoint_with_an_example(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (("/api/v1/notifications", "get"), ("/api/v1/notifications/{notification_id}/ack", "post"),
                         ("/api/v1/webhooks/twilio/status", "post"), ("/api/v1/webhooks/twilio/inbound", "post"),
                         ("/api/v1/cases/{case_id}/enforcement-nodes", "put"),
                         ("/api/v1/follow-up-posts/{post_id}/queue", "get"),
                         ("/api/v1/follow-up-posts/{post_id}/remind", "post")):
        operation = paths[path][method]
        text = str(operation)
        assert "example" in text, (path, method)
