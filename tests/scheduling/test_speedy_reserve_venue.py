"""A one-room tribunal whose speedy cases summary hearings booked a week ahead would crowd out.

The tribunal filed 20 speedy cases in December (600 minutes over about 20 working days: 30 a
day). On Monday 4 January 2027 fifty summary cases come at once, enough to fill its one room
every working day from the 7th to the 15th: each is heard for 105 minutes, so four fill a day
(8:30-12:00 and 13:30-17:00) and leave no 30-minute hole. On Wednesday the 6th four speedy cases are filed
there: their 7 days run to the 13th.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.reserve import CODE, PlannerLedger, hold
from tests.conftest import NOW
from tests.scheduling.conftest import speedy_reserve_at
from tests.scheduling.test_speedy_reserve import _auto

# These tests are of a court that keeps room for its speedy cases (150 %, the default).
pytestmark = pytest.mark.usefixtures("speedy_reserve_on")


def _filed_in_december(sched, count: int) -> None:
    days = [d for d in (date(2026, 12, 7) + timedelta(days=n) for n in range(18)) if d.weekday() < 5]
    for i in range(count):
        sched.file(kind="speedy", venue=sched.tribunal, filed_at=f"{days[i % len(days)].isoformat()}T10:00:00+08:00")


def _long_summaries(sched, count: int) -> None:
    for _ in range(count):
        case = sched.file(kind="summary", venue=sched.tribunal, judge_id=sched["judge"].id)
        answer = sched["judge"].patch(f"/api/v1/cases/{case['id']}", json={"hearing_minutes": 105})
        assert answer.status_code == 200, answer.get_json()


def _crowded_week(sched, clock) -> tuple[dict, list[dict], dict]:
    _filed_in_december(sched, 20)
    _long_summaries(sched, 36)
    week_ahead = _auto(sched, "2027-01-04", "2027-01-15")
    clock.set("2027-01-06T10:30:00+08:00")
    speedy = [sched.file(kind="speedy", venue=sched.tribunal, filed_at="2027-01-06T10:00:00+08:00")
              for _ in range(4)]
    return week_ahead, speedy, _auto(sched, "2027-01-06", "2027-01-20")


def _heard_on(sched, case_ids) -> dict[int, date]:
    def read(session):
        rows = session.execute(select(Hearing.case_id, Hearing.starts_at).where(
            Hearing.status == HearingStatus.booked, Hearing.case_id.in_(case_ids)))
        return {case_id: starts.astimezone(sched.app.config["SETTINGS"].timezone).date() for case_id, starts in rows}

    return sched.session_do(read)


def test_the_tribunal_keeps_room_for_its_speedy_cases_and_says_why_summaries_wait(sched, clock):
    week_ahead, speedy, later = _crowded_week(sched, clock)
    heard = _heard_on(sched, [c["id"] for c in speedy])
    assert sorted(heard) == sorted(c["id"] for c in speedy)
    assert all(date(2027, 1, 7) <= day <= date(2027, 1, 13) for day in heard.values()), heard
    # Summary cases the reserve kept out of the week wait, and the plan says so in words.
    held = [u for u in week_ahead["unscheduled"] if u["reason"] == CODE]
    assert held, week_ahead["unscheduled"]
    assert all("kept for speedy cases" in u["detail"] and "_" not in u["detail"] for u in held)
    assert not [u for u in later["unscheduled"] if u["case_id"] in heard]


def test_with_the_reserve_off_the_summaries_take_the_week_and_the_speedy_cases_miss(sched, app, clock):
    with speedy_reserve_at(app, 0):
        week_ahead, speedy, later = _crowded_week(sched, clock)
    assert not [u for u in week_ahead["unscheduled"] if u["reason"] == CODE]
    heard = _heard_on(sched, [c["id"] for c in speedy])
    assert not [day for day in heard.values() if day <= date(2027, 1, 13)]
    reasons = {u["case_id"]: u["reason"] for u in later["unscheduled"]}
    assert all(reasons[c["id"]] == "no_slot_before_speedy_limit" for c in speedy)


def test_booking_by_hand_may_still_use_the_reserved_time(sched):
    _filed_in_december(sched, 20)
    _long_summaries(sched, 36)
    week_ahead = _auto(sched, "2027-01-04", "2027-01-15")
    waiting = next(u for u in week_ahead["unscheduled"] if u["reason"] == CODE)
    taken = {s["starts_at"][11:16] for s in week_ahead["scheduled"] if s["starts_at"].startswith("2027-01-13")}
    slots = {"08:30": "10:15", "10:15": "12:00", "13:30": "15:15", "15:15": "17:00"}
    (free,) = slots.keys() - taken
    ends = slots[free]
    answer = sched.book({"id": waiting["case_id"]}, starts=f"2027-01-13T{free}:00+08:00",
                        ends=f"2027-01-13T{ends}:00+08:00", room=sched.tribunal_room)
    assert answer.status_code == 201, answer.get_json()


@pytest.mark.parametrize("percent", [0, 150])
def test_nothing_is_kept_at_a_venue_without_speedy_filings(sched, app, percent):
    with speedy_reserve_at(app, percent):
        for _ in range(8):
            sched.file(kind="summary", venue=sched.tribunal)
        plan = _auto(sched, "2027-01-04", "2027-01-15")
    assert len(plan["scheduled"]) == 8 and not plan["unscheduled"]


def _kept_at_the_tribunal(sched, app) -> dict[date, int]:
    settings = app.config["SETTINGS"]

    def kept(session):
        ledger = PlannerLedger.load(session, date(2027, 1, 4), date(2027, 1, 22), tz=settings.timezone)
        return hold(session, ledger, date(2027, 1, 4), date(2027, 1, 22), NOW, settings)

    return {day: minutes for (venue, day), minutes in sched.session_do(kept).items() if venue == sched.tribunal}


def test_a_heavy_speedy_intake_keeps_at_most_half_of_a_day(sched, app):
    for day in ("2026-12-24", "2026-12-25", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"):
        for _ in range(10):  # 300 speedy minutes a working day, more than half the room's 420
            sched.file(kind="speedy", venue=sched.tribunal, filed_at=f"{day}T10:00:00+08:00")
    tribunal = _kept_at_the_tribunal(sched, app)
    assert max(tribunal.values()) == 210  # half of the room's 420 open minutes
    assert min(tribunal.values()) < 210  # tomorrow carries only today's filings: less


def test_cases_filed_in_one_go_keep_nothing_and_a_dense_week_is_packed_full(sched, app):
    for _ in range(30):  # a backlog loaded on one day is not a rate of filings still to come
        sched.file(kind="speedy", venue=sched.tribunal, filed_at="2026-12-31T10:00:00+08:00")
    assert not _kept_at_the_tribunal(sched, app)
    _long_summaries(sched, 8)
    plan = _auto(sched, "2027-01-04", "2027-01-15")
    assert not [u for u in plan["unscheduled"] if u["reason"] == CODE], plan["unscheduled"]
