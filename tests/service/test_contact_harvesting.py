"""Contact harvesting: a service clerk's claims and releases of serve tasks are limited per
hour, and releases soon after reading contacts show to the managers (issue 10, item 10)."""

import re
import threading

import pytest

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def limit_of(app):
    original = app.config["SETTINGS"]

    def set_limit(moves: int):
        app.config["SETTINGS"] = original.with_overrides(serve_moves_per_hour=moves)

    yield set_limit
    app.config["SETTINGS"] = original


def serve_tasks(court, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        case = court.file_case()
        tasks = court["court_admin"].get(f"/api/v1/tasks?queue=service&case_id={case['id']}").get_json()["items"]
        ids.append(tasks[0]["id"])
    return ids


def test_claiming_and_releasing_beyond_the_hourly_limit_is_refused_with_429(court, clock, limit_of):
    limit_of(4)
    clerk = court["service_clerk"]
    first, second = serve_tasks(court, 2)
    for path in (f"/api/v1/tasks/{first}/claim", f"/api/v1/tasks/{first}/release",
                 f"/api/v1/tasks/{first}/claim", f"/api/v1/tasks/{first}/release"):
        clock.advance(minutes=5)
        assert clerk.post(path).status_code == 200
    refused = clerk.post(f"/api/v1/tasks/{second}/claim")
    body = refused.get_json()
    assert refused.status_code == 429, body
    assert (body["error"], body["field"]) == ("serve_moves_limited", "task_id")
    assert CJK.search(body["message"]) and "4" in body["message"]
    assert body["retry_after"] == 45 * 60  # the first move (at +5 min) leaves the hour 45 minutes from now
    assert refused.headers["Retry-After"] == str(45 * 60)
    assert court["court_admin"].get(f"/api/v1/tasks/{second}").get_json()["status"] == "open"  # nothing written
    english = clerk.post(f"/api/v1/tasks/{second}/claim", headers={"Accept-Language": "en"}).get_json()
    assert english["message"] == ("you have claimed and released service tasks 4 times in the last hour; "
                                  "try again in 45 minutes")
    # Other clerks, and other queues, are not held back by this clerk's moves.
    assert court.make_actor("service_clerk").post(f"/api/v1/tasks/{second}/claim").status_code == 200
    clock.advance(minutes=46)
    assert clerk.post(f"/api/v1/tasks/{first}/claim").status_code == 200


def test_a_manager_releasing_a_clerks_task_is_not_limited(court, limit_of):
    limit_of(2)
    clerk, manager = court["service_clerk"], court["contractor_manager"]
    first, second = serve_tasks(court, 2)
    assert clerk.post(f"/api/v1/tasks/{first}/claim").status_code == 200
    assert clerk.post(f"/api/v1/tasks/{second}/claim").status_code == 200
    assert manager.post(f"/api/v1/tasks/{first}/release").status_code == 200
    assert manager.post(f"/api/v1/tasks/{second}/release").status_code == 200
    assert clerk.post(f"/api/v1/tasks/{first}/claim").status_code == 429


def test_racing_claims_of_one_clerk_never_pass_the_limit(app, court, limit_of):
    """Real threads, each with its own connection: with 2 moves left, exactly 2 of 6 claims win."""
    limit_of(5)
    clerk = court["service_clerk"]
    used, *tasks = serve_tasks(court, 7)
    for path in ("claim", "release", "claim"):
        assert clerk.post(f"/api/v1/tasks/{used}/{path}").status_code == 200
    barrier = threading.Barrier(len(tasks))
    results = []

    def claim(task_id):
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/tasks/{task_id}/claim", headers={"Authorization": f"Bearer {clerk.token}"})
        results.append((task_id, response.status_code))

    threads = [threading.Thread(target=claim, args=(t,)) for t in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(code for _, code in results) == [200, 200, 429, 429, 429, 429], results
    held = court["court_admin"].get(f"/api/v1/tasks?queue=service&assignee_id={clerk.id}").get_json()["items"]
    assert sorted(t["id"] for t in held) == sorted([used] + [t for t, code in results if code == 200])


def test_releases_soon_after_reading_contacts_show_to_the_managers(court, clock, open_service):
    harvester = court.make_actor("service_clerk", username="serve_h")
    honest = court.make_actor("service_clerk", username="serve_ok")
    for _ in range(2):  # claim, read the recipient's contacts, give it back
        service = open_service(clerk=harvester)
        clock.advance(minutes=2)
        assert service.get()["recipient"]["phones"]
        clock.advance(minutes=3)
        assert harvester.post(f"/api/v1/tasks/{service.task['id']}/release").status_code == 200
    worked = open_service(clerk=honest)
    clock.advance(minutes=2)
    worked.get()
    assert worked.attempt(channel="phone", outcome="no_answer").status_code == 201
    assert honest.post(f"/api/v1/tasks/{worked.task['id']}/release").status_code == 200
    slow = open_service(clerk=honest)
    slow.get()
    clock.advance(hours=3)
    assert honest.post(f"/api/v1/tasks/{slow.task['id']}/release").status_code == 200

    for reader in ("contractor_manager", "court_admin"):
        response = court[reader].get("/api/v1/reports/release-patterns")
        assert response.status_code == 200, response.get_json()
        items = response.get_json()["items"]
        assert [(i["username"], i["unusual"]) for i in items] == [("serve_h", True), ("serve_ok", False)]
        first = items[0]
        assert (first["claims"], first["releases"], len(first["quick_releases"])) == (2, 2, 2)
        assert CJK.search(first["reasons"][0]), first["reasons"]
        assert first["quick_releases"][0]["case_number"].startswith("(2027)")
        assert "phones" not in str(items) and "李四" not in str(items)  # no party data for the manager
    assert court["service_clerk"].get("/api/v1/reports/release-patterns").status_code == 403
    assert court["contractor_manager"].get("/api/v1/reports/release-patterns?from=2027-01-10&to=2027-01-01") \
        .status_code == 422
    assert court["contractor_manager"].get("/api/v1/reports/release-patterns?from=0001-01-01").status_code == 422
    empty = court["contractor_manager"].get("/api/v1/reports/release-patterns?from=2026-01-01&to=2026-01-31")
    assert empty.get_json()["items"] == []
