"""The speedy reserve: room time each venue keeps for the speedy cases still to be filed.

A speedy case must be heard by the end of the 7th day after filing, not before the day the
summons allows (``speedy_notice_days``). Hearings that are not speedy have months of time,
and the planner books them weeks ahead; when a venue's demand runs near its rooms' time,
those hearings fill every day, and a speedy case filed later finds its 7 days full.

So the planner (auto-scheduling and the scheduling sweep's proposals) keeps room time at
each venue for the speedy cases it expects. The expected demand is the venue's own: the
minutes of speedy hearings filed there over the last ``speedy_demand_days`` days (or
since its first case, for a court that began later), per working day. A filing day
spreads its demand evenly over the working days of its 7 days, so a working day inside an
ordinary week expects about one filing day's demand, and the
few working days before a long closure, which every earlier window squeezes onto, expect
more (the day before the Spring Festival carries most of the week's). Only filing days
still to come count: the cases filed earlier are already pending and planned first.

On each day, a hearing that is not speedy is planned only if the venue's rooms keep free
at least ``speedy_reserve_percent`` % of that expected demand after it (150 %: half again,
for the days that bring more than the average; never more than half the venue's open time
that day, so a burst of filings cannot shut the others out). Speedy cases pass; so does a case whose
own deadline falls within the 7 days after that day (it cannot wait a week), and a second-lane
overlap hearing (it takes no room time). Booking by hand is not bound: the reserve lives
in the planner's ledger only. ``speedy_reserve_percent=0`` turns it off.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary.cases.models import Case, CaseKind
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.rules import Ledger, Need, Refusal, Room

CODE = "kept_for_speedy_cases"  # the refusal and the unplaced reason
MOST_KEPT = 0.5  # never more than half a venue's open room time on a day (a burst of filings is not a rate)
# A venue's speedy filings are a rate only when they came on this many working days of the
# stretch: cases filed in one go (a court loading its backlog, a week planned at once) ask
# for nothing still to come, and keeping room for them would only leave rooms empty.
STEADY_DAYS = 5


class PlannerLedger(Ledger):
    """The planner's ledger: the booking rules, the speedy reserve on top of them, and the planner's
    account of its search (slots checked; cases held back by the reserve or left unsearched)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kept: dict[tuple[str, date], int] = {}  # (venue, day) -> minutes kept for speedy cases
        self.held_back: set[int] = set()  # cases the reserve refused at least once
        self.unsearched: set[int] = set()  # cases whose repair search the plan's work budget cut off
        self.asked = 0  # slots checked: the measure of the plan's search work
        self._venue_rooms: dict[str, list[int]] = {}
        self._venue_open: dict[tuple[str, date], int] = {}

    def venue_free(self, venue: str, day: date) -> int:
        """Open minutes of the venue's rooms on ``day`` not taken by a first-lane hearing.

        The rooms and their open minutes do not change while planning: they are summed once per
        venue-day; the used minutes are read afresh (placements and repair moves change them).
        """
        rooms = self._venue_rooms.get(venue)
        if rooms is None:
            rooms = self._venue_rooms[venue] = [r.id for r in self.rooms_for(venue)]
        opened = self._venue_open.get((venue, day))
        if opened is None:
            opened = self._venue_open[(venue, day)] = sum(self.open_minutes(r, day) for r in rooms)
        used = self.used_minutes
        return opened - sum(used.get((r, day), 0) for r in rooms)

    def binds(self, need: Need, day: date) -> bool:
        """Whether the reserve may refuse ``need`` on ``day`` (not a speedy case, nor one due within 7 days)."""
        return need.kind != "speedy" and need.latest >= datetime.combine(day + timedelta(days=8), time(0), self.tz)

    def kept_out(self, need: Need, venue: str, day: date) -> bool:
        """Whether the reserve refuses ``need`` every first-lane slot at ``venue`` on ``day``.

        It depends on the venue-day, not the room or the time: one answer stands for the whole day,
        and while a plan only adds hearings it cannot change back.
        """
        kept = self.kept.get((venue, day), 0)
        return bool(kept) and self.binds(need, day) and self.venue_free(venue, day) - need.minutes < kept

    def refusal(self, need: Need, room_id: int, starts_at: datetime, ends_at: datetime) -> tuple[Refusal | None, int]:
        self.asked += 1
        refusal, lane = super().refusal(need, room_id, starts_at, ends_at)
        if refusal is not None or lane != 0 or not self.kept:
            return refusal, lane
        day = self.local_day(starts_at)
        if not self.kept_out(need, self.rooms[room_id].venue, day):
            return None, 0
        self.held_back.add(need.case_id)
        return Refusal(CODE, "the room time left on {day} is kept for speedy cases",
                       {"day": day.isoformat(), "conflict": {"rule": "speedy_reserve", "day": day.isoformat()}},
                       final_for_day=True), 0

    def slots_in_day(self, need: Need, room: Room, day: date, not_before: datetime, limit: int = 1):
        """As the booking rules find them, but a day the reserve keeps is not searched room by room
        (a case that could share a slot in the second lane is: that lane takes no room time)."""
        if self.kept and not need.eligible and self.working(day) and self.kept_out(need, room.venue, day):
            if self.venue_free(room.venue, day) >= need.minutes:  # time is left, and it is kept
                self.held_back.add(need.case_id)
            return []
        return super().slots_in_day(need, room, day, not_before, limit)


def speedy_rates(session: Session, now: datetime, settings) -> dict[str, float]:
    """Minutes of speedy hearings filed per working day at each venue, over the last ``speedy_demand_days``
    (a venue whose speedy cases came on fewer than ``STEADY_DAYS`` days has no rate)."""
    tz = settings.timezone
    first_filed = session.scalar(select(func.min(Case.filed_at)))
    if first_filed is None:
        return {}
    first_filed = first_filed if first_filed.tzinfo else first_filed.replace(tzinfo=UTC)
    since = max(now - timedelta(days=settings.speedy_demand_days), first_filed)  # a new court: its own days
    working = WorkingDays.load(session, since.astimezone(tz).date(), now.astimezone(tz).date())
    days = len(working.between(since.astimezone(tz).date(), now.astimezone(tz).date()))
    if not days:
        return {}
    minutes: dict[str, float] = defaultdict(float)
    filing_days: dict[str, set[date]] = defaultdict(set)
    for venue, own, filed_at in session.execute(select(Case.venue, Case.hearing_minutes, Case.filed_at).where(
            Case.kind == CaseKind.speedy, Case.filed_at >= since, Case.filed_at < now)):
        minutes[venue] += own or settings.hearing_minutes["speedy"]
        filing_days[venue].add((filed_at if filed_at.tzinfo else filed_at.replace(tzinfo=UTC)).astimezone(tz).date())
    return {venue: total / days for venue, total in minutes.items() if len(filing_days[venue]) >= STEADY_DAYS}


def shares(working: WorkingDays, today: date, first: date, last: date, settings) -> dict[date, float]:
    """Per working day of ``first``..``last``: how many filing days' demand it is expected to carry.

    Each working filing day from ``today`` on spreads one share evenly over the working days
    of its 7 days (a window with none is a case no schedule can place: it asks nothing).
    """
    notice, limit = settings.speedy_notice_days, settings.speedy_hearing_days
    found: dict[date, float] = defaultdict(float)
    for filed in working.between(max(today, first - timedelta(days=limit)), last - timedelta(days=notice)):
        window = working.between(filed + timedelta(days=notice), filed + timedelta(days=limit))
        for day in window:
            if first <= day <= last:
                found[day] += 1 / len(window)
    return dict(found)


def hold(session: Session, ledger: PlannerLedger, first: date, last: date, now: datetime, settings) -> dict:
    """Keep each venue's expected speedy demand on the days of ``first``..``last``; returns what is kept."""
    percent = settings.speedy_reserve_percent
    rates = speedy_rates(session, now, settings) if percent > 0 else {}
    if not rates:
        return {}
    reach = timedelta(days=settings.speedy_hearing_days + 1)
    working = WorkingDays.load(session, first - reach, last + reach)
    today = now.astimezone(settings.timezone).date()
    for day, share in shares(working, today, first, last, settings).items():
        for venue, rate in rates.items():
            most = MOST_KEPT * sum(ledger.open_minutes(r.id, day) for r in ledger.rooms_for(venue))
            ledger.kept[(venue, day)] = round(min(rate * share * percent / 100, most))
    return ledger.kept
