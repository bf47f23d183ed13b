"""Auto-scheduling over more work than the rooms hold: every placement keeps every rule."""

from datetime import date

from sqlalchemy import select

from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.rules import Ledger, Need

KINDS = ["speedy", "summary", "ordinary", "enforcement", "speedy", "summary"]


def test_a_packed_overfull_window_keeps_every_rule_and_explains_the_rest(sched, app):
    judges = [sched.judge.id, sched.court["judge"].id]
    filed = [sched.file(kind=KINDS[i % len(KINDS)], judge_id=judges[i % 2]) for i in range(40)]
    response = sched["scheduler"].post("/api/v1/scheduling/auto", json={"from": "2027-01-05", "to": "2027-01-08"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    placed = {h["case_id"] for h in body["scheduled"]}
    unplaced = {u["case_id"]: u for u in body["unscheduled"]}
    assert placed and unplaced  # more work than the main room holds in four days
    assert placed | set(unplaced) == {c["id"] for c in filed} and not placed & set(unplaced)
    assert all(u["reason"] and u["detail"] for u in unplaced.values())
    # Every speedy case is placed, inside its 7 days (the rule check below includes the limit).
    assert {c["id"] for c in filed if c["kind"] == "speedy"} <= placed

    def check(session):
        settings = app.config["SETTINGS"]
        ledger = Ledger.load(session, date(2027, 1, 5), date(2027, 1, 8), tz=settings.timezone)
        hearings = list(session.scalars(select(Hearing).where(Hearing.status == HearingStatus.booked)))
        assert {h.case_id for h in hearings} == placed
        for h in hearings:
            need = Need.of(session, h.case, settings)
            refusal, lane = ledger.refusal(need, h.courtroom_id, h.starts_at, h.ends_at)
            assert refusal is None, (h.case.number, refusal.code)
            assert lane == h.lane
            assert (h.ends_at - h.starts_at).total_seconds() == need.minutes * 60

    sched.session_do(check)
