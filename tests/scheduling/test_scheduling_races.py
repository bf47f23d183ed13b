"""Two schedulers booking the same room at the same minute cannot both succeed: real threads."""

import threading

import pytest
from sqlalchemy import text

from ancillary.scheduling.models import Hearing
from tests.conftest import DB_KIND

THREADS = 16


def _race(app, requests):
    """Fire ``requests`` (actor, body) at once from as many threads; return the statuses."""
    barrier = threading.Barrier(len(requests))
    statuses = [None] * len(requests)

    def go(index, actor, body):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/hearings", json=body, headers={"Authorization": f"Bearer {actor.token}"})
        statuses[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=go, args=(i, actor, body)) for i, (actor, body) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_sixteen_schedulers_one_room_one_minute_exactly_one_wins(sched, app):
    schedulers = [sched.court.make_actor("scheduler") for _ in range(THREADS)]
    judges = [sched.court.make_actor("judge") for _ in range(THREADS)]
    cases = [sched.file(judge_id=j.id) for j in judges]  # different judges: only the room is contended
    requests = [(s, {"case_id": c["id"], "courtroom_id": sched.main_room["id"],
                     "starts_at": "2027-01-07T09:00:00+08:00", "ends_at": "2027-01-07T10:00:00+08:00"})
                for s, c in zip(schedulers, cases, strict=False)]
    statuses = _race(app, requests)
    codes = sorted(code for code, _ in statuses)
    assert codes == [201] + [409] * (THREADS - 1), statuses
    winner = next(body for code, body in statuses if code == 201)
    for code, body in statuses:
        if code == 409:
            assert body["error"] == "room_taken" and body["conflict"]["hearing_id"] == winner["id"]
    assert sched.count(Hearing) == 1


def test_sixteen_bookings_of_one_judge_in_two_rooms_exactly_one_wins(sched, app):
    schedulers = [sched.court.make_actor("scheduler") for _ in range(THREADS)]
    requests = []
    for index, scheduler in enumerate(schedulers):
        tribunal = index % 2 == 1
        case = sched.file(venue=sched.tribunal) if tribunal else sched.file()
        room = sched.tribunal_room if tribunal else sched.main_room
        requests.append((scheduler, {"case_id": case["id"], "courtroom_id": room["id"],
                                     "starts_at": "2027-01-07T09:00:00+08:00",
                                     "ends_at": "2027-01-07T09:45:00+08:00"}))
    statuses = _race(app, requests)
    assert sorted(code for code, _ in statuses) == [201] + [409] * (THREADS - 1), statuses
    assert sched.count(Hearing) == 1


@pytest.mark.postgres_only
@pytest.mark.skipif(DB_KIND != "postgresql", reason="the exclusion constraints exist on PostgreSQL only")
def test_the_database_itself_refuses_overlaps_that_bypass_the_service(sched):
    from sqlalchemy.exc import IntegrityError

    first = sched.book(sched.file()).get_json()
    other = sched.file(judge_id=sched.court["judge"].id)

    def insert(session, courtroom_id, judge_id, lane=0):
        session.execute(text(
            "INSERT INTO hearings (case_id, courtroom_id, judge_id, starts_at, ends_at, lane, is_overlap_eligible,"
            " status, sequence, created_at, updated_at) VALUES (:case, :room, :judge, '2027-01-07 01:30:00+00',"
            " '2027-01-07 02:30:00+00', :lane, false, 'booked', 0, now(), now())"),
            {"case": other["id"], "room": courtroom_id, "judge": judge_id, "lane": lane})

    for room, judge, constraint in ((sched.main_room["id"], sched.court["judge"].id, "hearings_no_room_overlap"),
                                    (sched.tribunal_room["id"], sched.judge.id, "hearings_no_judge_overlap")):
        with pytest.raises(IntegrityError) as caught:
            sched.session_do(lambda s: insert(s, room, judge))
        assert caught.value.orig.sqlstate == "23P01"
        assert caught.value.orig.diag.constraint_name == constraint
    # Lane 1 is the overlap lane: the database allows it, the service decides who may use it.
    sched.session_do(lambda s: insert(s, sched.main_room["id"], sched.court["judge"].id, lane=1))
    assert sched.count(Hearing) == 2 and first["id"]
