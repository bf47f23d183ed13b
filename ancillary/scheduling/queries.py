"""Read side of scheduling: who sees which hearings, overlaps, suggestions, utilisation."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from ancillary.auth.models import Role, User
from ancillary.auth.policy import paired_officer_ids
from ancillary.cases.models import Case
from ancillary.errors import Forbidden
from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus, overlapping
from ancillary.scheduling.rules import Ledger, Need, Refusal, limit_refusal

# Who sees hearings, and whether with the parties' names (never contacts).
NAME_ROLES = frozenset({Role.scheduler, Role.court_admin, Role.judge, Role.enforcement_officer})
HEARING_READERS = (Role.scheduler, Role.court_admin, Role.judge, Role.enforcement_officer, Role.follow_up,
                   Role.service_clerk)


def visible_hearings(session: Session, user: User, judge_id: int | None = None) -> Select:
    """``select(Hearing)`` limited to what ``user`` may see, or Forbidden."""
    from ancillary.queues.models import Task, TaskKind, TaskStatus

    # One query for the cases' parties and each judge, not one per hearing (a full week is 400+).
    query = select(Hearing).options(joinedload(Hearing.case).selectinload(Case.parties), joinedload(Hearing.courtroom),
                                    joinedload(Hearing.judge))
    role = user.role
    if role in (Role.scheduler, Role.court_admin):
        return query
    if role in (Role.judge, Role.enforcement_officer):
        if judge_id is not None and judge_id != user.id:
            raise Forbidden("not_your_calendar", "you see only your own hearings", field="judge_id")
        return query.where(Hearing.judge_id == user.id)
    if role == Role.follow_up:
        return query.where(Hearing.judge_id.in_(paired_officer_ids(session, user)))
    if role == Role.service_clerk:
        held = select(Task.case_id).where(Task.kind == TaskKind.serve, Task.assignee_id == user.id,
                                          Task.status.in_([TaskStatus.claimed, TaskStatus.done]))
        return query.where(Hearing.case_id.in_(held))
    raise Forbidden("no_hearing_access", "the {role} role sees no hearings", role=role.value)


def mark_overlaps(session: Session, hearings: list[Hearing]) -> list[Hearing]:
    """Set ``.overlap`` on each booked hearing that shares its room and time with another."""
    booked = [h for h in hearings if h.status == HearingStatus.booked]
    for h in hearings:
        h.overlap = False
    if not booked:
        return hearings
    rooms = {h.courtroom_id for h in booked}
    start, end = min(h.starts_at for h in booked), max(h.ends_at for h in booked)
    by_room = defaultdict(list)
    for o in session.execute(select(Hearing.id, Hearing.courtroom_id, Hearing.starts_at, Hearing.ends_at).where(
            Hearing.courtroom_id.in_(rooms), Hearing.status == HearingStatus.booked,
            *overlapping(start, end))):
        by_room[o.courtroom_id].append(o)
    shared = set()
    for others in by_room.values():
        shared |= _overlapping_ids(others)
    for h in booked:
        h.overlap = h.id in shared
    return hearings


def _overlapping_ids(intervals) -> set[int]:
    """The ids of the intervals (``id, starts_at, ends_at``) of one room that meet another, in one sweep
    in start order: one meets an earlier one when the latest end before it is after its start, and a
    later one when the next start is before its end."""
    ordered = sorted(intervals, key=lambda o: (o.starts_at, o.id))
    found: set[int] = set()
    latest_end = None
    for index, o in enumerate(ordered):
        meets_earlier = latest_end is not None and latest_end > o.starts_at
        meets_later = index + 1 < len(ordered) and ordered[index + 1].starts_at < o.ends_at
        if meets_earlier or meets_later:
            found.add(o.id)
        latest_end = o.ends_at if latest_end is None else max(latest_end, o.ends_at)
    return found


def earliest_start(need: Need, now: datetime, settings) -> datetime:
    """The first instant the summons allows: whole days of notice after today (local)."""
    tz = settings.timezone
    days = settings.speedy_notice_days if need.kind == "speedy" else settings.hearing_notice_days
    first_day = now.astimezone(tz).date() + timedelta(days=days)
    return max(now, datetime.combine(first_day, time(0), tz).astimezone(UTC))


SUGGESTION_HORIZON_DAYS = 62


def suggestions(session: Session, case, *, now: datetime, settings, limit: int = 10,
                horizon_days: int = SUGGESTION_HORIZON_DAYS, per_room_day: int = 3) -> list[dict]:
    """The earliest feasible slots for ``case``: room, time, judge free, inside its limits."""
    tz = settings.timezone
    need = Need.of(session, case, settings)
    not_before = earliest_start(need, now, settings)
    first = not_before.astimezone(tz).date()
    last = min(first + timedelta(days=horizon_days), need.latest.astimezone(tz).date())
    if last < first:
        return []
    room_ids = list(session.scalars(select(Courtroom.id).where(Courtroom.venue == case.venue, Courtroom.is_active)))
    if not room_ids:
        return []
    ledger = Ledger.load(session, first, last, tz=tz, room_ids=room_ids, judge_ids=[need.judge_id])
    found: list[dict] = []
    for day in ledger.working.between(first, last):
        for room in ledger.rooms_for(need.venue):
            for starts_at, ends_at, lane in ledger.slots_in_day(need, room, day, not_before, limit=per_room_day):
                found.append({"courtroom_id": room.id, "courtroom_name": room.name, "venue": room.venue,
                              "starts_at": starts_at, "ends_at": ends_at, "overlap": lane == 1})
        if len(found) >= limit:
            break
    found.sort(key=lambda s: (s["starts_at"], s["courtroom_name"], s["courtroom_id"]))
    return found[:limit]


def no_slot_reason(session: Session, case, *, now: datetime, settings,
                   horizon_days: int = SUGGESTION_HORIZON_DAYS) -> Refusal:
    """Why ``suggestions`` finds no slot for ``case``, in the rules' terms.

    No active courtroom at its venue (``no_courtroom``); even the first hearing the
    notice period allows would end after its 7-day limit (``past_speedy_limit``) or its
    statutory deadline (``past_deadline``); otherwise every room-day up to the limit
    (``no_slot_before_speedy_limit``) or the search horizon (``no_free_slot``) is taken.
    """
    tz = settings.timezone
    need = Need.of(session, case, settings)
    if session.scalar(select(Courtroom.id).where(Courtroom.venue == case.venue, Courtroom.is_active).limit(1)) is None:
        return Refusal("no_courtroom", "there is no active courtroom at the venue {venue}",
                       {"venue": case.venue, "limit": None})
    not_before = earliest_start(need, now, settings)
    too_late = limit_refusal(need, not_before + timedelta(minutes=need.minutes), tz)
    if too_late is not None:
        return too_late
    horizon = not_before.astimezone(tz).date() + timedelta(days=horizon_days)
    last = min(horizon, need.latest.astimezone(tz).date())
    by_speedy_limit = need.speedy_limit is not None and need.speedy_limit.astimezone(tz).date() == last
    until = need.speedy_limit if by_speedy_limit else min(need.latest, datetime.combine(last, time.max, tz))
    return Refusal("no_slot_before_speedy_limit" if by_speedy_limit else "no_free_slot",
                   "no courtroom of the venue is free while the judge is, up to {day}",
                   {"day": last.isoformat(), "limit": until.astimezone(tz).replace(microsecond=0).isoformat()})


def utilization(session: Session, first: date, last: date, settings, *, venue: str | None = None) -> dict:
    """Booked minutes over open minutes per room per working day; an overlap pair counts once."""
    tz = settings.timezone
    room_query = select(Courtroom).where(Courtroom.is_active).order_by(Courtroom.venue, Courtroom.name)
    if venue:
        room_query = room_query.where(Courtroom.venue == venue)
    rooms = list(session.scalars(room_query))
    ledger = Ledger.load(session, first, last, tz=tz, room_ids=[r.id for r in rooms])
    days = ledger.working.between(first, last)
    result_rooms = []
    total_used = total_open = 0
    for room in rooms:
        room_days = []
        room_used = room_open = 0
        for day in days:
            open_minutes = ledger.open_minutes(room.id, day)
            opens, closes = ledger.opening(ledger.rooms[room.id], day)
            blocked = _union_minutes([(max(s, opens), min(e, closes))
                                      for s, e, _, _ in ledger.room_blocks.get(room.id, ())
                                      if s < closes and e > opens])
            open_minutes -= blocked
            used = _union_minutes([(b.starts_at, b.ends_at) for b in ledger.by_room.get((room.id, day), ())])
            room_days.append({"date": day.isoformat(), "booked_minutes": used, "open_minutes": open_minutes,
                              "utilization": round(used / open_minutes, 4) if open_minutes > 0 else None})
            room_used += used
            room_open += max(open_minutes, 0)
        result_rooms.append({"courtroom_id": room.id, "name": room.name, "venue": room.venue, "days": room_days,
                             "booked_minutes": room_used, "open_minutes": room_open,
                             "utilization": round(room_used / room_open, 4) if room_open else None})
        total_used += room_used
        total_open += room_open
    return {"from": first.isoformat(), "to": last.isoformat(), "working_days": len(days),
            "booked_minutes": total_used, "open_minutes": total_open,
            "utilization": round(total_used / total_open, 4) if total_open else None, "rooms": result_rooms}


def _union_minutes(intervals) -> int:
    """Minutes covered by the union of [start, end) intervals."""
    total = 0
    current_start = current_end = None
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_end is not None:
                total += (current_end - current_start).total_seconds()
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += (current_end - current_start).total_seconds()
    return int(total // 60)
