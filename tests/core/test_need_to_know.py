"""Every role walked over every core resource: who sees what (SPEC section 1).

The seed's rule: work is split so that no contractor worker sees a whole case.
"""

import pytest

ROLES = ["intake_clerk", "scheduler", "service_clerk", "file_clerk", "archivist", "follow_up", "judge",
         "enforcement_officer", "court_admin", "contractor_manager", "sysadmin"]

PARTY_SECRETS = ("371002198001010010", "+8613800000001", "zhangsan@example.cn", "新威路1号",
                 "+8613900000002", "统一路2号")


@pytest.fixture
def world(court, app):
    """One case of the court's judge; a follow-up post paired with that judge."""
    judge2, judge3 = court.make_actor("judge"), court.make_actor("judge")
    post = court["contractor_manager"].post("/api/v1/follow-up-posts", json={
        "user_id": court["follow_up"].id, "officer_ids": [court["judge"].id, judge2.id, judge3.id]})
    assert post.status_code == 201, post.get_json()
    case = court.file_case()
    return case


def _text(response):
    return response.get_data(as_text=True)


# role -> (status of GET /cases/{id}, parties shown?, contacts shown?, tokens shown?)
CASE_EXPECTATIONS = {
    "intake_clerk": (200, True, True, True),
    "scheduler": (200, True, False, False),
    "service_clerk": (403, False, False, False),  # until they hold a serve task (below)
    "file_clerk": (200, False, False, True),
    "archivist": (200, False, False, True),
    "follow_up": (200, False, False, False),
    "judge": (200, True, True, False),
    "enforcement_officer": (403, False, False, False),
    "court_admin": (200, True, True, True),
    "contractor_manager": (200, False, False, False),
    "sysadmin": (403, False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_case_detail_is_shaped_by_role(court, world, role):
    status, parties, contacts, tokens = CASE_EXPECTATIONS[role]
    response = court[role].get(f"/api/v1/cases/{world['id']}")
    assert response.status_code == status, (role, response.get_json())
    text = _text(response)
    if status != 200:
        assert "张三" not in text and "李四" not in text
        return
    body = response.get_json()
    assert body["number"] == world["number"]
    assert ("张三" in text) is parties
    for secret in PARTY_SECRETS:
        assert (secret in text) is contacts, (role, secret)
    assert ("ANC1." in text) is tokens


def test_service_clerk_sees_only_the_recipient_of_the_task_they_hold(court, world):
    clerk = court["service_clerk"]
    tasks = clerk.get(f"/api/v1/tasks?queue=service&case_id={world['id']}").get_json()["items"]
    assert len(tasks) == 1
    assert clerk.post(f"/api/v1/tasks/{tasks[0]['id']}/claim").status_code == 200
    body = clerk.get(f"/api/v1/cases/{world['id']}").get_json()
    assert [p["name"] for p in body["parties"]] == ["李四"]
    assert body["parties"][0]["phones"] == ["+8613900000002"]
    assert "id_number" not in body["parties"][0]
    assert "张三" not in str(body) and "371002198001010010" not in str(body)
    other_clerk = court.make_actor("service_clerk")
    assert other_clerk.get(f"/api/v1/cases/{world['id']}").status_code == 403


CASE_LIST_STATUS = {
    "intake_clerk": 1, "scheduler": 1, "service_clerk": 0, "file_clerk": 1, "archivist": 1, "follow_up": 1,
    "judge": 1, "enforcement_officer": 0, "court_admin": 1, "contractor_manager": 1, "sysadmin": None,
}


@pytest.mark.parametrize("role", ROLES)
def test_case_list_holds_only_cases_the_role_may_see_and_no_party_data(court, world, role):
    response = court[role].get("/api/v1/cases")
    expected = CASE_LIST_STATUS[role]
    if expected is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert response.get_json()["total"] == expected
    assert "张三" not in _text(response) and "+861" not in _text(response)


# role -> which queues' tasks the role sees in GET /tasks (None: 403)
TASK_QUEUES = {
    "intake_clerk": set(), "scheduler": {"trial"}, "service_clerk": {"service"}, "file_clerk": None,
    "archivist": set(), "follow_up": {"trial", "service"}, "judge": {"trial", "service"},
    "enforcement_officer": set(), "court_admin": {"trial", "service"}, "contractor_manager": {"trial", "service"},
    "sysadmin": None,
}


@pytest.mark.parametrize("role", ROLES)
def test_task_queues_by_role(court, world, role):
    response = court[role].get("/api/v1/tasks")
    expected = TASK_QUEUES[role]
    if expected is None:
        assert response.status_code == 403
        return
    assert response.status_code == 200, response.get_json()
    assert {t["queue"] for t in response.get_json()["items"]} == expected
    assert "张三" not in _text(response)


ADMIN_ONLY = ["/api/v1/audit/entries", "/api/v1/audit/access-log"]


@pytest.mark.parametrize("role", ROLES)
def test_audit_and_access_log_are_for_the_management_office(court, world, role):
    for path in ADMIN_ONLY:
        expected = 200 if role == "court_admin" else 403
        assert court[role].get(path).status_code == expected, (role, path)


@pytest.mark.parametrize("role", ROLES)
def test_directory_resources_by_role(court, world, role):
    expectations = {
        "/api/v1/users": {"sysadmin", "contractor_manager", "court_admin"},
        "/api/v1/law-firms": {"court_admin", "intake_clerk", "service_clerk"},
        "/api/v1/courtrooms": set(ROLES) - {"sysadmin"},
        "/api/v1/follow-up-posts": {"contractor_manager", "court_admin"},
        "/api/v1/posts": {"contractor_manager", "court_admin"},
        "/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31": {"court_admin", "contractor_manager"},
    }
    for path, allowed in expectations.items():
        response = court[role].get(path)
        assert response.status_code == (200 if role in allowed else 403), (role, path)
        assert "张三" not in _text(response)


def test_users_directory_hides_password_hashes(court):
    text = _text(court["sysadmin"].get("/api/v1/users"))
    assert "argon2" not in text and "password_hash" not in text  # must_change_password is a flag, not a secret


def test_reads_of_party_data_are_logged_and_metadata_reads_are_not(court, world):
    admin = court["court_admin"]
    before = admin.get("/api/v1/audit/access-log").get_json()["total"]
    court["judge"].get(f"/api/v1/cases/{world['id']}")
    court["file_clerk"].get(f"/api/v1/cases/{world['id']}")  # no party data: not logged
    admin.get(f"/api/v1/cases/{world['id']}")
    entries = admin.get(f"/api/v1/audit/access-log?case_id={world['id']}").get_json()["items"]
    assert admin.get("/api/v1/audit/access-log").get_json()["total"] == before + 2
    readers = [e["user_id"] for e in entries[:2]]
    assert readers == [court["court_admin"].id, court["judge"].id]
    assert sorted(entries[0]["party_ids"]) == sorted(p["id"] for p in world["parties"])
    assert entries[0]["purpose"] == f"GET /api/v1/cases/{world['id']}"
