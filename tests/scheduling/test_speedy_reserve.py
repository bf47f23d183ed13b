"""Speedy cases around a closure: the planner keeps room for them, and the KPI counts honestly.

The main court filed 20 speedy cases in December (30 speedy minutes a working day): the
reserve is sized from that.

The court is shut from Saturday 9 to Sunday 17 January 2027 (a nine-day closure like the
Spring Festival's). A speedy case filed on Thursday 7 January can only be heard on Friday 8;
one filed on Friday 8 has no working day in its 7 days at all.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from ancillary.cases.models import Case, CaseKind
from ancillary.config import Settings, SettingsError
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.reserve import shares
from ancillary.scheduling.rules import Ledger, Need
from tests.conftest import NOW
from tests.scheduling.conftest import speedy_reserve_at

CLOSED = [date(2027, 1, 11) + timedelta(days=n) for n in range(5)]  # Mon 11 - Fri 15, with both weekends


# These tests are of a court that keeps room for its speedy cases (150 %, the default).
pytestmark = pytest.mark.usefixtures("speedy_reserve_on")


def _close(sched) -> None:
    admin = sched["court_admin"]
    for day in CLOSED:
        answer = admin.client.put(f"/api/v1/court-days/{day.isoformat()}", json={"is_working": False, "name": "春节"},
                                  headers={"Authorization": f"Bearer {admin.token}"})
        assert answer.status_code in (200, 201), answer.get_json()


def _auto(sched, first: str, last: str) -> dict:
    answer = sched["scheduler"].post("/api/v1/scheduling/auto", json={"from": first, "to": last})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def _history(sched, count: int, venue: str = "main") -> None:
    """``count`` speedy cases filed at ``venue`` in December: the demand the reserve is sized from."""
    days = [date(2026, 12, 7) + timedelta(days=n) for n in range(18)]
    days = [d for d in days if d.weekday() < 5]
    for i in range(count):
        sched.file(kind="speedy", venue=venue, filed_at=f"{days[i % len(days)].isoformat()}T10:00:00+08:00")


def _week_before_the_closure(sched, clock) -> tuple[list[dict], list[dict], dict]:
    """Summary cases fill the days before the closure; three speedy cases come on the 7th, one on the 8th."""
    _close(sched)
    _history(sched, 20)  # 600 speedy minutes over the 20 working days before the 4th: 30 a day
    judges = [sched.judge.id, sched.court["judge"].id]
    for i in range(16):
        sched.file(kind="summary", judge_id=judges[i % 2])
    _auto(sched, "2027-01-04", "2027-01-29")
    clock.set("2027-01-07T10:30:00+08:00")
    speedy = [sched.file(kind="speedy", judge_id=judges[i % 2], filed_at="2027-01-07T10:00:00+08:00")
              for i in range(3)]
    on_the_7th = _auto(sched, "2027-01-07", "2027-01-29")
    clock.set("2027-01-08T10:30:00+08:00")
    last = [sched.file(kind="speedy", judge_id=judges[0], filed_at="2027-01-08T10:00:00+08:00")]
    on_the_8th = _auto(sched, "2027-01-08", "2027-01-29")
    return speedy, last, {"7th": on_the_7th, "8th": on_the_8th}


def _check_every_rule(sched, app) -> list:
    """Every booked hearing passes booking's own rules (no reserve there); answers (case_id, local start)."""
    def check(session):
        settings = app.config["SETTINGS"]
        ledger = Ledger.load(session, date(2027, 1, 4), date(2027, 2, 28), tz=settings.timezone)
        found = []
        for h in session.scalars(select(Hearing).where(Hearing.status == HearingStatus.booked)):
            refusal, lane = ledger.refusal(Need.of(session, h.case, settings), h.courtroom_id, h.starts_at, h.ends_at)
            assert refusal is None and lane == h.lane, (h.case.number, refusal and refusal.code)
            found.append((h.case_id, h.starts_at.astimezone(settings.timezone)))
        return found

    return sched.session_do(check)


def test_the_days_before_a_closure_keep_room_for_speedy_cases(sched, app, clock):
    speedy, last, runs = _week_before_the_closure(sched, clock)
    booked = dict(_check_every_rule(sched, app))
    for case in speedy:  # each heard on Friday 8, the one working day of its 7
        assert booked[case["id"]].date() == date(2027, 1, 8), booked.get(case["id"])
    # The summary cases left room on the 8th, which every window before the closure reaches,
    # and went after the closure.
    tz = app.config["SETTINGS"].timezone
    summaries = sched.session_do(lambda s: set(s.scalars(select(Case.id).where(Case.kind == CaseKind.summary))))
    others = [at for case_id, at in booked.items() if case_id in summaries]
    assert all(at.date() not in CLOSED for at in others)
    assert sum(1 for at in others if at.date() == date(2027, 1, 8)) <= 5  # 60 min each of 450: 150 left
    assert any(at.date() >= date(2027, 1, 18) for at in others)
    # The case filed on the 8th cannot be heard in time, and the plan says why in words.
    (left,) = [u for u in runs["8th"]["unscheduled"] if u["case_id"] == last[0]["id"]]
    assert left["reason"] == "court_closed_before_speedy_limit"
    assert "2027-01-15" in left["detail"]
    assert tz.key == "Asia/Shanghai"


def test_without_the_reserve_summary_hearings_take_the_last_day_and_speedy_cases_miss(sched, app, clock):
    with speedy_reserve_at(app, 0):
        speedy, _, runs = _week_before_the_closure(sched, clock)
    booked = dict(_check_every_rule(sched, app))
    missed = [c for c in speedy if c["id"] not in booked]
    assert missed, "with the reserve off the 8th is full of summary hearings"
    reasons = {u["case_id"]: u["reason"] for u in runs["7th"]["unscheduled"]}
    assert all(reasons[c["id"]] == "no_slot_before_speedy_limit" for c in missed)


def test_the_kpi_counts_every_speedy_case_and_beside_it_those_the_calendar_allowed(sched, app, clock):
    _week_before_the_closure(sched, clock)
    clock.set("2027-01-20T10:00:00+08:00")  # every limit has passed
    kpis = sched["court_admin"].get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-17").get_json()
    assert kpis["rate_counts"]["speedy_heard_within_7_days_rate"] == [3, 4]
    assert kpis["speedy_heard_within_7_days_rate"] == pytest.approx(0.75)
    assert kpis["rate_counts"]["speedy_placeable_heard_within_7_days_rate"] == [3, 3]
    assert kpis["speedy_placeable_heard_within_7_days_rate"] == 1.0
    assert kpis["speedy_unplaceable"] == 1
    figures = kpis["figures"]
    assert figures["speedy_placeable_heard_within_7_days_rate"]["met"] is True
    assert figures["speedy_heard_within_7_days_rate"]["met"] is False


def test_a_day_before_a_closure_expects_the_demand_of_every_window_that_reaches_it(sched, app):
    settings = app.config["SETTINGS"]
    _close(sched)

    def shares_of(session):
        working = WorkingDays.load(session, date(2026, 12, 1), date(2027, 2, 28))
        return shares(working, date(2027, 1, 4), date(2027, 1, 4), date(2027, 1, 29), settings)

    found = sched.session_do(shares_of)
    # Filed Mon 4 (5-8), Tue 5 (6-8), Wed 6 (7, 8), Thu 7 (8); filed Fri 8 has no working day.
    assert found[date(2027, 1, 8)] == pytest.approx(1 / 4 + 1 / 3 + 1 / 2 + 1)
    assert found[date(2027, 1, 5)] == pytest.approx(1 / 4)
    assert not any(day in found for day in CLOSED)
    # After the closure an ordinary week: a working day carries about one filing day.
    assert found[date(2027, 1, 26)] == pytest.approx(1.0)
    assert NOW.date() == date(2027, 1, 4)


@pytest.mark.parametrize("env, message", [
    ({"ANCILLARY_SPEEDY_RESERVE_PERCENT": "many"}, "ANCILLARY_SPEEDY_RESERVE_PERCENT"),
    ({"ANCILLARY_SPEEDY_RESERVE_PERCENT": "600"}, "ANCILLARY_SPEEDY_RESERVE_PERCENT must be 0-500"),
    ({"ANCILLARY_SPEEDY_DEMAND_DAYS": "3"}, "ANCILLARY_SPEEDY_DEMAND_DAYS 7-365"),
])
def test_absurd_reserve_settings_refuse_to_start(env, message):
    base = {"ANCILLARY_SECRET_KEY": "x", "ANCILLARY_QR_KEYS": "K1:reserve-test-key-0123456789"}
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({**base, **env})
    off = Settings.from_env({**base, "ANCILLARY_SPEEDY_RESERVE_PERCENT": "0", "ANCILLARY_SPEEDY_DEMAND_DAYS": "14"})
    assert (off.speedy_reserve_percent, off.speedy_demand_days) == (0, 14)
