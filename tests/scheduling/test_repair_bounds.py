"""The repair search is bounded: a case the speedy reserve holds back is not repaired, a case that fails like
another takes its reason, and past the plan's budget a case is left with a reason that says so."""

from datetime import UTC, datetime, timedelta

import pytest

from ancillary.scheduling import auto, packing, repair
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.reserve import CODE, PlannerLedger
from tests.scheduling.test_repair import DAY, ROOM, TZ, _at, _day_with_two_short_holes, _keeps_every_rule, _need

NOT_BEFORE = datetime(2027, 3, 1, tzinfo=UTC)


def _kept_day(kept: int) -> PlannerLedger:
    """The one room's Thursday (450 open minutes) with ``kept`` of them kept for speedy cases."""
    ledger = PlannerLedger([ROOM], WorkingDays({}), TZ)
    ledger.kept[("main", DAY)] = kept
    return ledger


def _reason(ledger, need) -> str:
    return auto._reason(need, ledger, DAY, DAY, NOT_BEFORE, TZ)[0]


def test_a_case_the_reserve_holds_back_gets_no_repair_move_and_says_the_room_is_kept(monkeypatch):
    ledger = _kept_day(420)  # 450 - 60 < 420: no hour-long hearing that can wait is planned that day

    def no_moves(*args):
        raise AssertionError("a held-back case was repaired")

    for move in ("move_to_make_room", "merge_holes", "slide_and_join"):
        monkeypatch.setattr(repair, move, no_moves)
    held, same = _need(1, 11, 60), _need(2, 11, 60)  # the same judge, length and limits
    not_before = {1: NOT_BEFORE, 2: NOT_BEFORE}

    placed, rest = packing.pack(ledger, [held, same], [DAY], not_before)

    assert placed == [] and rest == [held, same]
    # The second case took the first's fate without a search of its own, and its reason too.
    assert [_reason(ledger, n) for n in rest] == [CODE, CODE]
    assert ledger.asked <= 2  # the day was answered once per case, not slot by slot


def test_a_case_due_within_a_week_is_not_held_back_with_one_that_can_wait():
    ledger = _kept_day(420)
    waits = _need(1, 11, 60)
    due = _need(2, 11, 60)
    due.deadline = _at(8, 0) + timedelta(days=5)  # its statutory deadline: next Tuesday
    not_before = {1: NOT_BEFORE, 2: NOT_BEFORE}

    placed, rest = packing.pack(ledger, [waits, due], [DAY], not_before)

    assert [p.need.case_id for p in placed] == [2] and rest == [waits]
    assert _reason(ledger, waits) == CODE


def test_past_the_budget_a_case_is_left_with_that_reason_and_nothing_moves(monkeypatch):
    ledger, placed = _day_with_two_short_holes(PlannerLedger)
    before = [(p.need.case_id, p.starts_at) for p in placed]
    waiting = _need(7, 17, 60)  # an hour: neither half-hour hole holds it without moving others
    not_before = {n: NOT_BEFORE for n in range(1, 8)}
    monkeypatch.setattr(packing, "REPAIR_BUDGET", 0)

    rest = packing._repair(ledger, [waiting], placed, [DAY], not_before)

    assert rest == [waiting] and ledger.unsearched == {7}
    assert [(p.need.case_id, p.starts_at) for p in placed] == before
    code, detail = auto._reason(waiting, ledger, DAY, DAY, NOT_BEFORE, TZ)
    assert code == auto.SEARCH_LIMIT and "next plan" in detail


def test_within_the_budget_the_same_case_is_placed_by_moving_the_others():
    ledger, placed = _day_with_two_short_holes(PlannerLedger)
    waiting = _need(7, 17, 60)
    not_before = {n: NOT_BEFORE for n in range(1, 8)}

    rest = packing._repair(ledger, [waiting], placed, [DAY], not_before)

    assert rest == [] and not ledger.unsearched
    mine = next(p for p in placed if p.need.case_id == 7)
    assert (mine.starts_at, mine.ends_at) == (_at(16, 30), _at(17, 30))
    _keeps_every_rule(ledger, placed)


@pytest.mark.parametrize("kept, placed_count", [(0, 7), (150, 5)])
def test_the_reserve_keeps_its_minutes_when_the_day_is_packed(kept, placed_count):
    """Eight hour-long cases for a 450-minute day (seven fit): the packing stops where the kept minutes begin."""
    ledger = _kept_day(kept)
    needs = [_need(n, 10 + n, 60) for n in range(1, 9)]
    not_before = {n.case_id: NOT_BEFORE for n in needs}

    placed, rest = packing.pack(ledger, needs, [DAY], not_before)

    assert len(placed) == placed_count
    assert ledger.venue_free("main", DAY) >= kept
    assert all(_reason(ledger, n) == (CODE if kept else "no_free_slot") for n in rest)


def test_a_speedy_case_whose_seven_days_ran_out_is_searched_for_by_nothing_and_changes_no_other_placement(
        monkeypatch):
    """Its 7 days ended last night: every slot would be refused by its limit, so none is asked, no move is
    tried for it, and the others are placed exactly as when it was searched for slot by slot."""
    late = _need(1, 11, 30, "speedy")
    late.speedy_limit = _at(0, 0) - timedelta(seconds=1)
    others = [_need(n, 10 + n, 60 + 30 * (n % 2)) for n in range(2, 10)]  # more than the day holds
    not_before = {n: NOT_BEFORE for n in range(2, 10)} | {1: _at(8, 0)}

    def plan(searched: bool):
        if searched:
            monkeypatch.setattr(packing, "out_of_time", lambda need, not_before: False)
        ledger = PlannerLedger([ROOM], WorkingDays({}), TZ)
        asked = []
        refusal = ledger.refusal

        def recording(need, *args):
            asked.append(need.case_id)
            return refusal(need, *args)

        ledger.refusal = recording
        placed, rest = packing.pack(ledger, [late, *others], [DAY], not_before)
        return ledger, [(p.need.case_id, p.starts_at) for p in placed], [n.case_id for n in rest], asked

    ledger, placed, rest, asked = plan(searched=False)
    _, placed_searched, rest_searched, asked_searched = plan(searched=True)

    assert 1 in rest and 1 not in asked and 1 in asked_searched
    assert (placed, rest) == (placed_searched, rest_searched) and len(placed) >= 5
    code, _ = auto._reason(late, ledger, DAY, DAY, not_before[1], TZ)
    assert code == "speedy_limit_before_window"
