"""Each courtroom's lunch break: nothing is booked, suggested or auto-scheduled in it; refusals
name the conflicting case by number and local time, never by an internal id."""

from ancillary.audit.models import AuditEntry
from ancillary.scheduling.models import Courtroom, Hearing


def _minutes(stamp: str) -> int:
    hh, mm = stamp[11:16].split(":")
    return int(hh) * 60 + int(mm)


def _clear_of_lunch(slot) -> bool:
    return _minutes(slot["ends_at"]) <= 12 * 60 or _minutes(slot["starts_at"]) >= 13 * 60 + 30


def test_rooms_have_the_default_lunch_break_and_booking_into_it_is_refused(sched):
    assert (sched.main_room["lunch_starts"], sched.main_room["lunch_ends"]) == ("12:00", "13:30")
    case = sched.file()
    refused = sched.book(case, starts="2027-01-07T11:30:00+08:00", ends="2027-01-07T12:30:00+08:00")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "lunch_break" and body["field"] == "starts_at"
    assert "12:00" in body["message"] and "13:30" in body["message"]
    assert sched.count(Hearing) == 0
    # Just before and just after the break are fine.
    assert sched.book(case, starts="2027-01-07T11:00:00+08:00", ends="2027-01-07T12:00:00+08:00").status_code == 201
    assert sched.book(sched.file(), starts="2027-01-07T13:30:00+08:00",
                      ends="2027-01-07T14:30:00+08:00").status_code == 201


def test_suggestions_and_auto_scheduling_leave_the_lunch_break_free(sched):
    scheduler = sched["scheduler"]
    # An ordinary case: two-hour hearings, which would straddle noon if packed from 08:30.
    case = sched.file(kind="ordinary")
    slots = scheduler.get(f"/api/v1/hearings/suggestions?case_id={case['id']}&limit=10").get_json()
    assert slots and all(_clear_of_lunch(s) for s in slots)
    for _ in range(5):
        sched.file(kind="ordinary")
    preview = scheduler.post("/api/v1/scheduling/auto", json={"from": "2027-01-11", "to": "2027-01-12",
                                                               "dry_run": True}).get_json()
    assert preview["scheduled"] and all(_clear_of_lunch(s) for s in preview["scheduled"])


def test_the_office_sets_a_rooms_lunch_break_and_bad_input_changes_nothing(sched):
    admin, room_id = sched["court_admin"], sched.main_room["id"]
    url = f"/api/v1/courtrooms/{room_id}/lunch-break"

    def put(actor, body):
        return actor.client.put(url, json=body, headers={"Authorization": f"Bearer {actor.token}"})

    for body, field in (({"lunch_starts": "13:00", "lunch_ends": "12:00"}, "lunch_ends"),
                        ({"lunch_starts": "07:00", "lunch_ends": "08:00"}, "lunch_starts"),
                        ({"lunch_starts": "12:00", "lunch_ends": None}, "lunch_ends"),
                        ({"lunch_starts": "12:00"}, "lunch_ends"),
                        ({"lunch_starts": "noon", "lunch_ends": "13:00"}, "lunch_starts")):
        answer = put(admin, body)
        assert answer.status_code == 422, (body, answer.get_json())
        assert field in str(answer.get_json()), (body, answer.get_json())
    assert put(sched["scheduler"], {"lunch_starts": None, "lunch_ends": None}).status_code == 403
    assert put(admin, {"lunch_starts": None, "lunch_ends": None}).status_code == 200
    assert sched.session_do(lambda s: s.get(Courtroom, room_id).lunch_starts) is None  # the valid null above took effect; the bad ones did not

    moved = put(admin, {"lunch_starts": "11:45", "lunch_ends": "13:00"})
    assert moved.status_code == 200 and moved.get_json()["lunch_starts"] == "11:45"
    assert sched.book(sched.file(), starts="2027-01-07T13:00:00+08:00",
                      ends="2027-01-07T14:00:00+08:00").status_code == 201
    assert sched.book(sched.file(), starts="2027-01-07T11:00:00+08:00",
                      ends="2027-01-07T12:00:00+08:00").get_json()["error"] == "lunch_break"
    assert sched.count(AuditEntry, AuditEntry.action == "courtroom.lunch_break") == 2
    assert admin.client.put("/api/v1/courtrooms/999999/lunch-break", json={"lunch_starts": None, "lunch_ends": None},
                            headers={"Authorization": f"Bearer {admin.token}"}).status_code == 404


def test_a_conflict_is_named_by_case_number_and_local_time(sched):
    first_case = sched.file()
    first = sched.book(first_case).get_json()
    other = sched.file(judge_id=sched.court["judge"].id)
    taken = sched.book(other, starts="2027-01-07T09:30:00+08:00", ends="2027-01-07T10:30:00+08:00",
                       actor=None)
    body = taken.get_json()
    assert taken.status_code == 409 and body["error"] == "room_taken"
    assert first_case["number"] in body["message"] and "2027-01-07" in body["message"]
    assert "09:00" in body["message"] and "10:00" in body["message"]
    assert f"hearing {first['id']}" not in body["message"]  # an id means nothing to people
    assert body["conflict"]["case_number"] == first_case["number"]
    # Moving a hearing into it is refused the same way, and the moved hearing stays put.
    second = sched.book(other, starts="2027-01-07T14:00:00+08:00", ends="2027-01-07T15:00:00+08:00").get_json()
    move = sched["scheduler"].patch(f"/api/v1/hearings/{second['id']}", json={
        "starts_at": "2027-01-07T09:15:00+08:00", "ends_at": "2027-01-07T10:15:00+08:00"})
    assert move.status_code == 409 and first_case["number"] in move.get_json()["message"]
    assert sched.session_do(lambda s: s.get(Hearing, second["id"]).starts_at.hour) == 6  # 14:00 in Shanghai
