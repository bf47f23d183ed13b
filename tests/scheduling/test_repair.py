"""Repairing a packed plan: a hole too short for a case is joined with another, and every rule still holds."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ancillary.scheduling import repair
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.rules import Ledger, Need, Room

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2027, 3, 4)  # a Thursday
ROOM = Room(1, "第1法庭", "main", time(8, 30), time(17, 30), True, time(12), time(13, 30))


def _at(hh: int, mm: int) -> datetime:
    return datetime.combine(DAY, time(hh, mm), TZ).astimezone(UTC)


def _need(case_id: int, judge_id: int, minutes: int, kind: str = "summary") -> Need:
    filed = datetime(2027, 2, 25, 1, 0, tzinfo=UTC)
    limit = datetime(2027, 3, 4, 15, 59, 59, tzinfo=UTC) if kind == "speedy" else None
    return Need(case_id, f"(2027)鲁1002民初{case_id}号", kind, judge_id, "main", minutes, False,
                filed + timedelta(days=90), limit, filed)


def _day_with_two_short_holes(kind: type[Ledger] = Ledger):
    """A morning 08:30-11:30 and an afternoon 13:30-17:00, each leaving 30 minutes free before its end."""
    ledger = kind([ROOM], WorkingDays({}), TZ)
    plan = [(_need(1, 11, 120), (8, 30)), (_need(2, 12, 60), (10, 30)),
            (_need(3, 13, 60), (13, 30)), (_need(4, 14, 30, "speedy"), (14, 30)),
            (_need(5, 15, 60), (15, 0)), (_need(6, 16, 60), (16, 0))]
    placed = []
    for need, (hh, mm) in plan:
        starts = _at(hh, mm)
        placed.append(repair.Placement(need, ROOM, starts, starts + timedelta(minutes=need.minutes), 0))
        repair.add(ledger, placed[-1])
    return ledger, placed


def _keeps_every_rule(ledger: Ledger, placed: list) -> None:
    for p in placed:
        repair.remove(ledger, p)
        refusal, lane = ledger.refusal(p.need, p.room.id, p.starts_at, p.ends_at)
        assert refusal is None and lane == 0, (p.need.case_id, refusal and refusal.code)
        repair.add(ledger, p)


def test_two_half_hour_holes_become_one_hour_for_a_case_by_moving_the_short_hearing_and_sliding_the_rest():
    ledger, placed = _day_with_two_short_holes()
    waiting = _need(7, 17, 60)
    not_before = {n: datetime(2027, 3, 1, tzinfo=UTC) for n in range(1, 8)}
    assert repair.earliest(ledger, waiting, [DAY], not_before[7]) is None  # neither hole alone holds an hour
    assert repair.merge_holes(ledger, waiting, placed, [DAY], not_before) is None  # nothing short beside a hole

    found = repair.slide_and_join(ledger, waiting, placed, [DAY], not_before)

    assert found is not None and (found.starts_at, found.ends_at) == (_at(16, 30), _at(17, 30))
    slots = {p.need.case_id: p.starts_at.astimezone(TZ).strftime("%H:%M") for p in placed}
    assert slots == {1: "08:30", 2: "10:30", 3: "13:30", 4: "11:30", 5: "14:30", 6: "15:30"}
    _keeps_every_rule(ledger, [*placed, found])


def test_a_slide_that_would_break_a_rule_is_not_made_and_nothing_moves():
    ledger, placed = _day_with_two_short_holes()
    # The judge of the 15:00 hearing is away until 15:00: that hearing cannot slide earlier.
    ledger.user_blocks[15].append((_at(14, 0), _at(15, 0), 1, "培训"))
    before = [(p.need.case_id, p.starts_at) for p in placed]
    not_before = {n: datetime(2027, 3, 1, tzinfo=UTC) for n in range(1, 8)}

    assert repair.slide_and_join(ledger, _need(7, 17, 60), placed, [DAY], not_before) is None

    assert [(p.need.case_id, p.starts_at) for p in placed] == before
    _keeps_every_rule(ledger, placed)
    assert repair.earliest(ledger, _need(7, 17, 60), [DAY], not_before[7]) is None
