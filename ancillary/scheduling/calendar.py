"""The court calendar: Monday to Friday, less public holidays, plus make-up working days.

Only the exceptions are stored (``CourtDay``); the management office keeps them.
``OFFICIAL`` holds the State Council's published arrangements, loaded by
``load_official``:

* 2026 — 国办发明电〔2025〕7号 (4 Nov 2025), complete, with its make-up days.
* 2027 — the notice was not yet published when this table was written. The
  statutory holidays themselves are fixed by the 全国年节及纪念日放假办法 (New
  Year's Day; Spring Festival eve and days 1-3; Qingming; 1-2 May; Dragon Boat;
  Mid-Autumn; 1-3 October), so those that fall on a weekday are loaded as
  ``provisional`` non-working days. The bridging days and weekend make-up working
  days of the 2027 notice must be entered by the office when it appears
  (PUT /api/v1/court-days/{day}); loading again never overwrites an office entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.scheduling.models import CourtDay


def _span(first: date, last: date, name: str) -> list[tuple[date, bool, str]]:
    days = (last - first).days
    return [(first + timedelta(days=n), False, name) for n in range(days + 1)]


def _work(day: date, name: str) -> tuple[date, bool, str]:
    return (day, True, name)


# (day, is_working, name); weekend holidays are listed too, so the calendar reads whole.
OFFICIAL: dict[int, tuple[str, list[tuple[date, bool, str]]]] = {
    2026: ("official", [
        *_span(date(2026, 1, 1), date(2026, 1, 3), "元旦"),
        _work(date(2026, 1, 4), "元旦调休上班"),
        _work(date(2026, 2, 14), "春节调休上班"),
        *_span(date(2026, 2, 15), date(2026, 2, 23), "春节"),
        _work(date(2026, 2, 28), "春节调休上班"),
        *_span(date(2026, 4, 4), date(2026, 4, 6), "清明节"),
        *_span(date(2026, 5, 1), date(2026, 5, 5), "劳动节"),
        _work(date(2026, 5, 9), "劳动节调休上班"),
        *_span(date(2026, 6, 19), date(2026, 6, 21), "端午节"),
        _work(date(2026, 9, 20), "国庆节调休上班"),
        *_span(date(2026, 9, 25), date(2026, 9, 27), "中秋节"),
        *_span(date(2026, 10, 1), date(2026, 10, 7), "国庆节"),
        _work(date(2026, 10, 10), "国庆节调休上班"),
    ]),
    2027: ("provisional", [
        (date(2027, 1, 1), False, "元旦"),
        *_span(date(2027, 2, 5), date(2027, 2, 8), "春节"),  # eve (Fri) to day 3 (Mon)
        (date(2027, 4, 5), False, "清明节"),
        *_span(date(2027, 5, 1), date(2027, 5, 2), "劳动节"),
        (date(2027, 6, 9), False, "端午节"),
        (date(2027, 9, 15), False, "中秋节"),
        *_span(date(2027, 10, 1), date(2027, 10, 3), "国庆节"),
    ]),
}


def load_official(session: Session, years: Iterable[int], *, now: datetime) -> int:
    """Load the official (or provisional) calendar of ``years``; office entries win. Returns rows written."""
    written = 0
    for year in years:
        if year not in OFFICIAL:
            continue
        source, days = OFFICIAL[year]
        existing = {d.day: d for d in session.scalars(
            select(CourtDay).where(CourtDay.day >= date(year, 1, 1), CourtDay.day <= date(year, 12, 31)))}
        for day, is_working, name in days:
            row = existing.get(day)
            if row is not None and row.source == "admin":
                continue
            if row is None:
                session.add(CourtDay(day=day, is_working=is_working, name=name, source=source, updated_at=now))
            else:
                row.is_working, row.name, row.source, row.updated_at = is_working, name, source, now
            written += 1
    session.flush()
    return written


class WorkingDays:
    """Answers "is this local date a working day?" from the stored exceptions."""

    def __init__(self, exceptions: dict[date, bool]):
        self.exceptions = exceptions

    @classmethod
    def load(cls, session: Session, first: date, last: date) -> WorkingDays:
        rows = session.execute(select(CourtDay.day, CourtDay.is_working)
                               .where(CourtDay.day >= first, CourtDay.day <= last))
        return cls({day: working for day, working in rows})

    def __call__(self, day: date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def between(self, first: date, last: date) -> list[date]:
        days = []
        day = first
        while day <= last:
            if self(day):
                days.append(day)
            day += timedelta(days=1)
        return days
