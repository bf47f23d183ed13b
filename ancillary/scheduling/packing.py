"""Packing pending cases into room-days: urgent first, then best-fit decreasing, then repair.

The planner walks the window day by day and fills each room from its opening. At
each point it takes, among the cases allowed to start there, an urgent one (a speedy
case, or one whose last allowed day falls inside the window: the nearest limit first),
else the longest hearing that still fits what is left of the room's day (best-fit
decreasing by duration: long hearings first, the 30- and 60-minute ones fill the rest,
so no room keeps a hole a pending case could fill). Every slot is asked of
``Ledger.refusal``, the one rule book that booking uses, so a planned slot is a slot
booking accepts and the day counting, working days, lunch breaks and blockings hold.

Then a repair pass gives every case still unplaced its earliest feasible slot anywhere
in the window (holes the judges' timetables left, and the second lane of
overlap-eligible tribunal hearings), and tries to free such a slot by moving one
placed hearing of the same length to another free slot (a move that fills a hole).

A case that cannot end by its limit even if it started at the first instant allowed
(``out_of_time``: a speedy case whose 7 days ran out while it waited) is never offered a
slot nor searched for: every slot would be refused by its limit. It still counts in the
urgent demand of ``Pool.force_for``, as before, and gets its reason in the plan.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from ancillary.scheduling import repair
from ancillary.scheduling.repair import Placement
from ancillary.scheduling.reserve import PlannerLedger
from ancillary.scheduling.rules import Ledger, Need, Room

# The slot checks (``PlannerLedger.asked``) the repair moves of one plan may make. A dense month's repair
# makes at most about 50,000 (bench/scheduling.py --only dense); past the budget a case still gets
# its earliest free slot, and a speedy case the slot of a case that can wait, but no more moves
# of other hearings: it is left with the reason ``search_limit_reached`` for the next plan.
REPAIR_BUDGET = 200_000
JUDGE_CODES = frozenset({"judge_busy", "judge_unavailable"})
CASE_CODES = frozenset({"past_speedy_limit", "past_deadline"})


def out_of_time(need: Need, not_before: dict[int, datetime]) -> bool:
    """Whether ``need``'s hearing would end after its limit even if it started at the first instant allowed."""
    return not_before[need.case_id] + timedelta(minutes=need.minutes) > need.latest


class Pool:
    """The cases of one venue still to place, by length, each length's list by urgency."""

    def __init__(self, needs: list[Need], not_before: dict[int, datetime], urgent_until: datetime):
        self.not_before = not_before
        self.out_of_time = {n.case_id for n in needs if out_of_time(n, not_before)}  # offered no slot
        self.urgent = sorted((n for n in needs if n.kind == "speedy" or n.latest <= urgent_until), key=_priority)
        self.by_minutes: dict[int, list[Need]] = defaultdict(list)
        for need in sorted(needs, key=_priority):
            self.by_minutes[need.minutes].append(need)
        self.lengths = sorted(self.by_minutes, reverse=True)
        self.forced: list[Need] = []

    @property
    def empty(self) -> bool:
        return not any(self.by_minutes.values())

    def take(self, need: Need) -> None:
        self.by_minutes[need.minutes].remove(need)
        for group in (self.urgent, self.forced):
            if need in group:
                group.remove(need)

    def force_for(self, window: Window, today: int) -> None:
        """The urgent cases that must be heard on the window's day ``today`` (its index) so the rest still fit
        before their limits.

        Deferring an urgent case keeps it as a 30- or 60-minute filler for a later hole, but
        the cases due by each later day must fit the rooms' time until then (taken at 80%,
        for the judges' timetables); whatever exceeds that is heard today, nearest limit first.
        """
        capacity, required, due = 0, 0, 0
        ends, room_minutes = window.ends[today:], window.room_minutes[today + 1:]
        urgent, index = self.urgent, 0
        for position, end in enumerate(ends):
            while index < len(urgent) and urgent[index].latest < end:
                due += urgent[index].minutes
                index += 1
            if position:
                capacity += room_minutes[position - 1]
            required = max(required, due - capacity)
        self.forced, total = [], 0
        for need in urgent:
            if total >= required:
                break
            self.forced.append(need)
            total += need.minutes

    def fillable(self, minutes: int, without: Need) -> bool:
        """Whether ``minutes`` can be filled exactly by lengths still in the pool (0 always can)."""
        reachable = {0}
        for length in self.lengths:
            count = len(self.by_minutes[length]) - (without.minutes == length)
            for _ in range(min(count, minutes // length)):
                reachable |= {r + length for r in reachable if r + length <= minutes}
        return minutes in reachable

    def candidates(self, at: datetime, room_left: int):
        """Cases that may start at ``at`` and fit ``room_left`` minutes, in the order to try them.

        Forced cases first; then the longest length whose leftover the pool can still fill
        exactly (best-fit decreasing), then the other lengths, longest first.
        """
        skip = self.out_of_time
        for need in self.forced:
            if need.minutes <= room_left and self.not_before[need.case_id] <= at and need.case_id not in skip:
                yield need
        fitting = [m for m in self.lengths if m <= room_left and self.by_minutes[m]]
        exact = [m for m in fitting if self.fillable(room_left - m, self.by_minutes[m][0])]
        for minutes in exact + [m for m in fitting if m not in exact]:
            for need in self.by_minutes[minutes]:
                if self.not_before[need.case_id] <= at and need.case_id not in skip:
                    yield need


class Window:
    """The window's days as ``force_for`` reads them, worked out once per venue: where each day
    ends, and the venue's room minutes that day (taken at 80 %)."""

    def __init__(self, ledger: Ledger, days: list[date], rooms: list[Room]):
        self.ends = [datetime.combine(d + timedelta(days=1), time(0), ledger.tz) for d in days]
        self.room_minutes = [sum(ledger.open_minutes(r.id, d) for r in rooms) * 0.8 for d in days]


def _priority(need: Need):
    return need.kind != "speedy", need.latest, need.filed_at, need.case_id


def _segment_end(ledger: Ledger, room: Room, day: date, at: datetime, closes: datetime) -> datetime:
    """Where the stretch from ``at`` ends: the room's lunch break if it starts later, else closing time."""
    lunch = ledger.lunch(room, day) if hasattr(ledger, "lunch") else None
    if lunch is not None and at < lunch[0]:
        return lunch[0]
    return closes


def _choose(ledger: Ledger, pool: Pool, room: Room, at: datetime, ends: datetime):
    """The placement to make at ``at`` in ``room``, or the next instant worth trying (or None)."""
    busy_judges: set[int] = set()
    room_fits = repair.span(ends - at)
    next_at = None
    for need in pool.candidates(at, room_fits):
        if need.judge_id in busy_judges or need.minutes > room_fits:
            continue
        ends_at = at + timedelta(minutes=need.minutes)
        refusal, lane = ledger.refusal(need, room.id, at, ends_at)
        if refusal is None:
            return Placement(need, room, at, ends_at, lane)
        if refusal.code in JUDGE_CODES:
            busy_judges.add(need.judge_id)
        elif refusal.code not in CASE_CODES:
            room_fits = need.minutes - 1  # the room refuses this length here; shorter ones may still fit
        if refusal.resume_at is not None and refusal.resume_at > at:
            next_at = refusal.resume_at if next_at is None else min(next_at, refusal.resume_at)
    return next_at


def _fill_day(ledger: Ledger, pool: Pool, rooms: list[Room], day: date) -> list[Placement]:
    """Fill the venue's rooms on ``day`` together: always the room whose next free instant is earliest."""
    if not ledger.working(day):
        return []
    cursors = {room.id: ledger.opening(room, day)[0] for room in rooms}
    by_id = {room.id: room for room in rooms}
    placed = []
    while cursors:
        room_id = min(cursors, key=lambda r: (cursors[r], r))
        room, at = by_id[room_id], cursors[room_id]
        closes = ledger.opening(room, day)[1]
        choice = _choose(ledger, pool, room, at, _segment_end(ledger, room, day, at, closes))
        if isinstance(choice, Placement):
            repair.add(ledger, choice)
            pool.take(choice.need)
            placed.append(choice)
            cursors[room_id] = choice.ends_at
        elif choice is None or choice >= closes:
            lunch = _segment_end(ledger, room, day, at, closes)
            if lunch < closes:  # nothing more before lunch: carry on after it
                cursors[room_id] = ledger.lunch(room, day)[1]
            else:
                del cursors[room_id]
        else:
            cursors[room_id] = choice
    return placed


def pack(ledger: PlannerLedger, needs: list[Need], days: list[date], not_before: dict[int, datetime]) -> tuple[
        list[Placement], list[Need]]:
    """Place what fits of ``needs`` (already in priority order) over ``days``; return placements and the rest."""
    placed: list[Placement] = []
    if days:
        urgent_until = datetime.combine(days[-1] + timedelta(days=1), time(0), ledger.tz)
        by_venue: dict[str, list[Need]] = defaultdict(list)
        for need in needs:
            by_venue[need.venue].append(need)
        for venue, group in by_venue.items():
            pool = Pool(group, not_before, urgent_until)
            rooms = ledger.rooms_for(venue)
            window = Window(ledger, days, rooms)
            for position, day in enumerate(days):
                if pool.empty:  # every case of the venue is placed: the days left have nothing to fill
                    break
                pool.force_for(window, position)
                placed.extend(_fill_day(ledger, pool, rooms, day))
    return placed, _repair(ledger, needs, placed, days, not_before)


def _fails_like(ledger: PlannerLedger, need: Need, failed: list[Need], last: date, not_before) -> bool:
    """Whether a case that failed, no less flexible than ``need`` (the same judge, length and venue), answers
    for it: ``need`` fails too. A case the speedy reserve held back answers only for those it binds
    on every day of the window (a case due within 7 days of a day passes the reserve there)."""
    for other in failed:
        if not_before[other.case_id] <= not_before[need.case_id] and other.latest >= need.latest:
            if other.case_id in ledger.held_back:
                if not ledger.binds(need, last):
                    continue
                ledger.held_back.add(need.case_id)
            elif other.case_id in ledger.unsearched:
                ledger.unsearched.add(need.case_id)
            return True
    return False


def _by_moves(ledger: PlannerLedger, need: Need, placed: list[Placement], days: list[date], not_before,
              spent: bool) -> Placement | None:
    """A slot for ``need`` freed by moving placed hearings; none for a case the speedy reserve holds back,
    nor once the plan's repair budget is spent (the case is then marked as not searched)."""
    if need.case_id in ledger.held_back:
        return None
    if spent:
        ledger.unsearched.add(need.case_id)
        return None
    return (repair.move_to_make_room(ledger, need, placed, days, not_before)
            or repair.merge_holes(ledger, need, placed, days, not_before)
            or repair.slide_and_join(ledger, need, placed, days, not_before))


def _repair(ledger: PlannerLedger, needs: list[Need], placed: list[Placement], days: list[date],
            not_before) -> list[Need]:
    """Give each case the packing left its earliest free slot, or one a repair move frees; returns those left.

    A case the speedy reserve held back gets no repair move: its refusal is the reserve's, which
    no move of other hearings inside the venue lifts; it waits for a later plan, when the
    speedy demand of its days is known. Repair moves are for holes, not for the reserve. Past
    ``REPAIR_BUDGET`` slot checks a case gets its earliest free slot or an eviction only.
    """
    done = {p.need.case_id for p in placed}
    asked_before = ledger.asked
    rest: list[Need] = []
    failed: dict[tuple, list[Need]] = defaultdict(list)  # a case no more flexible than one that failed fails too
    for need in needs:
        if need.case_id in done:
            continue
        key = (need.venue, need.judge_id, need.minutes, need.eligible)
        if days and _fails_like(ledger, need, failed[key], days[-1], not_before):
            rest.append(need)
            continue
        if out_of_time(need, not_before):  # every slot, and every move's, would be refused by its limit
            failed[key].append(need)
            rest.append(need)
            continue
        found = repair.earliest(ledger, need, days, not_before[need.case_id])
        if found is not None:
            repair.add(ledger, found)
        else:
            spent = ledger.asked - asked_before >= REPAIR_BUDGET
            found = _by_moves(ledger, need, placed, days, not_before, spent)
        if found is None:
            evicted_ok, evicted = repair.evict_for_speedy(ledger, need, placed, days, not_before)
            if evicted_ok:
                rest.extend([evicted] if evicted else [])
                continue
            failed[key].append(need)
            rest.append(need)
        else:
            placed.append(found)
    return rest
