"""An upper bound on the minutes any schedule can book: a maximum flow over room-day stretches.

Each case's minutes may go, split, to any working day between its first allowed day and its
limit. A day offers its rooms' stretches between opening, the lunch break and closing; a
stretch of L minutes holds at most L minutes of hearings, at most 60 x floor(L / 60) minutes of
hearings whose lengths are whole hours, and at most 120 x floor(L / 120) of those whose lengths
are whole two-hour blocks (whatever fills a stretch with whole hours is a whole number of
hours). Judges, the 5-minute grid and the order inside a stretch are ignored, so no schedule
books more than this flow: a plan that reaches it is optimal.

Without the lunch break (one 540-minute stretch a day) this is the earlier bound; with it, a
210-minute morning holds 180 minutes of whole-hour hearings unless a 30-minute case fills it.
"""

from __future__ import annotations

from collections import defaultdict, deque
from datetime import date

UNITS = (120, 60, 1)  # the nested classes: whole two-hour blocks inside whole hours inside any length


def _stretches(ledger, day: date) -> list[int]:
    """Minutes of each stretch the day's rooms are open (lunch splits a room's day in two)."""
    found = []
    for room in ledger.rooms.values():
        if not room.is_active:
            continue
        opens, closes = ledger.opening(room, day)
        lunch = ledger.lunch(room, day)
        cuts = [(opens, lunch[0]), (lunch[1], closes)] if lunch else [(opens, closes)]
        found.extend(int((end - start).total_seconds() // 60) for start, end in cuts)
    return found


def _unit(minutes: int) -> int:
    return next(u for u in UNITS if minutes % u == 0)


class _Flow:
    """Edmonds-Karp maximum flow over a small graph of named nodes."""

    def __init__(self):
        self.capacity: dict = defaultdict(lambda: defaultdict(int))

    def edge(self, a, b, capacity: int) -> None:
        self.capacity[a][b] += capacity
        self.capacity[b][a] += 0

    def _path(self, source, sink):
        parent = {source: None}
        queue = deque([source])
        while queue:
            node = queue.popleft()
            for nxt, left in self.capacity[node].items():
                if left > 0 and nxt not in parent:
                    parent[nxt] = node
                    if nxt == sink:
                        return parent
                    queue.append(nxt)
        return None

    def maximum(self, source, sink) -> int:
        total = 0
        while (parent := self._path(source, sink)) is not None:
            node, pushed = sink, None
            while parent[node] is not None:
                left = self.capacity[parent[node]][node]
                pushed = left if pushed is None else min(pushed, left)
                node = parent[node]
            node = sink
            while parent[node] is not None:
                self.capacity[parent[node]][node] -= pushed
                self.capacity[node][parent[node]] += pushed
                node = parent[node]
            total += pushed
        return total


def stretch_bound(needs, not_before: dict, ledger, days: list[date], tz) -> int:
    """The most minutes of ``needs`` any schedule over ``days`` can book (see the module's docstring)."""
    flow = _Flow()
    for day in days:
        stretches = _stretches(ledger, day)
        for inner, outer in zip(UNITS, UNITS[1:], strict=False):
            flow.edge((inner, day), (outer, day), sum(inner * (s // inner) for s in stretches))
        flow.edge((1, day), "sink", sum(stretches))
    groups: dict[tuple, int] = defaultdict(int)
    for need in needs:
        first = not_before[need.case_id].astimezone(tz).date()
        groups[(_unit(need.minutes), first, need.latest.astimezone(tz).date())] += need.minutes
    for (unit, first, last), minutes in groups.items():
        group = ("group", unit, first, last)
        flow.edge("source", group, minutes)
        for day in days:
            if first <= day <= last:
                flow.edge(group, (unit, day), minutes)
    return flow.maximum("source", "sink") // 30 * 30


def with_speedy_rule(bound: int, needs, speedy_heard: int) -> int:
    """The bound over schedules that hear ``speedy_heard`` speedy cases (30 min), the rest whole hours.

    Such a schedule books 30 x ``speedy_heard`` minutes plus whole hours, so its total has that
    parity: the largest such figure not above ``bound``. Valid when every schedule that keeps
    the 7-day rule hears exactly that many (the packer heard the speedy bound, so all must).
    """
    if any(n.minutes % 60 for n in needs if n.kind != "speedy") or any(n.minutes != 30 for n in needs
                                                                      if n.kind == "speedy"):
        return bound
    while bound > 0 and (bound - 30 * speedy_heard) % 60:
        bound -= 30
    return bound
