"""A report's period and its parts (weeks), so every figure is counted for all of them in one pass.

``Spans`` holds the period first, then any number of disjoint parts inside it in time order,
each a half-open UTC interval [start, end). A figure reads its rows once over the period
and files each row under every span its instant falls in (the period, and at most one
part), so the period's total and the weekly trend come from the same rows and the same
code — and cannot disagree.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta


def local_window(first: date, last: date, tz) -> tuple[datetime, datetime]:
    """Local dates ``first``..``last``, both included, as a half-open interval of aware instants."""
    return datetime.combine(first, time(0), tz), datetime.combine(last + timedelta(days=1), time(0), tz)


@dataclass(frozen=True)
class Spans:
    """The period (index 0) and its disjoint parts (1..n), as [start, end) instants."""

    bounds: tuple[tuple[datetime, datetime], ...]
    _starts: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # In UTC, as the database's instants are: comparing two instants of one tzinfo is a plain
        # comparison, while a zone like Asia/Shanghai is asked for its offset at every comparison.
        object.__setattr__(self, "bounds", tuple((start.astimezone(UTC), end.astimezone(UTC))
                                                 for start, end in self.bounds))
        parts = self.bounds[1:]
        if any(a[1] > b[0] for a, b in zip(parts, parts[1:], strict=False)):
            raise ValueError("the parts must be disjoint and in time order")
        object.__setattr__(self, "_starts", tuple(start for start, _ in parts))

    @classmethod
    def of_days(cls, periods: Iterable[tuple[date, date]], tz) -> Spans:
        """Spans of local dates: the period first, then its parts, each (first, last) both included."""
        return cls(tuple(local_window(first, last, tz) for first, last in periods))

    @property
    def start(self) -> datetime:
        return self.bounds[0][0]

    @property
    def end(self) -> datetime:
        return self.bounds[0][1]

    def __len__(self) -> int:
        return len(self.bounds)

    def at(self, instant: datetime) -> list[int]:
        """The indexes of the spans ``instant`` falls in: the period's 0 and the part's, if any."""
        start, end = self.bounds[0]
        found = [0] if start <= instant < end else []
        position = bisect_right(self._starts, instant)
        if position:
            start, end = self.bounds[position]
            if start <= instant < end:
                found.append(position)
        return found

    def split(self, rows: Iterable, instant: Callable) -> list[list]:
        """``rows`` filed under each span by ``instant(row)``: one list per span, in span order."""
        if len(self.bounds) == 1:  # the period alone: the rows were read for it
            return [list(rows)]
        out: list[list] = [[] for _ in self.bounds]
        for row in rows:
            for index in self.at(instant(row)):
                out[index].append(row)
        return out
