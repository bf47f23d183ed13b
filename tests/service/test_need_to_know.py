"""Every role over every service resource: who gets what, and that outcome views carry no contacts."""

import pytest

from ancillary.auth.models import Role

FULL, OUTCOME, NONE = "full", "outcome", "none"
# GET one order / list; a scheduler sees whether and when, never how to reach the recipient.
READ = {
    Role.intake_clerk: NONE,
    Role.scheduler: OUTCOME,
    Role.service_clerk: FULL,  # the clerk holding the serve task
    Role.file_clerk: NONE,
    Role.archivist: NONE,
    Role.follow_up: NONE,  # not paired with this case's judge
    Role.judge: FULL,  # the case's judge
    Role.enforcement_officer: NONE,  # not their case
    Role.court_admin: FULL,
    Role.contractor_manager: OUTCOME,
    Role.sysadmin: NONE,
}
PROOF = {role: 200 if READ[role] == FULL else 403 for role in Role}
RECORD = {role: 403 for role in Role} | {Role.service_clerk: 201}
OPEN_ON_DEMAND = {role: 403 for role in Role} | {Role.judge: 201, Role.court_admin: 201}
CONTACTS = ("+8613900000002", "统一路", "371002198505050024", '"recipient"', '"addresses"', '"contact"')


def test_the_table_covers_every_role():
    assert set(READ) == set(Role)


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_every_role_over_every_service_resource(court, service, role):
    actor = court[role.value]
    plaintiff = next(p for p in service.case["parties"] if p["role"] == "plaintiff")
    access_before = court["court_admin"].get(f"/api/v1/audit/access-log?case_id={service.case['id']}")

    one = actor.get(service.url)
    listed = actor.get(f"/api/v1/service-orders?case_id={service.case['id']}")
    if READ[role] == NONE:
        assert one.status_code == 403, one.get_json()
        assert listed.status_code == 403 or listed.get_json()["items"] == []
    else:
        assert one.status_code == 200 and listed.status_code == 200
        assert [o["id"] for o in listed.get_json()["items"]] == [service.order["id"]]
        body = one.get_json()
        assert {"id", "case_id", "recipient_party_id", "status", "layer", "next_step", "attempts"} <= set(body)
        text = one.get_data(as_text=True) + listed.get_data(as_text=True)
        if READ[role] == OUTCOME:
            for secret in CONTACTS + ("李四",):
                assert secret not in text, (role, secret)
        else:
            assert body["recipient"]["phones"] == ["+8613900000002"]
            assert plaintiff["name"] not in text  # only the recipient, never the rest of the case

    proof = actor.get(f"{service.url}/proof.pdf")
    assert proof.status_code == PROOF[role], role
    attempt = actor.post(f"{service.url}/attempts", json={"channel": "phone", "outcome": "no_answer"})
    assert attempt.status_code == RECORD[role], (role, attempt.get_json())
    opened = actor.post("/api/v1/service-orders", json={"case_id": service.case["id"], "party_id": plaintiff["id"],
                                                        "documents": "判决书"})
    assert opened.status_code == OPEN_ON_DEMAND[role], (role, opened.get_json())
    hook = actor.post("/api/v1/webhooks/carrier", json={"events": []})
    assert hook.status_code == 403  # a token is no signature

    if READ[role] == FULL:
        log = court["court_admin"].get(f"/api/v1/audit/access-log?case_id={service.case['id']}")
        assert log.status_code == 200
        entries = log.get_json()["items"] if isinstance(log.get_json(), dict) else log.get_json()
        before = access_before.get_json()
        before = before["items"] if isinstance(before, dict) else before
        assert len(entries) > len(before)


def test_a_clerk_without_the_task_sees_nothing_and_keeps_seeing_after_done(court, service):
    stranger = court.make_actor("service_clerk")
    assert stranger.get(service.url).status_code == 403
    assert stranger.get(f"{service.url}/proof.pdf").status_code == 403
    assert stranger.post(f"{service.url}/attempts", json={"channel": "sms"}).status_code == 403
    released = service.clerk.post(f"/api/v1/tasks/{service.task['id']}/release")
    assert released.status_code == 200
    assert service.clerk.get(service.url).status_code == 403  # gave the task back: no more access
    assert stranger.post(f"/api/v1/tasks/{service.task['id']}/claim").status_code == 200
    assert stranger.get(service.url).status_code == 200


def test_a_paired_follow_up_post_sees_the_outcome(court, service):
    judges = [court["judge"].id] + [court.make_actor("judge").id for _ in range(2)]
    post = court["contractor_manager"].post("/api/v1/follow-up-posts",
                                            json={"user_id": court["follow_up"].id, "officer_ids": judges})
    assert post.status_code == 201, post.get_json()
    seen = court["follow_up"].get(service.url)
    assert seen.status_code == 200
    assert "+8613900000002" not in seen.get_data(as_text=True)


def test_the_office_sees_the_service_kpis(court, service):
    for role in Role:
        response = court[role.value].get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31")
        if role in (Role.court_admin, Role.contractor_manager):
            body = response.get_json()
            assert {"service_success_rate", "service_success_by_layer", "service_time_to_serve_days_p50",
                    "service_time_to_serve_days_p95", "service_electronic_share"} <= set(body)
        else:
            assert response.status_code == 403
