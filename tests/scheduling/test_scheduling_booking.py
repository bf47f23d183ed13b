"""Booking hearings: the rules, the 409s that name the conflict, and what booking sets off."""

from sqlalchemy import select

from ancillary.audit.models import AuditEntry
from ancillary.outbox import Notification
from ancillary.scheduling.models import Hearing


def test_book_a_hearing_completes_the_task_and_tells_the_judge(sched):
    case = sched.file()
    response = sched.book(case)
    assert response.status_code == 201, response.get_json()
    hearing = response.get_json()
    assert {k: hearing[k] for k in ("case_id", "courtroom_id", "judge_id", "starts_at", "ends_at", "overlap")} == {
        "case_id": case["id"], "courtroom_id": sched.main_room["id"], "judge_id": sched.judge.id,
        "starts_at": "2027-01-07T09:00:00+08:00", "ends_at": "2027-01-07T10:00:00+08:00", "overlap": False}
    assert [p["name"] for p in hearing["case"]["parties"]] == ["张三", "李四"]
    assert "phones" not in hearing["case"]["parties"][0]

    tasks = sched["scheduler"].get(f"/api/v1/tasks?queue=trial&case_id={case['id']}").get_json()["items"]
    assert [t["status"] for t in tasks] == ["done"]
    notes = sched.session_do(lambda s: [(n.kind, n.to_address, n.channel.value, n.body)
                                        for n in s.scalars(select(Notification))])
    assert len(notes) == 1
    kind, to, channel, body = notes[0]
    assert (kind, to, channel) == ("hearing_booked", "+8613800000009", "sms")
    assert case["number"] in body and "2027-01-07" in body and "09:00" in body

    listed = sched.judge.get("/api/v1/hearings?from=2027-01-07T00:00:00%2B08:00&to=2027-01-08T00:00:00%2B08:00")
    assert [h["id"] for h in listed.get_json()["items"]] == [hearing["id"]]
    assert sched.count(AuditEntry, AuditEntry.action == "hearing.book") == 1


def test_room_and_judge_cannot_be_double_booked_and_the_409_names_the_hearing(sched):
    first = sched.book(sched.file()).get_json()
    taken = sched.book(sched.file(judge_id=sched.court["judge"].id), starts="2027-01-07T09:30:00+08:00",
                       ends="2027-01-07T10:30:00+08:00")
    assert taken.status_code == 409
    body = taken.get_json()
    assert body["error"] == "room_taken" and body["conflict"]["hearing_id"] == first["id"]
    assert body["conflict"]["starts_at"] == "2027-01-07T09:00:00+08:00"

    # The same judge, in the tribunal's room at the same time.
    busy = sched.book(sched.file(venue=sched.tribunal), room=sched.tribunal_room, starts="2027-01-07T09:45:00+08:00",
                      ends="2027-01-07T10:15:00+08:00")
    assert busy.status_code == 409
    assert busy.get_json()["error"] == "judge_busy" and busy.get_json()["conflict"]["hearing_id"] == first["id"]
    # Back to back is fine: [09:00, 10:00) and [10:00, 11:00) do not overlap.
    assert sched.book(sched.file(), starts="2027-01-07T10:00:00+08:00", ends="2027-01-07T11:00:00+08:00").status_code == 201
    assert sched.count(Hearing) == 2


def test_working_days_opening_hours_and_blockings(sched):
    admin = sched["court_admin"]
    case = sched.file()
    saturday = sched.book(case, starts="2027-01-09T09:00:00+08:00", ends="2027-01-09T10:00:00+08:00")
    assert saturday.status_code == 409 and saturday.get_json()["error"] == "not_a_working_day"
    holiday = sched.book(case, starts="2027-02-08T09:00:00+08:00", ends="2027-02-08T10:00:00+08:00")
    assert holiday.status_code == 409 and holiday.get_json()["error"] == "not_a_working_day"
    early = sched.book(case, starts="2027-01-07T08:00:00+08:00", ends="2027-01-07T09:00:00+08:00")
    assert early.status_code == 409 and early.get_json()["error"] == "outside_opening_hours"
    late = sched.book(case, starts="2027-01-07T17:00:00+08:00", ends="2027-01-07T18:00:00+08:00")
    assert late.status_code == 409 and late.get_json()["conflict"]["closes"] == "17:30"

    # The office makes Saturday 9 January a make-up working day, then blocks the room on it.
    assert admin.client.put("/api/v1/court-days/2027-01-09", json={"is_working": True, "name": "调休上班"},
                            headers={"Authorization": f"Bearer {admin.token}"}).status_code == 200
    blocked = admin.post("/api/v1/blockings", json={"courtroom_id": sched.main_room["id"], "reason": "空调维修",
                                                     "starts_at": "2027-01-09T08:00:00+08:00",
                                                     "ends_at": "2027-01-09T12:00:00+08:00"})
    assert blocked.status_code == 201
    refused = sched.book(case, starts="2027-01-09T09:00:00+08:00", ends="2027-01-09T10:00:00+08:00")
    assert refused.status_code == 409 and refused.get_json()["error"] == "room_blocked"
    assert refused.get_json()["conflict"]["blocking_id"] == blocked.get_json()["id"]
    ok = sched.book(case, starts="2027-01-09T13:30:00+08:00", ends="2027-01-09T14:30:00+08:00")
    assert ok.status_code == 201, ok.get_json()

    # The judge's leave.
    other = sched.file()
    admin.post("/api/v1/blockings", json={"user_id": sched.judge.id, "reason": "年休假",
                                          "starts_at": "2027-01-12T00:00:00+08:00", "ends_at": "2027-01-13T00:00:00+08:00"})
    leave = sched.book(other, starts="2027-01-12T09:00:00+08:00", ends="2027-01-12T10:00:00+08:00")
    assert leave.status_code == 409 and leave.get_json()["error"] == "judge_unavailable"


def test_speedy_cases_are_heard_within_7_days_of_filing(sched):
    # Filed Monday 4 January 09:00: the 7 days end on Monday 11 January, 23:59:59.
    speedy = sched.file(kind="speedy")
    late = sched.book(speedy, starts="2027-01-12T09:00:00+08:00", ends="2027-01-12T09:30:00+08:00")
    assert late.status_code == 409
    assert late.get_json()["error"] == "past_speedy_limit"
    assert late.get_json()["conflict"]["limit"] == "2027-01-11T23:59:59+08:00"
    assert sched.book(speedy, starts="2027-01-11T16:30:00+08:00", ends="2027-01-11T17:00:00+08:00").status_code == 201


def test_bad_input_is_refused_with_the_field_and_nothing_written(sched):
    case = sched.file()
    closed = sched.file()
    sched.judge.post(f"/api/v1/cases/{closed['id']}/close", json={"closed_at": "2027-01-04T09:20:00+08:00",
                                                                  "outcome": "撤诉"})
    scheduler = sched["scheduler"]
    base = {"case_id": case["id"], "courtroom_id": sched.main_room["id"],
            "starts_at": "2027-01-07T09:00:00+08:00", "ends_at": "2027-01-07T10:00:00+08:00"}
    cases = [
        (dict(base, ends_at="2027-01-07T08:00:00+08:00"), 422, "ends_at"),
        (dict(base, ends_at=base["starts_at"]), 422, "ends_at"),
        (dict(base, ends_at="2027-01-07T21:00:00+08:00"), 422, "ends_at"),  # 12 hours
        (dict(base, starts_at="2027-01-07T09:00:00"), 422, "starts_at"),  # no offset
        (dict(base, courtroom_id=999999), 422, "courtroom_id"),
        (dict(base, courtroom_id=sched.tribunal_room["id"]), 422, "courtroom_id"),  # another venue
        (dict(base, case_id=999999), 422, "case_id"),
        (dict(base, case_id=closed["id"]), 409, "case_id"),
        (dict(base, case_id="5"), 422, "case_id"),
        (dict(base, starts_at="2027-01-04T08:00:00+08:00", ends_at="2027-01-04T09:00:00+08:00"), 422, "starts_at"),
        ({k: v for k, v in base.items() if k != "ends_at"}, 422, "ends_at"),
    ]
    for body, status, field in cases:
        response = scheduler.post("/api/v1/hearings", json=body)
        assert response.status_code == status, (body, response.get_json())
        assert response.get_json()["field"] == field, (body, response.get_json())
    assert sched.count(Hearing) == 0
    assert sched.book(case).status_code == 201
    twice = sched.book(case, starts="2027-01-08T09:00:00+08:00", ends="2027-01-08T10:00:00+08:00")
    assert twice.status_code == 409 and twice.get_json()["error"] == "already_booked"
    assert sched.count(Hearing) == 1


def test_move_and_cancel_update_the_judge_and_reopen_the_queue(sched, clock):
    case = sched.file()
    hearing = sched.book(case).get_json()
    other_judge = sched.court["judge"]
    path = f"/api/v1/hearings/{hearing['id']}"
    assert other_judge.patch(path, json={"starts_at": "2027-01-08T09:00:00+08:00",
                                         "ends_at": "2027-01-08T10:00:00+08:00"}).status_code == 403
    moved = sched.judge.patch(path, json={"starts_at": "2027-01-08T09:00:00+08:00", "ends_at": "2027-01-08T10:00:00+08:00"})
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["starts_at"] == "2027-01-08T09:00:00+08:00" and moved.get_json()["sequence"] == 1
    cancelled = sched["scheduler"].post(f"{path}/cancel", json={"reason": "当事人申请延期"})
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"
    kinds = sched.session_do(lambda s: sorted(n.kind for n in s.scalars(select(Notification))))
    assert kinds == ["hearing_booked", "hearing_cancelled", "hearing_moved"]
    tasks = sched["scheduler"].get(f"/api/v1/tasks?queue=trial&case_id={case['id']}&status=open").get_json()["items"]
    assert len(tasks) == 1
    # The slot is free again, and the case can be booked anew.
    assert sched.book(case, starts="2027-01-08T09:00:00+08:00", ends="2027-01-08T10:00:00+08:00").status_code == 201


def test_the_booking_answer_is_the_hearing_as_it_reads_back_and_logs_the_names_shown(sched):
    from ancillary.audit.models import AccessLogEntry

    case = sched.file()
    logged = sched.count(AccessLogEntry, AccessLogEntry.case_id == case["id"])
    booked = sched.book(case)
    assert booked.status_code == 201, booked.get_json()
    body = booked.get_json()
    assert sched.count(AccessLogEntry, AccessLogEntry.case_id == case["id"]) == logged + 1
    read = sched["scheduler"].get(f"/api/v1/hearings/{body['id']}").get_json()
    assert body == read
    assert body["courtroom_name"] == sched.main_room["name"] and body["judge_name"]


def test_an_overlap_the_database_refuses_is_a_409_and_writes_nothing(sched, monkeypatch):
    """A write that slipped past the row locks meets the exclusion constraint (PostgreSQL)."""
    import pytest

    from ancillary.scheduling import booking
    from tests.conftest import DB_KIND

    if DB_KIND != "postgresql":
        pytest.skip("the exclusion constraints exist on PostgreSQL only")
    first = sched.book(sched.file())
    assert first.status_code == 201
    blind = booking.ledger_around

    def sees_nothing(*args, **kwargs):
        ledger, active = blind(*args, **kwargs)
        ledger.by_room.clear()
        ledger.by_judge.clear()
        return ledger, active

    monkeypatch.setattr(booking, "ledger_around", sees_nothing)
    second = sched.book(sched.file(judge_id=sched.court["judge"].id))
    assert second.status_code == 409 and second.get_json()["error"] == "double_booked", second.get_json()
    assert second.get_json()["field"] == "starts_at"
    assert sched.count(Hearing) == 1
    assert sched.count(AuditEntry, AuditEntry.action == "hearing.book") == 1
    assert sched.session_do(lambda s: len(s.scalars(select(Notification)).all())) == 1
