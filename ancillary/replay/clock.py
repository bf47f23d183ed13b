"""The replay's simulated clock: one ordered list of what happens when, and the court's working hours."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta


@dataclass(order=True)
class Event:
    at: datetime
    seq: int
    action: Callable = field(compare=False)
    args: tuple = field(compare=False, default=())


class Clock:
    """Events run in time order (ties in the order they were scheduled), so every ``now`` only grows."""

    def __init__(self, start: datetime):
        self.now = start
        self._heap: list[Event] = []
        self._seq = 0

    def at(self, when: datetime, action: Callable, *args) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Event(max(when, self.now), self._seq, action, args))

    def run_until(self, end: datetime, on_step: Callable[[datetime], None] | None = None) -> None:
        while self._heap and self._heap[0].at < end:
            event = heapq.heappop(self._heap)
            self.now = event.at
            if on_step is not None:
                on_step(event.at)
            event.action(*event.args)
        self.now = end


class WorkingHours:
    """When contractor staff work: the court's working days, within the day's working spans."""

    def __init__(self, is_working_day: Callable[[date], bool], spans: tuple[tuple[time, time], ...], tz):
        self.is_working_day = is_working_day
        self.spans = spans
        self.tz = tz

    def is_working(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        if not self.is_working_day(local.date()):
            return False
        return any(start <= local.time() < end for start, end in self.spans)

    def next_start(self, moment: datetime) -> datetime:
        """``moment`` if staff are at work then, else when they next are."""
        local = moment.astimezone(self.tz)
        day = local.date()
        for _ in range(40):
            if self.is_working_day(day):
                for start, end in self.spans:
                    opens = datetime.combine(day, start, self.tz)
                    closes = datetime.combine(day, end, self.tz)
                    if local < closes:
                        return max(local, opens)
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), self.tz)
        raise RuntimeError("no working day within 40 days")

    def day_minutes(self) -> float:
        return sum((datetime.combine(date.min, b) - datetime.combine(date.min, a)).total_seconds() / 60
                   for a, b in self.spans)
