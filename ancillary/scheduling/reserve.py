"""The speedy reserve: room time the planner keeps for speedy cases on the days around a closure.

A speedy case must be heard by the end of the 7th day after filing, not before the day the
summons allows (``speedy_notice_days``). In an ordinary week those days hold four or five
working days; before a long closure (the Spring Festival's nine days) they hold one, two or
three, and a case filed then can only go on those few days. If hearings that are not speedy,
booked earlier with their months of time, already fill those days, the speedy case misses
its 7 days although the rooms were open.

So on every working day that some filing day's window reaches with at most
``speedy_reserve_tight_days`` working days in it, the planner (auto-scheduling and the
scheduling sweep's proposals) keeps the last ``speedy_reserve_minutes`` of every room's day
for speedy cases: other hearings are planned to end before it. Judges are free then too,
since every room of the day keeps the same stretch. The reserve binds only the planner: a
scheduler booking by hand may still use it, and a reserved stretch no speedy case took is
room time given up (the replay's figures show how much). ``speedy_reserve_minutes=0`` turns
it off.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.rules import Ledger

RESERVE = "kept for speedy cases before a closure"  # the reason of the ledger's reserve entries (no id)


def tight_days(working: WorkingDays, first: date, last: date, settings) -> set[date]:
    """The working days in ``first``..``last`` that a tight 7-day window (few working days) reaches.

    Cases are filed on working days (the intake clerks' days), so only those open a window.
    """
    notice, limit = settings.speedy_notice_days, settings.speedy_hearing_days
    found: set[date] = set()
    for filed in working.between(first - timedelta(days=limit), last - timedelta(days=1)):
        window = working.between(filed + timedelta(days=notice), filed + timedelta(days=limit))
        if 0 < len(window) <= settings.speedy_reserve_tight_days:
            found.update(day for day in window if first <= day <= last)
    return found


def hold(session: Session, ledger: Ledger, first: date, last: date, settings) -> set[date]:
    """Keep the reserve in ``ledger``'s rooms on the tight days of ``first``..``last``; returns those days."""
    minutes = settings.speedy_reserve_minutes
    if minutes <= 0:
        return set()
    reach = timedelta(days=settings.speedy_hearing_days + 1)
    working = WorkingDays.load(session, first - reach, last + reach)
    days = tight_days(working, first, last, settings)
    for day in sorted(days):
        for room in ledger.rooms.values():
            closes = ledger.opening(room, day)[1]
            starts: datetime = closes - timedelta(minutes=minutes)
            ledger.room_blocks[room.id].append((starts, closes, None, RESERVE))
    return days
