"""Need-to-know: every role over every scheduling resource (table-driven)."""

from ancillary.audit.models import AccessLogEntry
from ancillary.auth.models import Role

# role -> (hearings list, one hearing, party names shown, suggestions, calendar.ics, utilisation, blockings, court-days)
EXPECTED = {
    Role.intake_clerk: (403, 403, None, 403, 403, 403, 403, 200),
    Role.scheduler: (200, 200, True, 200, 200, 200, 200, 200),
    Role.service_clerk: (200, 403, False, 403, 403, 403, 403, 200),
    Role.file_clerk: (403, 403, None, 403, 403, 403, 403, 200),
    Role.archivist: (403, 403, None, 403, 403, 403, 403, 200),
    Role.follow_up: (200, 403, False, 403, 403, 403, 403, 200),
    Role.judge: (200, 403, True, 403, 403, 403, 200, 200),  # another judge's case
    Role.enforcement_officer: (200, 403, True, 403, 403, 403, 200, 200),
    Role.court_admin: (200, 200, True, 200, 200, 200, 200, 200),
    Role.contractor_manager: (403, 403, None, 403, 403, 200, 403, 200),
    Role.sysadmin: (403, 403, None, 403, 403, 403, 403, 403),
}


def test_every_role_over_every_scheduling_resource(sched):
    assert set(EXPECTED) == set(Role)
    case = sched.file()
    hearing = sched.book(case).get_json()
    for role, (listing, one, names, suggest, calendar, report, blockings, days) in EXPECTED.items():
        actor = sched[role.value]
        response = actor.get("/api/v1/hearings")
        assert response.status_code == listing, role
        if listing == 200:
            items = response.get_json()["items"]
            # Only schedulers and the office see every hearing; officers their own, posts their officers'.
            expected_ids = [hearing["id"]] if role in (Role.scheduler, Role.court_admin) else []
            assert [h["id"] for h in items] == expected_ids, role
            for item in items:
                assert ("parties" in item["case"]) is names, role
                for party in item["case"].get("parties", []):
                    assert set(party) == {"role", "name"}, role
        assert actor.get(f"/api/v1/hearings/{hearing['id']}").status_code == one, role
        assert actor.get(f"/api/v1/hearings/suggestions?case_id={case['id']}").status_code == suggest, role
        assert actor.get(f"/api/v1/judges/{sched.judge.id}/calendar.ics").status_code == calendar, role
        assert actor.get("/api/v1/reports/utilization?from=2027-01-04&to=2027-01-08").status_code == report, role
        assert actor.get("/api/v1/blockings").status_code == blockings, role
        assert actor.get("/api/v1/court-days?from=2027-01-01&to=2027-01-31").status_code == days, role
        # Writing: only schedulers book and auto-schedule.
        book_status = actor.post("/api/v1/hearings", json={}).status_code
        auto_status = actor.post("/api/v1/scheduling/auto", json={}).status_code
        expected_write = 422 if role == Role.scheduler else 403
        assert (book_status, auto_status) == (expected_write, expected_write), role


def test_the_cases_own_judge_sees_the_hearing_and_reads_are_logged(sched):
    case = sched.file()
    hearing = sched.book(case).get_json()
    response = sched.judge.get(f"/api/v1/hearings/{hearing['id']}")
    assert response.status_code == 200
    assert [p["name"] for p in response.get_json()["case"]["parties"]] == ["张三", "李四"]
    assert sched.judge.get(f"/api/v1/hearings?judge_id={sched.court['judge'].id}").status_code == 403
    logged = sched.session_do(lambda s: s.query(AccessLogEntry).filter_by(user_id=sched.judge.id).count())
    assert logged >= 1


def test_a_service_clerk_sees_the_hearing_of_a_case_they_serve_without_names(sched):
    case = sched.file()
    hearing = sched.book(case).get_json()
    clerk = sched["service_clerk"]
    task = clerk.get(f"/api/v1/tasks?queue=service&case_id={case['id']}").get_json()["items"][0]
    assert clerk.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    items = clerk.get("/api/v1/hearings").get_json()["items"]
    assert [h["id"] for h in items] == [hearing["id"]]
    assert "parties" not in items[0]["case"]
    assert clerk.get(f"/api/v1/hearings/{hearing['id']}").status_code == 200
