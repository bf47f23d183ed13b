"""Auto-scheduling: place every pending case it can in a window, and say why not for the rest.

Cases are ordered speedy first, then by the earliest limit (7-day limit or statutory
deadline), then by filing; ``packing`` fills the room-days (urgent cases first, then
best-fit decreasing by duration, then repair moves that fill holes), keeping each venue's
speedy reserve (``reserve``: room time for the speedy cases still to be filed). The bench
measures how close this gets to min(demand, capacity) per venue, the proven optimum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ancillary.cases.models import Case, CaseStatus
from ancillary.errors import Invalid
from ancillary.queues.models import Task, TaskKind, TaskStatus
from ancillary.scheduling import bulk, packing, reserve
from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus
from ancillary.scheduling.queries import earliest_start
from ancillary.scheduling.rules import Booked, Need

SEARCH_LIMIT = "search_limit_reached"  # the repair budget (packing.REPAIR_BUDGET) ran out before this case
PENDING_COLUMNS = (Case.id, Case.number, Case.kind, Case.track, Case.venue, Case.judge_id, Case.hearing_minutes,
                   Case.deadline_at, Case.filed_at, Case.mediation_likely)


@dataclass
class Plan:
    scheduled: list[dict]
    unscheduled: list[dict]


def pending_cases(session: Session, now: datetime) -> list:
    """Open cases with an open or claimed scheduling task and no hearing still to come.

    Rows of the columns a ``Need`` is made of (``id``, ``number``, ``kind``, ``track``,
    ``venue``, ``judge_id``, ...), not ORM objects: a month's intake is read in one pass.
    """
    return list(session.execute(select(*PENDING_COLUMNS).where(*_pending(now))))


def _pending(now: datetime) -> tuple:
    waiting = select(Task.case_id).where(Task.kind == TaskKind.schedule_hearing,
                                         Task.status.in_([TaskStatus.open, TaskStatus.claimed]))
    # Looked up per waiting case by its hearings' case index, not a list of every hearing still to come.
    upcoming = exists().where(Hearing.case_id == Case.id, Hearing.status == HearingStatus.booked, Hearing.ends_at > now)
    return Case.status == CaseStatus.open, Case.id.in_(waiting), ~upcoming


def check_window(first: date, last: date, now: datetime, settings) -> None:
    if last < first:
        raise Invalid("window_order", "to must not be before from", field="to")
    if (last - first).days + 1 > settings.auto_schedule_max_days:
        raise Invalid("window_too_long", "auto-scheduling plans at most {days} days at a time", field="to",
                      days=settings.auto_schedule_max_days)
    if first < now.astimezone(settings.timezone).date():
        raise Invalid("window_in_past", "from lies in the past", field="from")


def _reason(need: Need, ledger: reserve.PlannerLedger, first: date, last: date, not_before: datetime,
            tz) -> tuple[str, str]:
    if not ledger.rooms_for(need.venue):
        return "no_courtroom", f"no active courtroom at venue {need.venue}"
    latest_day = need.latest.astimezone(tz).date()
    start_day = max(first, not_before.astimezone(tz).date())
    if latest_day < start_day:
        if need.speedy_limit is not None and need.speedy_limit <= need.deadline:
            return "speedy_limit_before_window", (
                f"the 7-day limit ends {need.speedy_limit.astimezone(tz):%Y-%m-%d}, before the first day allowed")
        return "deadline_before_window", f"the deadline {need.deadline.astimezone(tz):%Y-%m-%d} falls before the window"
    if start_day > last:
        return "notice_period", "the summons notice period reaches beyond the window"
    if need.speedy_limit is not None and latest_day <= last and not ledger.working.between(start_day, latest_day):
        return "court_closed_before_speedy_limit", (
            f"the court is closed on every day up to the 7-day limit {need.speedy_limit.astimezone(tz):%Y-%m-%d}")
    if need.case_id in ledger.unsearched:
        return SEARCH_LIMIT, ("no free slot; the search for moves of other hearings that could free one reached "
                              "this plan's limit, and the next plan searches again")
    if need.speedy_limit is not None and latest_day <= last:
        return "no_slot_before_speedy_limit", (
            f"no room and judge free together before the 7-day limit {need.speedy_limit.astimezone(tz):%Y-%m-%d}")
    if need.case_id in ledger.held_back:
        return reserve.CODE, "the room time left in the window is kept for speedy cases still to be filed"
    return "no_free_slot", "no room at the venue and the judge free together in the window"


def plan(session: Session, first: date, last: date, *, now: datetime, settings, venue: str | None = None,
         skip: frozenset[int] = frozenset(), held: tuple[Booked, ...] = (), pending: list | None = None) -> tuple[
        Plan, list]:
    """Decide slots for the pending cases (nothing is written); returns the plan and the placements.

    ``skip``: cases left out; ``held``: slots already promised (open proposals), planned around;
    ``pending``: ``pending_cases`` as the caller just read them (read here if None).
    """
    tz = settings.timezone
    check_window(first, last, now, settings)
    pending = pending_cases(session, now) if pending is None else pending
    cases = [c for c in pending if (venue is None or c.venue == venue) and c.id not in skip]
    needs = [Need.of(session, c, settings) for c in cases]
    needs.sort(key=lambda n: (n.kind != "speedy", n.latest, n.filed_at, n.case_id))
    window_start = datetime.combine(first, time(0), tz).astimezone(UTC)
    not_before = {n.case_id: max(earliest_start(n, now, settings), window_start) for n in needs}
    # A case can be placed only if it may start in the window and end by its limit; when none can (only
    # cases whose 7 days ran out, or whose notice reaches past the window), the bookings are not read.
    placeable = any(not packing.out_of_time(n, not_before) and not_before[n.case_id].astimezone(tz).date() <= last
                    for n in needs)
    ledger = reserve.PlannerLedger.load(session, first, last, tz=tz, bookings=placeable)
    packed, rest = [], needs
    if placeable:
        for slot in held:
            ledger.add(slot)
        reserve.hold(session, ledger, first, last, now, settings)
        packed, rest = packing.pack(ledger, needs, ledger.working.between(first, last), not_before)
    placements = [(p.need, p.room, p.starts_at, p.ends_at, p.lane) for p in packed]
    placements.sort(key=lambda item: (item[2], item[1].venue, item[1].name, item[1].id))
    unscheduled = []
    for need in rest:
        code, detail = _reason(need, ledger, first, last, not_before[need.case_id], tz)
        unscheduled.append({"case_id": need.case_id, "case_number": need.number, "reason": code, "detail": detail})
    scheduled = [{"case_id": n.case_id, "case_number": n.number, "courtroom_id": r.id, "starts_at": s, "ends_at": e}
                 for n, r, s, e, _ in placements]
    return Plan(scheduled, unscheduled), placements


def run(session: Session, first: date, last: date, *, actor, now: datetime, settings, venue: str | None = None,
        dry_run: bool = False, skip: frozenset[int] = frozenset(), held: tuple[Booked, ...] = ()) -> dict:
    """Plan and book in one go: the rooms and judges are locked first, so the plan is what gets booked."""
    if not dry_run:
        judges = session.scalars(select(Case.judge_id).where(*_pending(now)).distinct()).all()
        bulk.lock(session, session.scalars(select(Courtroom.id)).all(), judges)
    result, placements = plan(session, first, last, now=now, settings=settings, venue=venue, skip=skip, held=held)
    scheduled = result.scheduled
    if not dry_run:
        ids = bulk.book_all(session, placements, actor=actor, now=now, settings=settings)
        scheduled = [{"id": hearing_id, "case_id": n.case_id, "case_number": n.number, "courtroom_id": r.id,
                      "courtroom_name": r.name, "judge_id": n.judge_id, "starts_at": s, "ends_at": e,
                      "overlap": lane == 1}
                     for hearing_id, (n, r, s, e, lane) in zip(ids, placements, strict=True)]
    return {"from": first, "to": last, "dry_run": dry_run, "scheduled": scheduled, "unscheduled": result.unscheduled}
