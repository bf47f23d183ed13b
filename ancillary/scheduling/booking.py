"""What booking one hearing reads, in two statements.

A booking used to pay a round trip for each thing it checked (the case, the room, the
lock, the court day, the rooms, the hearings, the blockings, the judge, then the same
again for the answer). Under load a round trip costs more than the work it carries, so
booking reads:

1. ``load``: the case with its parties, the room, the judge and whether the day is a
   court day, in one statement that on PostgreSQL also locks the room's and the judge's
   rows (``FOR NO KEY UPDATE OF``, room before judge, as every booking and
   ``bulk.lock`` take them);
2. ``ledger_around``: after the lock, in a statement of its own (so that it sees what
   the previous holder of the lock committed), the hearings of the room and the judge
   that day, the case's hearing still to come, and the blockings of both.

The rules themselves stay in ``rules.Ledger``; the exclusion constraints stand behind
them on PostgreSQL, and SQLite's single writer serialises bookings there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Boolean, Integer, and_, bindparam, literal, null, or_, select, union_all
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ancillary.auth.models import User
from ancillary.cases.models import Case, Party
from ancillary.driversql import DriverStatement
from ancillary.errors import Conflict, Invalid
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.models import LONGEST_HEARING, Blocking, CourtDay, Courtroom, Hearing, HearingStatus
from ancillary.scheduling.rules import Booked, Ledger, Need, Room, naming


@dataclass
class Loaded:
    """The case (parties loaded), the room, the judge, and the court calendar's word on the day."""

    case: Case
    room: Courtroom
    judge: User
    is_working: bool | None  # None: no entry, the weekday decides


# The columns the rules, the SMS and the answer read (fewer than half of the four tables'),
# read as plain rows: the ORM's query machinery (its compile state, loading three objects
# and a joined collection per row) cost a booking more than the statement. The objects are
# then made as if a query had loaded them (``_as_loaded``); anything else loads when read.
_CASE = ("id", "number", "kind", "track", "venue", "filed_at", "judge_id", "status", "deadline_at",
         "mediation_likely", "hearing_minutes")
_ROOM = ("id", "name", "venue", "opens", "closes", "lunch_starts", "lunch_ends", "is_active")
_JUDGE = ("id", "display_name", "phone", "role")
_PARTY = ("id", "case_id", "role", "name")


def _load_statement(lock: bool):
    cases, rooms, users, days, parties = (model.__table__ for model in (Case, Courtroom, User, CourtDay, Party))
    query = (select(*(cases.c[k] for k in _CASE), *(rooms.c[k] for k in _ROOM), *(users.c[k] for k in _JUDGE),
                    days.c.is_working, *(parties.c[k] for k in _PARTY))
             .select_from(cases.join(users, users.c.id == cases.c.judge_id)
                          .join(rooms, rooms.c.id == bindparam("courtroom_id"))
                          .outerjoin(days, days.c.day == bindparam("day"))
                          .outerjoin(parties, parties.c.case_id == cases.c.id))
             .where(cases.c.id == bindparam("case_id")).order_by(parties.c.id))
    if lock:
        # Bookings of one room or one judge queue here until the holder commits; rows that
        # only refer to them (audit entries, notifications) do not wait (NO KEY UPDATE).
        query = query.with_for_update(of=[rooms, users], key_share=True)
    return query


# Built once (with and without PostgreSQL's row locks): a reused statement keeps its
# cache key, where one built per booking pays for the expression and the key each time.
# Run on the driver's cursor on PostgreSQL (``ancillary.driversql``): Core's execution layer cost more.
_LOAD = {lock: DriverStatement(_load_statement(lock)) for lock in (False, True)}


def _slices(*parts: tuple) -> list[slice]:
    """Where each part's columns lie in a loaded row."""
    ends = [sum(len(part) for part in parts[:i + 1]) for i in range(len(parts))]
    return [slice(end - len(part), end) for part, end in zip(parts, ends, strict=True)]


_CASE_AT, _ROOM_AT, _JUDGE_AT, _DAY_AT, _PARTY_AT = _slices(_CASE, _ROOM, _JUDGE, ("is_working",), _PARTY)


def _as_loaded(session: Session, model, columns: tuple, values) -> object:
    """The object of these column values as a query would give it: the session's own if it holds one."""
    held = session.identity_map.get((model, (values[0],), None))  # identity_key(model, id), unbuilt
    if held is not None:
        return held
    obj = model.__mapper__.class_manager.new_instance()
    obj.__dict__.update(zip(columns, values, strict=True))
    make_transient_to_detached(obj)  # the columns given count as loaded, the rest as expired
    session.add(obj)
    return obj


def load(session: Session, *, case_id: int, courtroom_id: int, day: date) -> Loaded | None:
    """The case, room and judge of a booking, the room and judge locked; None if the case or room is missing."""
    query = _LOAD[session.get_bind().dialect.name == "postgresql"]
    if session.autoflush:
        session.flush()  # as the ORM's query would: what the caller changed before is read back
    rows = query.rows(session, {"case_id": case_id, "courtroom_id": courtroom_id, "day": day})
    if not rows:
        return None
    first = rows[0]
    case = _as_loaded(session, Case, _CASE, first[_CASE_AT])
    if "parties" not in case.__dict__:
        set_committed_value(case, "parties", [_as_loaded(session, Party, _PARTY, row[_PARTY_AT]) for row in rows
                                              if row[_PARTY_AT][0] is not None])
    return Loaded(case, _as_loaded(session, Courtroom, _ROOM, first[_ROOM_AT]),
                  _as_loaded(session, User, _JUDGE, first[_JUDGE_AT]), first[_DAY_AT][0])


def _day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz)


def _rows_statement(excluding: bool):
    """One statement: booked hearings near the slot, and blockings, as rows of one shape (Core: plain rows)."""
    hearing, case, blocking = (model.__table__.c for model in (Hearing, Case, Blocking))
    start, end, room_id, judge_id = bindparam("start"), bindparam("end"), bindparam("room_id"), bindparam("judge_id")
    that_day = and_(hearing.starts_at < end, hearing.ends_at > start, hearing.starts_at > bindparam("earliest"),
                    or_(hearing.courtroom_id == room_id, hearing.judge_id == judge_id))
    still_to_come = and_(hearing.case_id == bindparam("case_id"), hearing.ends_at > bindparam("now"))
    hearings = (select(literal("hearing").label("kind"), hearing.id, hearing.case_id, hearing.courtroom_id,
                       hearing.judge_id, hearing.starts_at, hearing.ends_at, hearing.lane,
                       hearing.is_overlap_eligible, case.number.label("label"))
                .join_from(Hearing.__table__, Case.__table__, case.id == hearing.case_id)
                .where(hearing.status == HearingStatus.booked, or_(that_day, still_to_come)))
    if excluding:
        hearings = hearings.where(hearing.id != bindparam("exclude_hearing_id"))
    blockings = (select(literal("blocking"), blocking.id, null().cast(Integer), blocking.courtroom_id,
                        blocking.user_id, blocking.starts_at, blocking.ends_at, null().cast(Integer),
                        null().cast(Boolean), blocking.reason)
                 .where(blocking.starts_at < end, blocking.ends_at > start,
                        or_(blocking.courtroom_id == room_id, blocking.user_id == judge_id)))
    return union_all(hearings, blockings)


_ROWS = {excluding: DriverStatement(_rows_statement(excluding)) for excluding in (False, True)}


def _rows(session: Session, room_id: int, judge_id: int, case_id: int, day: date, now: datetime, tz: ZoneInfo,
          exclude_hearing_id: int | None):
    start, end = _day_bounds(day, tz)
    params = {"start": start, "end": end, "earliest": start - LONGEST_HEARING, "room_id": room_id,
              "judge_id": judge_id, "case_id": case_id, "now": now}
    if exclude_hearing_id is not None:
        params["exclude_hearing_id"] = exclude_hearing_id
    if session.autoflush:
        session.flush()  # as the ORM's execute would (a no-op when nothing changed since ``load``)
    # Plain rows, without the ORM's execute layer (its compile state, events and result
    # wrapping) nor, on PostgreSQL, Core's: both cost more than this statement.
    return _ROWS[exclude_hearing_id is not None].rows(session, params)


def ledger_around(session: Session, loaded: Loaded, *, judge_id: int, day: date, now: datetime, tz: ZoneInfo,
                  exclude_hearing_id: int | None = None) -> tuple[Ledger, Booked | None]:
    """The ledger of the room and the judge on ``day``, and the case's booked hearing still to come (if any)."""
    room, case = loaded.room, loaded.case
    working = WorkingDays({} if loaded.is_working is None else {day: loaded.is_working})
    ledger = Ledger([Room(room.id, room.name, room.venue, room.opens, room.closes, room.is_active,
                          room.lunch_starts, room.lunch_ends)], working, tz)
    start, end = _day_bounds(day, tz)
    upcoming = []
    for row in _rows(session, room.id, judge_id, case.id, day, now, tz, exclude_hearing_id):
        kind, ident, case_id, courtroom_id, subject_id, starts_at, ends_at, lane, eligible, label = row
        if kind == "blocking":
            blocks = ledger.room_blocks[courtroom_id] if courtroom_id is not None else ledger.user_blocks[subject_id]
            blocks.append((starts_at, ends_at, ident, label))
            continue
        booked = Booked(ident, case_id, courtroom_id, subject_id, starts_at, ends_at, lane, eligible, label)
        if case_id == case.id and ends_at > now:
            upcoming.append(booked)
        if starts_at < end and ends_at > start and (courtroom_id == room.id or subject_id == judge_id):
            ledger.add(booked)
    return ledger, min(upcoming, key=lambda b: b.id, default=None)


def shares_room(ledger: Ledger, room_id: int, starts_at: datetime, ends_at: datetime) -> bool:
    """Whether a hearing in ``room_id`` over this period shares the room with one already booked."""
    day = ledger.local_day(starts_at)
    return any(b.starts_at < ends_at and starts_at < b.ends_at for b in ledger.by_room.get((room_id, day), ()))


def already_booked(case: Case, active: Booked, tz: ZoneInfo) -> Conflict:
    """The 409 for a case that already has a hearing to come."""
    return Conflict("already_booked", "case {number} already has a hearing on {day} {starts}-{ends}; move it instead",
                    field="case_id", hearing_id=active.id, **naming(case.number, active.starts_at, active.ends_at, tz),
                    conflict={"hearing_id": active.id, "courtroom_id": active.courtroom_id,
                              "starts_at": active.starts_at.astimezone(tz).isoformat(),
                              "ends_at": active.ends_at.astimezone(tz).isoformat()})


def lane(ledger: Ledger, need: Need, room_id: int, starts_at: datetime, ends_at: datetime) -> int:
    """The slot's lane by the rules, or the error that refuses it."""
    if ends_at.astimezone(ledger.tz).date() != ledger.local_day(starts_at):
        raise Invalid("spans_days", "a hearing starts and ends on the same day", field="ends_at")
    refusal, found = ledger.refusal(need, room_id, starts_at, ends_at)
    if refusal is not None:
        raise Conflict(refusal.code, refusal.template, field="starts_at", **refusal.params)
    return found
