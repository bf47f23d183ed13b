"""Repair moves for a packed plan: fill holes by moving, joining and evicting placed hearings.

Every move asks ``Ledger.refusal`` of each slot it makes and puts back what it took when
a step is refused, so a repaired plan keeps every rule the packing kept.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ancillary.scheduling.rules import Booked, Ledger, Need, Room


@dataclass
class Placement:
    need: Need
    room: Room
    starts_at: datetime
    ends_at: datetime
    lane: int


def span(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def add(ledger: Ledger, p: Placement) -> None:
    ledger.add(Booked(None, p.need.case_id, p.room.id, p.need.judge_id, p.starts_at, p.ends_at, p.lane,
                      p.need.eligible))


def remove(ledger: Ledger, p: Placement) -> None:
    day = ledger.local_day(p.starts_at)
    for index, key in ((ledger.by_room, (p.room.id, day)), (ledger.by_judge, (p.need.judge_id, day))):
        index[key] = [b for b in index[key] if b.case_id != p.need.case_id]
    if p.lane == 0:
        ledger.used_minutes[(p.room.id, day)] -= p.need.minutes


def earliest(ledger: Ledger, need: Need, days: list[date], not_before: datetime) -> Placement | None:
    """``need``'s earliest feasible slot over ``days`` (the plain earliest-fit rule)."""
    found = ledger.first_slot(need, [d for d in days if d >= ledger.local_day(not_before)], not_before)
    if found is None:
        return None
    room, starts_at, ends_at, lane = found
    return Placement(need, room, starts_at, ends_at, lane)


def gaps(ledger: Ledger, venue: str, days: list[date], minutes: int) -> list[tuple[Room, datetime, datetime]]:
    """Stretches of at least ``minutes`` in the venue's rooms with no hearing in the first lane (nor lunch)."""
    found = []
    for room in ledger.rooms_for(venue):
        for day in days:
            if not ledger.working(day):
                continue
            at, closes = ledger.opening(room, day)
            busy = [(b.starts_at, b.ends_at) for b in ledger.by_room.get((room.id, day), ()) if b.lane == 0]
            lunch = ledger.lunch(room, day)
            for starts, ends in sorted([*busy, lunch] if lunch else busy):
                if span(starts - at) >= minutes:
                    found.append((room, at, starts))
                at = max(at, ends)
            if span(closes - at) >= minutes:
                found.append((room, at, closes))
    return found


def into_gap(ledger: Ledger, need: Need, gaps) -> Placement | None:
    length = timedelta(minutes=need.minutes)
    for room, starts, ends in gaps:
        if ends - starts < length:
            continue
        for at in (starts, ends - length):
            refusal, lane = ledger.refusal(need, room.id, at, at + length)
            if refusal is None and lane == 0:
                return Placement(need, room, at, at + length, lane)
    return None


def move_to_make_room(ledger: Ledger, need: Need, placed: list[Placement], days, not_before) -> Placement | None:
    """Free a slot for ``need`` by moving one placed hearing of the same venue and length into a hole."""
    found = gaps(ledger, need.venue, days, need.minutes)
    if not found:
        return None
    for index, other in enumerate(placed):
        if (other.need.venue != need.venue or other.need.minutes != need.minutes or other.lane != 0
                or other.need.judge_id == need.judge_id or not_before[need.case_id] > other.starts_at):
            continue
        moved = into_gap(ledger, other.need, [g for g in found if g[1] >= not_before[other.need.case_id]])
        if moved is None:
            continue
        remove(ledger, other)
        refusal, lane = ledger.refusal(need, other.room.id, other.starts_at, other.ends_at)
        if refusal is None:
            add(ledger, moved)
            placed[index] = moved
            mine = Placement(need, other.room, other.starts_at, other.ends_at, lane)
            add(ledger, mine)
            return mine
        add(ledger, other)
    return None


def by_room_day(ledger: Ledger, placed: list[Placement]) -> dict[tuple[int, date], list[tuple[int, Placement]]]:
    """The placed first-lane hearings by room and local day, each list in the order of ``placed``.

    A repair call looks up the hearings around each hole here instead of scanning every
    placement once per hole; it is built afresh per call, since a move changes ``placed``.
    """
    found: dict[tuple[int, date], list[tuple[int, Placement]]] = defaultdict(list)
    for index, p in enumerate(placed):
        if p.lane == 0:
            found[(p.room.id, ledger.local_day(p.starts_at))].append((index, p))
    return found


def beside(around, ledger: Ledger, room: Room, starts: datetime, ends: datetime):
    """Placed first-lane hearings of ``room`` that end where the hole starts or start where it ends."""
    for index, other in around.get((room.id, ledger.local_day(starts)), ()):
        if other.ends_at == starts or other.starts_at == ends:
            yield index, other


def merge_holes(ledger: Ledger, need: Need, placed: list[Placement], days, not_before) -> Placement | None:
    """Join a hole and a short hearing beside it into one slot for ``need``; the short hearing takes another hole.

    Two 30-minute holes on different rooms or days cannot take a 60-minute case; moving
    the hearing beside one hole into the other leaves one 60-minute stretch that can.
    """
    holes = [g for g in gaps(ledger, need.venue, days, 5) if g[1] >= not_before[need.case_id]]
    around = by_room_day(ledger, placed)
    for hole in holes:
        room, starts, ends = hole
        if span(ends - starts) >= need.minutes:
            continue
        for index, other in beside(around, ledger, room, starts, ends):
            begin = other.starts_at if other.ends_at == starts else starts
            if span(max(ends, other.ends_at) - begin) < need.minutes:
                continue
            targets = [g for g in holes if g is not hole and g[1] >= not_before[other.need.case_id]]
            moved = into_gap(ledger, other.need, targets)
            if moved is None:
                continue
            remove(ledger, other)
            add(ledger, moved)
            refusal, lane = ledger.refusal(need, room.id, begin, begin + timedelta(minutes=need.minutes))
            if refusal is None and lane == 0:
                placed[index] = moved
                mine = Placement(need, room, begin, begin + timedelta(minutes=need.minutes), lane)
                add(ledger, mine)
                return mine
            remove(ledger, moved)
            add(ledger, other)
    return None


def _stretch_before(ledger: Ledger, around, room: Room, starts: datetime):
    """The placed first-lane hearings that run without a break up to ``starts`` in ``room``, latest first."""
    mine = sorted(((i, p) for i, p in around.get((room.id, ledger.local_day(starts)), ()) if p.ends_at <= starts),
                  key=lambda item: item[1].starts_at)
    edge = starts
    for index, p in reversed(mine):
        if p.ends_at != edge:
            return
        yield index, p
        edge = p.starts_at


def _slid(ledger: Ledger, block: list[tuple[int, Placement]], shift: timedelta, not_before) -> list | None:
    """``block`` (already out of the ledger) moved ``shift`` earlier, each slot checked, or None."""
    done = []
    for index, p in sorted(block, key=lambda item: item[1].starts_at):
        new = Placement(p.need, p.room, p.starts_at - shift, p.ends_at - shift, 0)
        refusal, lane = ledger.refusal(p.need, p.room.id, new.starts_at, new.ends_at)
        if refusal is not None or lane != 0 or new.starts_at < not_before[p.need.case_id]:
            for _, back in done:
                remove(ledger, back)
            return None
        add(ledger, new)
        done.append((index, new))
    return done


def _try_slide(ledger: Ledger, need: Need, placed: list[Placement], other: tuple[int, Placement], block: list,
               hole: tuple, targets: list, not_before) -> Placement | None:
    """Move ``other`` into one of ``targets``, slide ``block`` after it earlier, and give ``need`` the joined end."""
    room, starts, _ = hole
    length = timedelta(minutes=other[1].need.minutes)
    begin = starts - length
    if begin < not_before[need.case_id]:
        return None
    taken = [other, *block]
    for _, p in taken:
        remove(ledger, p)
    slid = _slid(ledger, block, length, not_before)
    moved = into_gap(ledger, other[1].need, targets) if slid is not None else None
    if moved is not None:
        add(ledger, moved)
        ends_at = begin + timedelta(minutes=need.minutes)
        refusal, lane = ledger.refusal(need, room.id, begin, ends_at)
        if refusal is None and lane == 0:
            for index, new in [(other[0], moved), *slid]:
                placed[index] = new
            mine = Placement(need, room, begin, ends_at, lane)
            add(ledger, mine)
            return mine
        remove(ledger, moved)
    for _, p in slid or ():
        remove(ledger, p)
    for _, p in taken:
        add(ledger, p)
    return None


def slide_and_join(ledger: Ledger, need: Need, placed: list[Placement], days, not_before) -> Placement | None:
    """Join a hole and a short hearing earlier in its stretch: the short hearing takes another hole and
    the hearings between slide earlier by its length (an ejection chain of two moves and a slide).

    Two 30-minute holes at the end of two afternoons cannot take a 60-minute case, nor can
    ``merge_holes`` join them when the 30-minute hearing sits mid-afternoon; moving it out
    and sliding the rest up joins its 30 minutes to the hole at the end.
    """
    holes = [g for g in gaps(ledger, need.venue, days, 5) if g[2] > not_before[need.case_id]]
    sized = [(g, span(g[2] - g[1])) for g in holes]
    around = by_room_day(ledger, placed)
    for hole, hole_minutes in sized:
        room, starts, ends = hole
        if hole_minutes >= need.minutes:
            continue
        block: list[tuple[int, Placement]] = []
        for index, other in _stretch_before(ledger, around, room, starts):
            if block and hole_minutes + other.need.minutes >= need.minutes:
                earliest_start = not_before[other.need.case_id]
                targets = [g for g, minutes in sized if g is not hole and g[1] >= earliest_start
                           and minutes >= other.need.minutes]
                found = targets and _try_slide(ledger, need, placed, (index, other), block, hole, targets, not_before)
                if found:
                    return found
            block.append((index, other))
    return None


def evict_for_speedy(ledger: Ledger, need: Need, placed: list[Placement], days, not_before) -> tuple[
        bool, Need | None]:
    """Give a speedy case the slot of a placed case that is not speedy; that case goes elsewhere or waits.

    Returns whether ``need`` was placed, and the case left without a slot by it, if any.
    The 7-day limit outranks booked minutes: a speedy case that can be heard in time is.
    A speedy case with a later limit gives up its slot only if it finds another.
    """
    if need.kind != "speedy":
        return False, None
    length = timedelta(minutes=need.minutes)
    order = sorted(range(len(placed)), key=lambda i: (placed[i].need.minutes, placed[i].starts_at))
    for index in order:
        other = placed[index]
        if ((other.need.kind == "speedy" and other.need.latest <= need.latest) or other.lane != 0
                or other.room.venue != need.venue or other.need.minutes < need.minutes
                or other.starts_at < not_before[need.case_id] or other.starts_at + length > need.latest):
            continue
        remove(ledger, other)
        refusal, lane = ledger.refusal(need, other.room.id, other.starts_at, other.starts_at + length)
        if refusal is None:
            mine = Placement(need, other.room, other.starts_at, other.starts_at + length, lane)
            add(ledger, mine)
            moved = earliest(ledger, other.need, days, not_before[other.need.case_id])
            if moved is not None or other.need.kind != "speedy":
                placed[index] = mine
                if moved is None:
                    return True, other.need
                add(ledger, moved)
                placed.append(moved)
                return True, None
            remove(ledger, mine)
        add(ledger, other)
    return False, None


