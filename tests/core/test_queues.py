import threading

import pytest


def _schedule_task(actor, case_id):
    tasks = actor.get(f"/api/v1/tasks?case_id={case_id}&kind=schedule_hearing").get_json()["items"]
    assert len(tasks) == 1
    return tasks[0]


def test_queue_lists_speedy_cases_first_then_earliest_due(court):
    late_summary = court.file_case(filed_at="2027-01-04T09:20:00+08:00")
    early_summary = court.file_case(filed_at="2027-01-04T08:00:00+08:00")
    speedy = court.file_case(kind="speedy", filed_at="2027-01-04T09:25:00+08:00")
    items = court["scheduler"].get("/api/v1/tasks?queue=trial").get_json()["items"]
    assert [t["case_id"] for t in items] == [speedy["id"], early_summary["id"], late_summary["id"]]
    assert items[0]["case_kind"] == "speedy" and items[0]["case_number"] == speedy["number"]


def test_sla_state_moves_from_open_to_due_soon_to_overdue(court, clock):
    case = court.file_case(filed_at="2027-01-04T09:00:00+08:00")  # due 12:00
    scheduler = court["scheduler"]
    assert _schedule_task(scheduler, case["id"])["sla"] == "open"
    clock.set("2027-01-04T11:45:00+08:00")
    assert _schedule_task(scheduler, case["id"])["sla"] == "due_soon"
    clock.set("2027-01-04T12:01:00+08:00")
    task = _schedule_task(scheduler, case["id"])
    assert task["sla"] == "overdue"
    assert scheduler.get("/api/v1/tasks?queue=trial&overdue=true").get_json()["total"] == 1


def test_claim_release_complete(court, clock):
    case = court.file_case()
    scheduler, other = court["scheduler"], court.make_actor("scheduler")
    task = _schedule_task(scheduler, case["id"])
    claimed = scheduler.post(f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200
    assert claimed.get_json()["status"] == "claimed" and claimed.get_json()["assignee_id"] == scheduler.id
    assert other.post(f"/api/v1/tasks/{task['id']}/complete", json={}).status_code == 403
    assert other.post(f"/api/v1/tasks/{task['id']}/release").status_code == 403
    assert scheduler.post(f"/api/v1/tasks/{task['id']}/release").status_code == 200
    assert other.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    clock.advance(minutes=30)
    done = other.post(f"/api/v1/tasks/{task['id']}/complete", json={"note": "已排期"})
    assert done.status_code == 200
    assert done.get_json()["status"] == "done" and done.get_json()["sla"] == "met"
    assert other.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 409


def test_a_clerk_cannot_claim_from_a_queue_they_do_not_work(court):
    case = court.file_case()
    task = _schedule_task(court["court_admin"], case["id"])
    response = court["service_clerk"].post(f"/api/v1/tasks/{task['id']}/claim")
    assert response.status_code == 403 and response.get_json()["error"] == "wrong_queue"
    assert court["scheduler"].get("/api/v1/tasks?queue=service").status_code == 403


def test_manager_may_release_a_stuck_task(court):
    case = court.file_case()
    task = _schedule_task(court["scheduler"], case["id"])
    court["scheduler"].post(f"/api/v1/tasks/{task['id']}/claim")
    released = court["contractor_manager"].post(f"/api/v1/tasks/{task['id']}/release")
    assert released.status_code == 200 and released.get_json()["status"] == "open"


def test_two_racing_clerks_one_wins_the_other_gets_409(court, app):
    """Real threads, each with its own connection, claiming the same task at once."""
    for round_ in range(5):
        case = court.file_case()
        task = _schedule_task(court["scheduler"], case["id"])
        clerks = [court.make_actor("scheduler") for _ in range(8)]
        barrier = threading.Barrier(len(clerks))
        results = []

        def claim(actor):
            client = app.test_client()
            barrier.wait()
            response = client.post(f"/api/v1/tasks/{task['id']}/claim",
                                   headers={"Authorization": f"Bearer {actor.token}"})
            results.append((actor.id, response.status_code, response.get_json()))

        threads = [threading.Thread(target=claim, args=(c,)) for c in clerks]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        statuses = sorted(code for _, code, _ in results)
        assert statuses == [200] + [409] * 7, (round_, results)
        winner = next(uid for uid, code, _ in results if code == 200)
        final = court["court_admin"].get(f"/api/v1/tasks/{task['id']}").get_json()
        assert final["assignee_id"] == winner
        losers = [body for _, code, body in results if code == 409]
        assert all(b["error"] == "already_claimed" and b["assignee_id"] == winner for b in losers)


@pytest.mark.parametrize("officer_count, status", [(2, 422), (3, 201), (5, 201), (6, 422)])
def test_follow_up_posts_pair_three_to_five_officers(court, officer_count, status):
    officers = [court.make_actor("judge").id for _ in range(officer_count)]
    follower = court.make_actor("follow_up")
    response = court["contractor_manager"].post("/api/v1/follow-up-posts",
                                                json={"user_id": follower.id, "officer_ids": officers})
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert response.get_json()["field"] == "officer_ids"
    else:
        assert response.get_json()["officer_ids"] == sorted(officers)


def test_follow_up_post_refuses_wrong_people(court):
    judges = [court.make_actor("judge").id for _ in range(3)]
    manager = court["contractor_manager"]
    not_follow = manager.post("/api/v1/follow-up-posts", json={"user_id": court["scheduler"].id, "officer_ids": judges})
    assert not_follow.status_code == 422 and not_follow.get_json()["field"] == "user_id"
    clerk_as_officer = manager.post("/api/v1/follow-up-posts", json={
        "user_id": court["follow_up"].id, "officer_ids": judges[:2] + [court["scheduler"].id]})
    assert clerk_as_officer.status_code == 422 and clerk_as_officer.get_json()["field"] == "officer_ids.2"
    duplicate = manager.post("/api/v1/follow-up-posts", json={
        "user_id": court["follow_up"].id, "officer_ids": [judges[0], judges[0], judges[1]]})
    assert duplicate.status_code == 422
    ok = manager.post("/api/v1/follow-up-posts", json={"user_id": court["follow_up"].id, "officer_ids": judges})
    assert ok.status_code == 201
    again = manager.post("/api/v1/follow-up-posts", json={"user_id": court["follow_up"].id, "officer_ids": judges})
    assert again.status_code == 409


def test_follow_up_sees_tasks_of_paired_officers_only(court):
    judges = [court["judge"].id] + [court.make_actor("judge").id for _ in range(2)]
    court["contractor_manager"].post("/api/v1/follow-up-posts",
                                     json={"user_id": court["follow_up"].id, "officer_ids": judges})
    mine = court.file_case()
    other = court.file_case(judge_id=court.make_actor("judge").id)
    case_ids = {t["case_id"] for t in court["follow_up"].get("/api/v1/tasks").get_json()["items"]}
    assert case_ids == {mine["id"]}
    assert court["follow_up"].get(f"/api/v1/cases/{other['id']}").status_code == 403


def test_archive_task_is_overdue_after_thirty_days(court, clock):
    case = court.file_case()
    court["judge"].post(f"/api/v1/cases/{case['id']}/close",
                        json={"closed_at": "2027-01-04T09:00:00+08:00", "outcome": "判决结案"})
    clock.advance(days=25)
    archivist = court["archivist"]
    assert archivist.get("/api/v1/tasks?queue=archive").get_json()["items"][0]["sla"] == "due_soon"
    clock.advance(days=6)
    assert archivist.get("/api/v1/tasks?queue=archive").get_json()["items"][0]["sla"] == "overdue"


def test_a_queue_shows_work_still_to_do_unless_asked(court):
    case = court.file_case()
    scheduler = court["scheduler"]
    task = _schedule_task(scheduler, case["id"])
    scheduler.post(f"/api/v1/tasks/{task['id']}/claim")
    scheduler.post(f"/api/v1/tasks/{task['id']}/complete", json={})
    assert scheduler.get("/api/v1/tasks?queue=trial").get_json()["total"] == 0
    assert scheduler.get("/api/v1/tasks?queue=trial&status=done").get_json()["total"] == 1


def test_manager_sees_posts_and_workload(court, clock, app):
    from ancillary.auth.models import User
    from ancillary.extensions import db
    from ancillary.queues.models import GroupCode
    from ancillary.queues.services import create_post
    from tests.conftest import NOW

    with app.app_context():
        create_post(db.session, user=db.session.get(User, court["scheduler"].id), group_code=GroupCode.trial,
                    kind="scheduler", now=NOW)
        db.session.commit()
    case = court.file_case()
    task = _schedule_task(court["scheduler"], case["id"])
    court["scheduler"].post(f"/api/v1/tasks/{task['id']}/claim")
    clock.advance(hours=4)
    posts = court["contractor_manager"].get("/api/v1/posts").get_json()
    mine = next(p for p in posts if p["user_id"] == court["scheduler"].id)
    assert (mine["group"], mine["tasks_held"], mine["tasks_overdue"]) == ("trial", 1, 1)
    assert court["scheduler"].get("/api/v1/posts").status_code == 403
    assert court["contractor_manager"].get("/api/v1/posts?group=nowhere").status_code == 422
