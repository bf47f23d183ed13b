"""Overlap booking, suggestions, auto-scheduling and the judge's calendar feed."""

from icalendar import Calendar

from ancillary.scheduling import rules
from ancillary.scheduling.models import Hearing


def serve_in_person(court, case):
    """A service clerk claims each serve task of ``case`` and records a signed receipt."""
    clerk = court["service_clerk"]
    for task in court["court_admin"].get(f"/api/v1/tasks?case_id={case['id']}&kind=serve").get_json()["items"]:
        assert clerk.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    for order in clerk.get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"]:
        served = clerk.post(f"/api/v1/service-orders/{order['id']}/attempts", json={
            "channel": "personal", "outcome": "served", "received_by": "李四", "skip_reason": "电话均无人接听"})
        assert served.status_code == 201, served.get_json()


def _mediation_case(sched, served=True, **overrides):
    case = sched.file(venue=sched.tribunal, **overrides)
    judge = next(a for a in (sched.judge, sched.court["judge"]) if a.id == case["judge_id"])
    assert judge.patch(f"/api/v1/cases/{case['id']}", json={"mediation_likely": True}).status_code == 200
    if served:
        serve_in_person(sched.court, case)
    return case


def test_two_mediation_cases_may_share_a_tribunal_slot_but_not_three(sched):
    room = sched.tribunal_room
    first = sched.book(_mediation_case(sched), room=room)
    second = sched.book(_mediation_case(sched), room=room)
    assert first.status_code == 201 and second.status_code == 201, second.get_json()
    assert second.get_json()["overlap"] is True and second.get_json()["lane"] == 1
    third = sched.book(_mediation_case(sched), room=room)
    assert third.status_code == 409 and third.get_json()["error"] == "room_taken"
    plain = sched.book(sched.file(venue=sched.tribunal, judge_id=sched.court["judge"].id), room=room,
                       starts="2027-01-07T09:30:00+08:00", ends="2027-01-07T10:00:00+08:00")
    assert plain.status_code == 409
    listed = sched["scheduler"].get(f"/api/v1/hearings?courtroom_id={room['id']}").get_json()["items"]
    assert [h["overlap"] for h in listed] == [True, True]
    # The judge moves one of the pair away; neither is an overlap any more.
    moved = sched.judge.patch(f"/api/v1/hearings/{first.get_json()['id']}",
                              json={"starts_at": "2027-01-07T14:00:00+08:00", "ends_at": "2027-01-07T15:00:00+08:00"})
    assert moved.status_code == 200 and moved.get_json()["overlap"] is False
    listed = sched["scheduler"].get(f"/api/v1/hearings?courtroom_id={room['id']}").get_json()["items"]
    assert [h["overlap"] for h in listed] == [False, False]


def test_without_direct_service_there_is_no_overlap_booking(sched):
    room = sched.tribunal_room
    assert sched.book(_mediation_case(sched), room=room).status_code == 201
    assert sched.book(_mediation_case(sched, served=False), room=room).status_code == 409


def test_suggestions_are_the_earliest_feasible_slots(sched):
    scheduler = sched["scheduler"]
    case = sched.file()  # summary, 60 min, notice 3 days: from Thursday 7 January
    sched.book(sched.file(judge_id=sched.court["judge"].id), starts="2027-01-07T08:30:00+08:00",
               ends="2027-01-07T10:00:00+08:00")
    slots = scheduler.get(f"/api/v1/hearings/suggestions?case_id={case['id']}&limit=4").get_json()
    assert [(s["starts_at"], s["ends_at"]) for s in slots] == [
        ("2027-01-07T10:00:00+08:00", "2027-01-07T11:00:00+08:00"),
        ("2027-01-07T11:00:00+08:00", "2027-01-07T12:00:00+08:00"),
        ("2027-01-07T13:30:00+08:00", "2027-01-07T14:30:00+08:00"),  # after the 12:00-13:30 lunch break
        ("2027-01-08T08:30:00+08:00", "2027-01-08T09:30:00+08:00"),  # at most three a room-day
    ]
    assert all(s["courtroom_id"] == sched.main_room["id"] for s in slots)
    # Booking the first suggestion succeeds; the speedy case's slots start tomorrow and end by its limit.
    first = slots[0]
    assert sched.book(case, starts=first["starts_at"], ends=first["ends_at"]).status_code == 201
    speedy = sched.file(kind="speedy")
    slots = scheduler.get(f"/api/v1/hearings/suggestions?case_id={speedy['id']}&limit=100").get_json()
    assert slots[0]["starts_at"] == "2027-01-05T08:30:00+08:00"
    assert slots[-1]["ends_at"] <= "2027-01-11T23:59:59+08:00"
    assert scheduler.get("/api/v1/hearings/suggestions?case_id=999999").status_code == 404
    assert scheduler.get("/api/v1/hearings/suggestions").status_code == 422
    assert sched.court["judge"].get(f"/api/v1/hearings/suggestions?case_id={speedy['id']}").status_code == 403


def test_explained_suggestions_say_why_there_is_no_slot(sched):
    scheduler = sched["scheduler"]

    def both(case):
        plain = scheduler.get(f"/api/v1/hearings/suggestions?case_id={case['id']}&limit=3")
        explained = scheduler.get(f"/api/v1/hearings/suggestions/explained?case_id={case['id']}&limit=3")
        assert plain.status_code == explained.status_code == 200
        body = explained.get_json()
        assert body["case_id"] == case["id"]
        assert body["slots"] == plain.get_json()  # the SPEC's array, unchanged, is the same list
        return body

    # Slots found: no reason.
    assert both(sched.file())["reason"] is None
    # A speedy case filed 20 December 2026: its 7 days ended on the 27th.
    late = both(sched.file(kind="speedy", filed_at="2026-12-20T10:00:00+08:00"))
    assert late["slots"] == []
    assert late["reason"]["code"] == "past_speedy_limit"
    assert late["reason"]["limit"] == "2026-12-27T23:59:59+08:00"
    assert "2026-12-27T23:59:59+08:00" in late["reason"]["message"]
    # A summary case filed in September: its three months are over.
    september = sched.file(filed_at="2026-09-30T10:00:00+08:00")
    old = both(september)
    assert (old["slots"], old["reason"]["code"]) == ([], "past_deadline")
    assert old["reason"]["limit"] == september["deadline"] < "2027-01-04"
    # The judge is on leave through the speedy case's 7 days: nothing is free before its limit.
    on_leave = sched["court_admin"].post("/api/v1/blockings", json={
        "user_id": sched.judge.id, "reason": "年休假", "starts_at": "2027-01-04T00:00:00+08:00",
        "ends_at": "2027-01-12T00:00:00+08:00"})
    assert on_leave.status_code == 201, on_leave.get_json()
    full = both(sched.file(kind="speedy"))
    assert full["slots"] == []
    assert (full["reason"]["code"], full["reason"]["limit"]) == ("no_slot_before_speedy_limit",
                                                                 "2027-01-11T23:59:59+08:00")
    # The reason reads in the caller's language (the venue "main" for people is the main court).
    rooms_closed = sched.session_do(lambda s: s.execute(
        rules.Courtroom.__table__.update().values(is_active=False)))
    assert rooms_closed.rowcount == 2
    nowhere = scheduler.get(f"/api/v1/hearings/suggestions/explained?case_id={sched.file()['id']}",
                            headers={"Accept-Language": "en"}).get_json()
    assert nowhere["reason"]["code"] == "no_courtroom"
    assert "main court" in nowhere["reason"]["message"]
    # The same checks as the plain list: unknown case, missing case_id, another judge's case.
    assert scheduler.get("/api/v1/hearings/suggestions/explained?case_id=999999").status_code == 404
    assert scheduler.get("/api/v1/hearings/suggestions/explained").status_code == 422
    assert sched.court["judge"].get(
        f"/api/v1/hearings/suggestions/explained?case_id={late['case_id']}").status_code == 403
    # Documented, with an example of each answer; the SPEC's array endpoint keeps its schema.
    spec = scheduler.get("/api/v1/openapi.json").get_json()["paths"]
    examples = spec["/api/v1/hearings/suggestions/explained"]["get"]["responses"]["200"]["content"][
        "application/json"]["examples"]
    assert examples["none"]["value"]["reason"]["code"] == "past_speedy_limit"
    plain = spec["/api/v1/hearings/suggestions"]["get"]["responses"]["200"]["content"]["application/json"]
    assert plain["schema"]["type"] == "array"


def test_auto_scheduling_places_speedy_first_packs_rooms_and_explains_the_rest(sched, clock):
    scheduler = sched["scheduler"]
    speedy = [sched.file(kind="speedy") for _ in range(3)]
    ordinary = [sched.file(kind="ordinary", judge_id=sched.court["judge"].id) for _ in range(2)]
    stale = sched.file(kind="speedy", filed_at="2026-12-20T09:00:00+08:00")  # its 7 days are over
    response = scheduler.post("/api/v1/scheduling/auto", json={"from": "2027-01-05", "to": "2027-01-08"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    placed = {h["case_id"]: h for h in body["scheduled"]}
    assert set(placed) == {c["id"] for c in speedy + ordinary}
    # Speedy cases from Tuesday (1 day notice), back to back from opening; ordinary from Thursday (3 days).
    assert sorted(placed[c["id"]]["starts_at"] for c in speedy) == [
        "2027-01-05T08:30:00+08:00", "2027-01-05T09:00:00+08:00", "2027-01-05T09:30:00+08:00"]
    assert sorted(placed[c["id"]]["starts_at"] for c in ordinary) == [
        "2027-01-07T08:30:00+08:00", "2027-01-07T13:30:00+08:00"]  # 10:30-12:30 would cross lunch
    assert body["unscheduled"] == [{"case_id": stale["id"], "case_number": stale["number"],
                                    "reason": "speedy_limit_before_window", "detail": body["unscheduled"][0]["detail"]}]
    assert sched.count(Hearing) == 5
    # Run again: nothing is pending any more except the stale case; nothing is booked twice.
    again = scheduler.post("/api/v1/scheduling/auto", json={"from": "2027-01-05", "to": "2027-01-08"}).get_json()
    assert again["scheduled"] == [] and len(again["unscheduled"]) == 1
    assert sched.count(Hearing) == 5


def test_auto_scheduling_refuses_bad_windows_and_writes_nothing(sched):
    scheduler = sched["scheduler"]
    sched.file()
    for body, field in (({"from": "2027-01-05", "to": "2028-01-05"}, "to"),
                        ({"from": "2027-01-08", "to": "2027-01-05"}, "to"),
                        ({"from": "2027-01-01", "to": "2027-01-08"}, "from"),
                        ({"from": "2027-01-05"}, "to"),
                        ({"from": "next week", "to": "2027-01-08"}, "from")):
        response = scheduler.post("/api/v1/scheduling/auto", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["field"] == field
    dry = scheduler.post("/api/v1/scheduling/auto", json={"from": "2027-01-05", "to": "2027-01-08", "dry_run": True})
    assert len(dry.get_json()["scheduled"]) == 1
    assert sched.count(Hearing) == 0


def test_the_judges_calendar_feed(sched, client):
    case = sched.file()
    hearing = sched.book(case).get_json()
    path = f"/api/v1/judges/{sched.judge.id}/calendar.ics"
    assert client.get(path).status_code == 401
    assert client.get(path + "?token=ics_guess").status_code == 401
    assert sched.court["judge"].get(path).status_code == 403
    issued = sched.judge.post(f"/api/v1/judges/{sched.judge.id}/calendar-token")
    assert issued.status_code == 201
    url = issued.get_json()["url"]
    assert url.startswith("https://court.example.cn/api/v1/judges/")
    feed = client.get(url.removeprefix("https://court.example.cn"))
    assert feed.status_code == 200 and feed.content_type.startswith("text/calendar")
    cal = Calendar.from_ical(feed.data)
    events = [c for c in cal.walk("VEVENT")]
    assert len(events) == 1
    event = events[0]
    assert str(event["uid"]) == f"hearing-{hearing['id']}@ancillary"
    assert event.decoded("dtstart").isoformat() == "2027-01-07T01:00:00+00:00"
    assert case["number"] in str(event["summary"])
    assert "张三" not in feed.data.decode()  # no party names in a phone's calendar
    sched["scheduler"].post(f"/api/v1/hearings/{hearing['id']}/cancel", json={"reason": "延期"})
    event = Calendar.from_ical(sched.judge.get(path).data).walk("VEVENT")[0]
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 1
    # A new token replaces the old one.
    sched.judge.post(f"/api/v1/judges/{sched.judge.id}/calendar-token")
    assert client.get(url.removeprefix("https://court.example.cn")).status_code == 401
