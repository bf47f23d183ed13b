"""The booking rules, in one place, over an in-memory ledger of one window.

Booking a hearing, suggesting slots and auto-scheduling all ask the same
``Ledger.refusal``, so a slot that is suggested or planned is exactly a slot that
booking accepts. The ledger holds the booked hearings, blockings and working days
of a window; services load it from the database (under the write lock), the
auto-scheduler loads it once and adds to it as it places cases.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ancillary.cases.models import Case
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.models import Blocking, Courtroom, Hearing, HearingStatus, overlapping
from ancillary.timeutil import period_end_days

MAIN_VENUE = "main"
GRID_MINUTES = 5  # candidate start times are rounded up to this grid
# A room blocking without an id is the planner's speedy reserve (``reserve.py``): speedy cases pass it.


def hearing_minutes(case, settings) -> int:
    """Length of ``case``'s hearing: its own override, else by kind and track (SPEC 2)."""
    if case.hearing_minutes:
        return case.hearing_minutes
    kind = case.kind.value
    if kind in ("summary", "ordinary") and case.track is not None:
        # The trial team's track decides between the summary and the ordinary length.
        kind = "summary" if case.track.value == "simple" else "ordinary"
    return settings.hearing_minutes[kind]


def speedy_limit(case, settings) -> datetime | None:
    """End of the 7th day after filing (first day not counted), for speedy cases."""
    if case.kind.value != "speedy":
        return None
    return period_end_days(case.filed_at, settings.speedy_hearing_days, settings.timezone)


def direct_service_succeeded(session: Session, case) -> bool:
    """Whether every recipient of ``case`` was served in person (direct service).

    An order counts when it is served and one of its attempts on the ``personal``
    channel served it (a signed receipt, or a refusal lodged with a witness or photo).
    """
    from ancillary.service.models import ServiceAttempt, ServiceOrder

    orders = session.scalar(select(func.count()).where(ServiceOrder.case_id == case.id))
    in_person = session.scalar(
        select(func.count(func.distinct(ServiceOrder.id)))
        .join(ServiceAttempt, ServiceAttempt.order_id == ServiceOrder.id)
        .where(ServiceOrder.case_id == case.id, ServiceOrder.status == "served",
               ServiceAttempt.channel == "personal", ServiceAttempt.outcome.in_(["served", "refused"]))
    )
    return orders > 0 and in_person == orders


def overlap_eligible(session: Session, case) -> bool:
    """A tribunal case, served in person, that the trial team marked likely to mediate."""
    return case.venue != MAIN_VENUE and bool(case.mediation_likely) and direct_service_succeeded(session, case)


@dataclass
class Need:
    """What one case asks of a slot."""

    case_id: int
    number: str
    kind: str
    judge_id: int
    venue: str
    minutes: int
    eligible: bool
    deadline: datetime
    speedy_limit: datetime | None
    filed_at: datetime

    @property
    def latest(self) -> datetime:
        return min(self.deadline, self.speedy_limit) if self.speedy_limit else self.deadline

    @classmethod
    def of(cls, session: Session, case, settings, eligible: bool | None = None) -> Need:
        return cls(
            case_id=case.id, number=case.number, kind=case.kind.value, judge_id=case.judge_id, venue=case.venue,
            minutes=hearing_minutes(case, settings),
            eligible=overlap_eligible(session, case) if eligible is None else eligible,
            deadline=case.deadline_at, speedy_limit=speedy_limit(case, settings), filed_at=case.filed_at,
        )


@dataclass
class Booked:
    id: int | None
    case_id: int
    courtroom_id: int
    judge_id: int
    starts_at: datetime
    ends_at: datetime
    lane: int
    eligible: bool
    number: str | None = None  # the case number, to name the conflict to people


@dataclass
class Room:
    id: int
    name: str
    venue: str
    opens: time
    closes: time
    is_active: bool = True
    lunch_starts: time | None = None
    lunch_ends: time | None = None

    @property
    def lunch_minutes(self) -> int:
        if self.lunch_starts is None or self.lunch_ends is None:
            return 0
        ends, starts = self.lunch_ends, self.lunch_starts
        return (ends.hour * 60 + ends.minute) - (starts.hour * 60 + starts.minute)


@dataclass
class Refusal:
    """Why a slot cannot be booked: an error code, a message template, the conflict, and
    (for the slot finder) the first instant worth trying next in the same room-day."""

    code: str
    template: str
    params: dict = field(default_factory=dict)
    resume_at: datetime | None = None
    final_for_day: bool = False
    final: bool = False


@lru_cache(maxsize=4096)  # the packer asks about one case's limit for every slot it tries
def _iso(value: datetime, tz: ZoneInfo) -> str:
    return value.astimezone(tz).isoformat()


def limit_refusal(need: Need, ends_at: datetime, tz: ZoneInfo) -> Refusal | None:
    """Why a hearing of ``need`` ending at ``ends_at`` is too late: the 7-day limit or the deadline."""
    if need.speedy_limit is not None and ends_at > need.speedy_limit:
        return Refusal("past_speedy_limit", "a speedy case must be heard by {limit} (7 days after filing)",
                       {"limit": _iso(need.speedy_limit, tz),
                        "conflict": {"rule": "speedy_7_days", "limit": _iso(need.speedy_limit, tz)}},
                       final=True)
    if ends_at > need.deadline:
        return Refusal("past_deadline", "the hearing would end after the case's statutory deadline {limit}",
                       {"limit": _iso(need.deadline, tz),
                        "conflict": {"rule": "statutory_deadline", "limit": _iso(need.deadline, tz)}},
                       final=True)
    return None


def naming(number: str | None, starts_at: datetime, ends_at: datetime, tz: ZoneInfo) -> dict:
    """A hearing as people name it in a refusal: its case number, local day and times."""
    starts, ends = starts_at.astimezone(tz), ends_at.astimezone(tz)
    return {"number": number or "", "day": starts.strftime("%Y-%m-%d"), "starts": starts.strftime("%H:%M"),
            "ends": ends.strftime("%H:%M")}


def round_up(value: datetime, minutes: int = GRID_MINUTES) -> datetime:
    stamp = value.timestamp()
    step = minutes * 60
    return datetime.fromtimestamp(math.ceil(stamp / step) * step, UTC)


class Ledger:
    """Booked hearings, blockings and working days of a window, keyed for fast checks."""

    # Cases a planner's own rule kept out (the speedy reserve of ``reserve.PlannerLedger``); booking keeps none.
    held_back: set[int] | frozenset[int] = frozenset()

    def __init__(self, rooms: list[Room], working: WorkingDays, tz: ZoneInfo):
        self.rooms = {room.id: room for room in rooms}
        self.working = working
        self.tz = tz
        self.by_room: dict[tuple[int, date], list[Booked]] = defaultdict(list)
        self.by_judge: dict[tuple[int, date], list[Booked]] = defaultdict(list)
        self.room_blocks: dict[int, list[tuple]] = defaultdict(list)
        self.user_blocks: dict[int, list[tuple]] = defaultdict(list)
        self.used_minutes: dict[tuple[int, date], int] = defaultdict(int)  # lane 0 only
        self._local: dict[tuple[date, time, time], tuple[datetime, datetime]] = {}

    # --- loading -----------------------------------------------------------------

    @classmethod
    def load(cls, session: Session, first: date, last: date, *, tz: ZoneInfo, room_ids=None, judge_ids=None,
             exclude_hearing_id: int | None = None, bookings: bool = True) -> Ledger:
        """Local dates ``first``..``last``, these rooms and judges (None: all); ``bookings=False``: no hearing read."""
        room_query = select(Courtroom)
        if room_ids is not None:
            room_query = room_query.where(Courtroom.id.in_(room_ids))
        rooms = [Room(r.id, r.name, r.venue, r.opens, r.closes, r.is_active, r.lunch_starts, r.lunch_ends)
                 for r in session.scalars(room_query)]
        ledger = cls(rooms, WorkingDays.load(session, first, last), tz)
        if not bookings:
            return ledger
        start = datetime.combine(first, time(0), tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tz)
        hearing_query = select(Hearing.id, Hearing.case_id, Hearing.courtroom_id, Hearing.judge_id,
                               Hearing.starts_at, Hearing.ends_at, Hearing.lane, Hearing.is_overlap_eligible,
                               Case.number).join(Case, Case.id == Hearing.case_id).where(
            Hearing.status == HearingStatus.booked, *overlapping(start, end))
        subjects = []
        if room_ids is not None:
            subjects.append(Hearing.courtroom_id.in_(room_ids))
        if judge_ids is not None:
            subjects.append(Hearing.judge_id.in_(judge_ids))
        if subjects:
            hearing_query = hearing_query.where(or_(*subjects))
        if exclude_hearing_id is not None:
            hearing_query = hearing_query.where(Hearing.id != exclude_hearing_id)
        for h in session.execute(hearing_query.order_by(Hearing.id)):  # one order, whichever index is used
            ledger.add(Booked(*h))
        block_query = select(Blocking).where(Blocking.starts_at < end, Blocking.ends_at > start)
        for b in session.scalars(block_query):
            entry = (b.starts_at, b.ends_at, b.id, b.reason)
            if b.courtroom_id is not None:
                ledger.room_blocks[b.courtroom_id].append(entry)
            else:
                ledger.user_blocks[b.user_id].append(entry)
        return ledger

    def local_day(self, value: datetime) -> date:
        return value.astimezone(self.tz).date()

    def add(self, booked: Booked) -> None:
        day = self.local_day(booked.starts_at)
        self.by_room[(booked.courtroom_id, day)].append(booked)
        self.by_judge[(booked.judge_id, day)].append(booked)
        if booked.lane == 0:
            minutes = int((booked.ends_at - booked.starts_at).total_seconds() // 60)
            self.used_minutes[(booked.courtroom_id, day)] += minutes

    def remove(self, hearing_id: int) -> None:
        for index in (self.by_room, self.by_judge):
            for key, items in index.items():
                index[key] = [b for b in items if b.id != hearing_id]

    def open_minutes(self, room_id: int, day: date) -> int:
        room = self.rooms[room_id]
        if not self.working(day):
            return 0
        hours = (room.closes.hour * 60 + room.closes.minute) - (room.opens.hour * 60 + room.opens.minute)
        return hours - room.lunch_minutes

    def lunch(self, room: Room, day: date) -> tuple[datetime, datetime] | None:
        """The room's lunch break on ``day`` as UTC instants, or None."""
        if room.lunch_starts is None or room.lunch_ends is None:
            return None
        return self._instants(day, room.lunch_starts, room.lunch_ends)

    def opening(self, room: Room, day: date) -> tuple[datetime, datetime]:
        return self._instants(day, room.opens, room.closes)

    def _instants(self, day: date, starts: time, ends: time) -> tuple[datetime, datetime]:
        """Local times on ``day`` as UTC instants, once per ledger (a planner asks 500,000 times a month)."""
        found = self._local.get((day, starts, ends))
        if found is None:
            found = self._local[(day, starts, ends)] = (datetime.combine(day, starts, self.tz).astimezone(UTC),
                                                        datetime.combine(day, ends, self.tz).astimezone(UTC))
        return found

    # --- the rules -----------------------------------------------------------------

    def _booked_view(self, b: Booked) -> dict:
        return {"hearing_id": b.id, "case_id": b.case_id, "case_number": b.number, "courtroom_id": b.courtroom_id,
                "judge_id": b.judge_id, "starts_at": _iso(b.starts_at, self.tz), "ends_at": _iso(b.ends_at, self.tz)}

    def _naming(self, b: Booked) -> dict:
        return {**naming(b.number, b.starts_at, b.ends_at, self.tz), "hearing_id": b.id,
                "conflict": self._booked_view(b)}

    def _lunch_refusal(self, room: Room, day: date, starts_at: datetime, ends_at: datetime) -> Refusal | None:
        lunch = self.lunch(room, day)
        if lunch is None or not (lunch[0] < ends_at and starts_at < lunch[1]):
            return None
        opens_at, ends = room.lunch_starts.strftime("%H:%M"), room.lunch_ends.strftime("%H:%M")
        return Refusal("lunch_break", "courtroom {room} breaks for lunch {lunch_starts}-{lunch_ends}",
                       {"room": room.name, "lunch_starts": opens_at, "lunch_ends": ends,
                        "conflict": {"rule": "lunch_break", "courtroom_id": room.id,
                                     "lunch_starts": opens_at, "lunch_ends": ends}},
                       resume_at=lunch[1])

    def refusal(self, need: Need, room_id: int, starts_at: datetime, ends_at: datetime) -> tuple[Refusal | None, int]:
        """Why ``need`` cannot have ``room_id`` from ``starts_at`` to ``ends_at``, or (None, lane)."""
        tz = self.tz
        room = self.rooms[room_id]
        day = self.local_day(starts_at)
        beyond = limit_refusal(need, ends_at, tz)
        if beyond is not None:
            return beyond, 0
        if not self.working(day):
            return Refusal("not_a_working_day", "{day} is not a working day of the court",
                           {"day": day.isoformat(), "conflict": {"rule": "working_days", "day": day.isoformat()}},
                           final_for_day=True), 0
        opens, closes = self.opening(room, day)
        if starts_at < opens or ends_at > closes:
            return Refusal("outside_opening_hours", "courtroom {room} is open {opens}-{closes} on working days",
                           {"room": room.name, "opens": room.opens.strftime("%H:%M"),
                            "closes": room.closes.strftime("%H:%M"),
                            "conflict": {"rule": "opening_hours", "courtroom_id": room.id,
                                         "opens": room.opens.strftime("%H:%M"),
                                         "closes": room.closes.strftime("%H:%M")}},
                           resume_at=opens if starts_at < opens else None, final_for_day=starts_at >= opens), 0
        at_lunch = self._lunch_refusal(room, day, starts_at, ends_at)
        if at_lunch is not None:
            return at_lunch, 0
        for b_start, b_end, b_id, reason in self.room_blocks.get(room_id, ()):
            if b_start < ends_at and starts_at < b_end and not (b_id is None and need.kind == "speedy"):
                return Refusal("room_blocked", "courtroom {room} is blocked: {reason}",
                               {"room": room.name, "reason": reason,
                                "conflict": {"blocking_id": b_id, "courtroom_id": room_id, "reason": reason,
                                             "starts_at": _iso(b_start, tz), "ends_at": _iso(b_end, tz)}},
                               resume_at=b_end), 0
        # The room: free, or shared by overlap-eligible hearings with a lane left.
        sharing = [b for b in self.by_room.get((room_id, day), ()) if b.case_id != need.case_id
                   and b.starts_at < ends_at and starts_at < b.ends_at]
        lane = 0
        if sharing:
            lanes = {b.lane for b in sharing}
            free = [lane for lane in (0, 1) if lane not in lanes]
            if not (need.eligible and all(b.eligible for b in sharing) and free):
                first = min(sharing, key=lambda b: b.starts_at)
                return Refusal("room_taken", "courtroom {room} is taken by case {number} on {day} {starts}-{ends}",
                               {"room": room.name, **self._naming(first)},
                               resume_at=min(b.ends_at for b in sharing)), 0
            lane = free[0]
        shared_ids = {id(b) for b in sharing}
        for b in self.by_judge.get((need.judge_id, day), ()):
            if b.case_id == need.case_id or not (b.starts_at < ends_at and starts_at < b.ends_at):
                continue
            if id(b) in shared_ids and b.lane != lane:
                continue  # the other hearing of this overlap pair, in the same room
            return Refusal("judge_busy", "the judge already sits in case {number} on {day} {starts}-{ends}",
                           self._naming(b), resume_at=b.ends_at), 0
        for b_start, b_end, b_id, reason in self.user_blocks.get(need.judge_id, ()):
            if b_start < ends_at and starts_at < b_end:
                return Refusal("judge_unavailable", "the judge is unavailable: {reason}",
                               {"reason": reason,
                                "conflict": {"blocking_id": b_id, "judge_id": need.judge_id, "reason": reason,
                                             "starts_at": _iso(b_start, tz), "ends_at": _iso(b_end, tz)}},
                               resume_at=b_end), 0
        return None, lane

    # --- finding slots ---------------------------------------------------------------

    def rooms_for(self, venue: str) -> list[Room]:
        return sorted((r for r in self.rooms.values() if r.venue == venue and r.is_active),
                      key=lambda r: (r.name, r.id))

    def slots_in_day(self, need: Need, room: Room, day: date, not_before: datetime, limit: int = 1):
        """Up to ``limit`` feasible (starts_at, ends_at, lane) in one room on one day, earliest first."""
        found = []
        if not self.working(day):
            return found
        free = self.open_minutes(room.id, day) - self.used_minutes.get((room.id, day), 0)
        if free < need.minutes and not need.eligible:
            return found
        opens, closes = self.opening(room, day)
        start = round_up(max(opens, not_before))
        length = timedelta(minutes=need.minutes)
        while start + length <= closes and len(found) < limit:
            refusal, lane = self.refusal(need, room.id, start, start + length)
            if refusal is None:
                found.append((start, start + length, lane))
                start = start + length
                continue
            if refusal.final or refusal.final_for_day or refusal.resume_at is None:
                break
            start = round_up(max(refusal.resume_at, start + timedelta(minutes=GRID_MINUTES)))
        return found

    def first_slot(self, need: Need, days: list[date], not_before: datetime):
        """The earliest feasible (room, starts_at, ends_at, lane) over ``days``, or None."""
        rooms = self.rooms_for(need.venue)
        for day in days:
            if datetime.combine(day, time(0), self.tz) > need.latest:
                return None
            best = None
            for room in rooms:
                slots = self.slots_in_day(need, room, day, not_before)
                if slots and (best is None or slots[0][0] < best[1]):
                    best = (room, *slots[0])
            if best is not None:
                return best
        return None
