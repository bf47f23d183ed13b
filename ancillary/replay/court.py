"""The simulated court: its people, how fast they work, and how parties answer (every number a setting).

Defaults: the seed's scale (15,663 cases a year, 42 contractor staff, 30 judges, 10
enforcement officers, courtrooms derived from the volume) and the outcome rates of ``bench/service_year.py``.
docs/replay.md states each one and where it comes from.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, time

# Contractor posts of the seed: 42 staff, of them 22 case-following posts (12 trial, 10 enforcement).
STAFF = {"intake_clerk": 5, "scheduler": 3, "service_clerk": 5, "file_clerk": 3, "archivist": 3,
         "contractor_manager": 1, "follow_up": 22}
FEATURES = ("address-reuse", "law-firm-e-service", "ladder-escalation", "auto-scheduling")
# Courtrooms: the main court's and each tribunal's (in the order of ``ancillary.demo.TRIBUNALS``).
ROOMS = {"main": 8, "张村人民法庭": 2, "孙家疃人民法庭": 1, "温泉人民法庭": 1}
KIND_WEIGHTS = {"speedy": 30, "summary": 35, "ordinary": 15, "enforcement": 20}


@dataclass(frozen=True)
class Rates:
    """How parties, judges and carriers behave (shares in [0, 1])."""

    agreed_law_firm: float = 0.08  # defendants represented by a firm that signed e-service
    law_firm_delivered: float = 0.98
    phone_reached: float = 0.55
    consent_when_reached: float = 0.45
    sms_delivered: float = 0.95
    personal_served: float = 0.38  # per direct-service visit
    personal_refused_witnessed: float = 0.05
    personal_moved: float = 0.07
    mail_signed: float = 0.50
    mail_unclaimed: float = 0.40  # the rest come back: wrong address
    repeat_defendant: float = 0.15  # sued again: the same person as in an earlier case
    stale_address: float = 0.30  # a repeat defendant's filing gives an address they have left
    second_defendant: float = 0.20
    tribunal_venue: float = 0.40
    law_firm_for_plaintiff: float = 0.40
    late_close: float = 0.002  # a judge reports the case closed after its statutory limit
    late_ack: float = 0.05  # a reminder acknowledged only after the 24 h escalation
    # Hearings per case (docs/replay.md "Hearings"): the share of first hearings that leave the case
    # undecided, by kind; of cases heard twice, the share heard a third time; who asks.
    further_speedy: float = 0.05
    further_summary: float = 0.25
    further_ordinary: float = 0.60
    further_enforcement: float = 0.0
    third_hearing: float = 0.25
    judge_asks: float = 0.80  # else the follow-up post asks on the "heard, not reported closed" reminder
    # Adjournments: the share of hearings a scheduler moves later before they happen, by kind.
    adjourned_speedy: float = 0.02
    adjourned_summary: float = 0.08
    adjourned_ordinary: float = 0.12
    adjourned_enforcement: float = 0.05

    def scaled(self, **changes: float) -> Rates:
        return replace(self, **changes)


@dataclass(frozen=True)
class Minutes:
    """Time one person spends per action, in minutes."""

    file_case: float = 15
    claim: float = 1
    schedule_by_hand: float = 8  # read the suggestions, pick a slot, book
    schedule_auto_run: float = 5  # run auto-scheduling and check its plan ...
    schedule_auto_case: float = 1  # ... plus per case it booked
    electronic: float = 8  # law-firm e-mail, or call + SMS
    visit: float = 20  # direct service (visits are batched by district)
    mail: float = 5
    posting: float = 30
    archive_volume: float = 16  # receive, count, bind, scan, shelve one volume
    follow_up_prompt: float = 5  # read the reminder, ask the judge's team, ask for the further hearing
    adjourn: float = 8  # read the suggestions, move the hearing


@dataclass(frozen=True)
class ReplaySettings:
    seed: int = 136
    start: date = date(2026, 1, 1)
    months: int = 12
    cases_per_year: int = 15663
    volume: float = 1.0
    staff: dict[str, int] = field(default_factory=lambda: dict(STAFF))
    without: tuple[str, ...] = ()
    rates: Rates = field(default_factory=Rates)
    minutes: Minutes = field(default_factory=Minutes)
    judges: int = 30
    officers: int = 10
    rooms: dict[str, int] | None = None  # per venue ("main", "tribunal": each); None: derived (``derive_rooms``)
    room_fill: float = 0.96  # derived rooms: the fewest whose open minutes the seed's demand fills to at most this
    room_hours: dict[str, tuple[time, time]] = field(default_factory=lambda: {
        "main": (time(8, 30), time(17, 30)), "tribunal": (time(8, 30), time(17, 0))})
    lunch_minutes: int = 90  # the product's default lunch break (12:00-13:30): no hearing then
    law_firms_agreed: int = 4
    law_firms_other: int = 2
    work_spans: tuple[tuple[time, time], ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))
    ticks: tuple[time, ...] = (time(8, 5), time(12, 5), time(16, 5), time(18, 5))
    close_days: dict[str, tuple[int, int]] = field(default_factory=lambda: {
        "speedy": (1, 10), "summary": (5, 40), "ordinary": (15, 100), "enforcement": (20, 120)})
    take_back_days: tuple[int, int] = (1, 10)  # closing -> the file reaches the archive post
    notice_days: tuple[int, int] = (2, 7)  # exhausted -> the judge orders public notice
    ack_hours: tuple[float, float] = (0.5, 20.0)  # a reminder acknowledged after this many hours
    revisit_days: int = 2
    review_days: int = 7  # without the ladder's clock: a clerk reviews stalled orders this often
    tail_days: int = 45  # the clock runs on after the last filing month so late work is decided
    # The 12 courtrooms per venue, split by the hearing minutes each venue is asked for
    # (docs/replay.md "Hearings"); None: ``rooms`` / ``derive_rooms`` decide.
    venue_rooms: dict[str, int] | None = field(default_factory=lambda: dict(ROOMS))
    ask_days: tuple[int, int] = (1, 5)  # hearing -> the judge asks for the further hearing
    further_margin_days: int = 20  # no further hearing when the limit is nearer: the judge decides
    max_hearings: int = 3
    adjourn_days: tuple[int, int] = (1, 7)  # moved this many days before the hearing

    def has(self, feature: str) -> bool:
        return feature not in self.without

    def describe(self) -> dict:
        body = asdict(self)
        body["start"] = self.start.isoformat()
        body["work_spans"] = [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in self.work_spans]
        body["ticks"] = [t.strftime("%H:%M") for t in self.ticks]
        body["room_hours"] = {venue: [a.strftime("%H:%M"), b.strftime("%H:%M")]
                              for venue, (a, b) in sorted(self.room_hours.items())}
        body["without"] = list(self.without)
        return body


def derive_rooms(rs: ReplaySettings, hearing_minutes: dict[str, int]) -> dict[str, int]:
    """Rooms per venue for the seed's volume: the fewest whose open minutes its hearings fill
    to at most ``room_fill`` (the seed states no room count, only that rooms were over 90 % used).

    Daily demand of a venue: cases a working day (``cases_per_year`` / 250, not times
    ``--volume``: more arrivals find the same rooms) × the kinds' shares × their hearing
    minutes, trial cases split between the main court and the three tribunals as filed.
    """
    if rs.rooms is not None:
        return dict(rs.rooms)
    per_day = rs.cases_per_year / 250
    total = sum(KIND_WEIGHTS.values())
    trial = sum(per_day * w / total * hearing_minutes[k] for k, w in KIND_WEIGHTS.items() if k != "enforcement")
    enforcement = per_day * KIND_WEIGHTS["enforcement"] / total * hearing_minutes["enforcement"]
    share = rs.rates.tribunal_venue
    demand = {"main": trial * (1 - share) + enforcement, "tribunal": trial * share / 3}
    rooms = {}
    for venue, minutes in demand.items():
        opens, closes = rs.room_hours[venue]
        open_minutes = (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute) - rs.lunch_minutes
        rooms[venue] = max(1, math.ceil(minutes / (open_minutes * rs.room_fill)))
    return rooms


def scale_staff(total: int, base: dict[str, int] | None = None) -> dict[str, int]:
    """Spread ``total`` staff over the posts in the seed's proportions (largest remainder, one each at least)."""
    base = base or STAFF
    whole = sum(base.values())
    shares = {post: total * n / whole for post, n in base.items()}
    staff = {post: max(1, math.floor(share)) for post, share in shares.items()}
    order = sorted(base, key=lambda p: (-(shares[p] - math.floor(shares[p])), p))
    while sum(staff.values()) > total:  # the one-each floor overshot: take from the largest post
        largest = max(sorted(staff), key=lambda p: staff[p])
        staff[largest] -= 1
    for post in order:
        if sum(staff.values()) >= total:
            break
        staff[post] += 1
    return staff
