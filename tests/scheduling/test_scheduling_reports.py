"""Utilisation per room per day (an overlap pair counted once) and the scheduling KPIs."""

import pytest


def test_utilisation_per_room_per_day_counts_an_overlap_once(sched):
    from tests.scheduling.test_scheduling_plans import serve_in_person

    # Open minutes leave out the 12:00-13:30 lunch break: main 08:30-17:30 is 450, the tribunal 08:30-17:00 420.
    for _ in range(2):  # an overlap pair, 09:00-10:00, in the tribunal room
        case = sched.file(venue=sched.tribunal)
        sched.judge.patch(f"/api/v1/cases/{case['id']}", json={"mediation_likely": True})
        serve_in_person(sched.court, case)
        assert sched.book(case, room=sched.tribunal_room).status_code == 201
    assert sched.book(sched.file(), starts="2027-01-07T08:30:00+08:00", ends="2027-01-07T17:30:00+08:00").status_code == 422
    other_judge = sched.court["judge"].id  # sched.judge sits in the tribunal at 09:00
    assert sched.book(sched.file(kind="ordinary", judge_id=other_judge), starts="2027-01-07T13:30:00+08:00",
                      ends="2027-01-07T17:30:00+08:00").status_code == 201  # 240 of 450 minutes
    report = sched["court_admin"].get("/api/v1/reports/utilization?from=2027-01-07&to=2027-01-08").get_json()
    rooms = {r["courtroom_id"]: r for r in report["rooms"]}
    tribunal_day = rooms[sched.tribunal_room["id"]]["days"][0]
    assert tribunal_day == {"date": "2027-01-07", "booked_minutes": 60, "open_minutes": 420,
                            "utilization": round(60 / 420, 4)}
    main_days = rooms[sched.main_room["id"]]["days"]
    assert [d["utilization"] for d in main_days] == [round(240 / 450, 4), 0.0]
    assert report["working_days"] == 2
    assert report["utilization"] == round(300 / (2 * 450 + 2 * 420), 4)
    bad = sched["court_admin"].get("/api/v1/reports/utilization?from=2027-01-08&to=2027-01-07")
    assert bad.status_code == 422 and bad.get_json()["field"] == "to"


def test_kpis_report_turnaround_utilisation_and_speedy_within_7_days(sched, clock):
    speedy = sched.file(kind="speedy", filed_at="2027-01-04T08:30:00+08:00")
    clock.set("2027-01-04T10:30:00+08:00")  # booked 2 hours after filing
    assert sched.book(speedy, starts="2027-01-05T09:00:00+08:00", ends="2027-01-05T09:30:00+08:00").status_code == 201
    other = sched.file(filed_at="2027-01-04T08:30:00+08:00")
    clock.set("2027-01-04T14:30:00+08:00")  # 6 hours
    assert sched.book(other, starts="2027-01-08T09:00:00+08:00", ends="2027-01-08T10:00:00+08:00").status_code == 201
    kpis = sched["court_admin"].get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-08").get_json()
    assert kpis["scheduling_turnaround_minutes_p50"] == 120
    assert kpis["scheduling_turnaround_minutes_p95"] == 360
    assert kpis["scheduled_within_3_hours_rate"] == 0.5
    assert kpis["speedy_heard_within_7_days_rate"] == 1.0
    assert 0 <= kpis["courtroom_utilization"] <= 1
    assert kpis["courtroom_utilization"] == pytest.approx(90 / (5 * 450 + 5 * 420), abs=1e-4)


def test_turnaround_counts_each_case_once_from_its_first_booking(sched, clock):
    case = sched.file(filed_at="2027-01-04T08:30:00+08:00")
    sched.file(filed_at="2027-01-04T08:30:00+08:00")  # never booked: no turnaround yet
    clock.set("2027-01-04T09:30:00+08:00")  # first booked an hour after filing
    assert sched.book(case, starts="2027-01-06T09:00:00+08:00", ends="2027-01-06T10:00:00+08:00").status_code == 201
    clock.set("2027-01-06T11:00:00+08:00")  # a further hearing for the same case, two days on
    assert sched.book(case, starts="2027-01-08T09:00:00+08:00", ends="2027-01-08T10:00:00+08:00").status_code == 201
    kpis = sched["court_admin"].get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-08").get_json()
    assert kpis["rate_counts"]["scheduled_within_3_hours_rate"] == [1, 1]
    assert kpis["scheduling_turnaround_minutes_p50"] == 60
    assert kpis["scheduling_turnaround_minutes_p95"] == 60
