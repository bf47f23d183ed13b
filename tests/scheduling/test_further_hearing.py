"""A case heard but not decided is asked a further hearing, then booked through the normal path."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ancillary.scheduling.models import Hearing


def _held(sched, clock, case):
    hearing = sched.book(case).get_json()
    clock.set(datetime.fromisoformat("2027-01-07T11:00:00+08:00"))  # the hearing of 09:00-10:00 is over
    return hearing


def test_the_judge_asks_and_the_case_is_booked_again_after_its_first_hearing(sched, clock):
    case = sched.file()
    hearing = _held(sched, clock, case)
    path = f"/api/v1/hearings/{hearing['id']}/further-hearing"
    asked = sched.judge.post(path)
    assert asked.status_code == 201, asked.get_json()
    task = asked.get_json()
    assert task["kind"] == "schedule_hearing" and task["case_id"] == case["id"] and task["status"] == "open"
    again = sched.judge.post(path)  # asking twice answers the same task
    assert again.status_code == 200 and again.get_json()["id"] == task["id"]
    suggestions = sched["scheduler"].get(f"/api/v1/hearings/suggestions?case_id={case['id']}").get_json()
    assert suggestions and all(s["starts_at"] > "2027-01-07T11:00:00+08:00" for s in suggestions)
    first = suggestions[0]
    booked = sched["scheduler"].post("/api/v1/hearings", json={
        "case_id": case["id"], "courtroom_id": first["courtroom_id"], "starts_at": first["starts_at"],
        "ends_at": first["ends_at"]})
    assert booked.status_code == 201, booked.get_json()
    open_tasks = sched["scheduler"].get(f"/api/v1/tasks?case_id={case['id']}&status=open").get_json()["items"]
    assert [t for t in open_tasks if t["kind"] == "schedule_hearing"] == []
    assert sched.count(Hearing, Hearing.case_id == case["id"]) == 2
    # With the second hearing to come, asking once more is refused and names it.
    refused = sched.judge.post(path)
    assert refused.status_code == 409 and refused.get_json()["error"] == "already_booked"


def test_a_follow_up_post_paired_with_the_judge_may_ask_others_may_not(sched, clock):
    case = sched.file()
    hearing = _held(sched, clock, case)
    path = f"/api/v1/hearings/{hearing['id']}/further-hearing"
    follow_up = sched.court["follow_up"]
    assert follow_up.post(path).status_code == 403  # not paired yet
    assert sched.court["judge"].post(path).status_code == 403  # another judge's case
    assert sched.court["judge"].post(path).get_json()["error"] == "not_your_case"
    assert sched.court["service_clerk"].post(path).status_code == 403
    paired = sched.court["contractor_manager"].post("/api/v1/follow-up-posts", json={
        "user_id": follow_up.id, "officer_ids": [sched.judge.id, sched.court["judge"].id,
                                                 sched.court["enforcement_officer"].id]})
    assert paired.status_code == 201, paired.get_json()
    asked = follow_up.post(path)
    assert asked.status_code == 201 and asked.get_json()["queue"] == "trial"


def test_a_hearing_not_held_a_closed_case_and_a_missing_hearing_are_refused(sched, clock, app):
    case = sched.file()
    hearing = sched.book(case).get_json()
    path = f"/api/v1/hearings/{hearing['id']}/further-hearing"
    early = sched.judge.post(path)
    assert early.status_code == 409 and early.get_json()["error"] == "hearing_not_held"
    assert early.get_json()["field"] == "hearing_id"
    missing = sched.judge.post("/api/v1/hearings/999999/further-hearing")
    assert missing.status_code == 404
    clock.set(datetime.fromisoformat("2027-01-07T11:00:00+08:00"))
    closed = sched.judge.post(f"/api/v1/cases/{case['id']}/close",
                              json={"closed_at": "2027-01-07T11:00:00+08:00", "outcome": "判决结案"})
    assert closed.status_code == 200, closed.get_json()
    late = sched.judge.post(path)
    assert late.status_code == 409 and late.get_json()["error"] == "case_not_open"
    tasks = sched.session_do(lambda s: s.scalars(select(Hearing).where(Hearing.case_id == case["id"])).all())
    assert len(tasks) == 1
