"""Commands on the court's scheduling resources: rooms, calendar, blockings, hearings.

Each command flushes and audits; the request (or the CLI) commits. Booking and
moving take the write lock first (SQLite: BEGIN IMMEDIATE, already held; PostgreSQL:
the courtroom's and the judge's rows, FOR NO KEY UPDATE, room before judge) in the
statement that loads the case (``scheduling.booking``), then check the rules of
``scheduling.rules`` against what is booked. On PostgreSQL the exclusion constraints
stand behind that check.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ancillary.audit.services import log_access, record
from ancillary.auth.models import OFFICER_ROLES, Role, User
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Conflict, Forbidden, Invalid, NotFound
from ancillary.outbox import enqueue
from ancillary.queues.models import OPEN_STATES, Queue, Task, TaskKind
from ancillary.scheduling import booking, booking_write, sms
from ancillary.scheduling.models import Blocking, CourtDay, Courtroom, Hearing, HearingStatus
from ancillary.scheduling.rules import Need

log = logging.getLogger(__name__)

MIN_MINUTES, MAX_MINUTES = 10, 480


_DEFAULT = object()


def create_courtroom(
    session: Session, *, name: str, venue: str, opens: time, closes: time, capacity: int = 30,
    has_video: bool = False, actor, now: datetime, lunch=_DEFAULT, settings=None,
) -> Courtroom:
    """Add a courtroom to a venue ('main' or a people's tribunal).

    ``lunch`` is (starts, ends) or None for no break; left out, the room gets the
    default break of ``settings`` when it lies inside the opening hours.
    """
    name, venue = name.strip(), venue.strip()
    if lunch is _DEFAULT:
        default = settings.lunch_break if settings is not None else (time(12), time(13, 30))
        lunch = default if opens <= default[0] and default[1] <= closes else None
    else:
        _check_lunch(opens, closes, lunch)
    if session.scalar(select(Courtroom.id).where(Courtroom.venue == venue, Courtroom.name == name)):
        raise Conflict("duplicate_courtroom", "courtroom {name} already exists at {venue}", field="name",
                       name=name, venue=venue)
    room = Courtroom(name=name, venue=venue, opens=opens, closes=closes, capacity=capacity, has_video=has_video,
                     is_active=True, created_at=now, lunch_starts=lunch[0] if lunch else None,
                     lunch_ends=lunch[1] if lunch else None)
    session.add(room)
    session.flush()
    record(session, actor, "courtroom.create", room, now=now,
           after={"name": name, "venue": venue, "opens": opens.isoformat(), "closes": closes.isoformat()})
    return room


def _check_lunch(opens: time, closes: time, lunch) -> None:
    if lunch is None:
        return
    starts, ends = lunch
    if ends <= starts:
        raise Invalid("lunch_order", "the lunch break must end after it starts", field="lunch_ends")
    if starts < opens or ends > closes:
        raise Invalid("lunch_outside_hours", "the lunch break must lie within the opening hours {opens}-{closes}",
                      field="lunch_starts", opens=opens.strftime("%H:%M"), closes=closes.strftime("%H:%M"))


def set_lunch_break(session: Session, room: Courtroom, lunch, *, actor, now: datetime) -> Courtroom:
    """Set a courtroom's lunch break ((starts, ends), or None for none); hearings already booked stay."""
    _check_lunch(room.opens, room.closes, lunch)
    before = {"lunch_starts": _hhmm(room.lunch_starts), "lunch_ends": _hhmm(room.lunch_ends)}
    room.lunch_starts, room.lunch_ends = lunch if lunch else (None, None)
    session.flush()
    record(session, actor, "courtroom.lunch_break", room, now=now, before=before,
           after={"lunch_starts": _hhmm(room.lunch_starts), "lunch_ends": _hhmm(room.lunch_ends)})
    return room


def _hhmm(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")


# --- the court calendar and blockings ----------------------------------------------


def set_court_day(session: Session, *, day: date, is_working: bool, name: str, actor, now: datetime) -> CourtDay:
    """Mark a date a holiday or a make-up working day (the office's entry wins over the official load)."""
    row = session.get(CourtDay, day)
    before = {"is_working": row.is_working, "name": row.name} if row else None
    if row is None:
        row = CourtDay(day=day, is_working=is_working, name=name, source="admin", updated_at=now)
        session.add(row)
    else:
        row.is_working, row.name, row.source, row.updated_at = is_working, name, "admin", now
    session.flush()
    record(session, actor, "court_day.set", row, now=now, before=before,
           after={"day": day.isoformat(), "is_working": is_working, "name": name})
    return row


def create_blocking(session: Session, *, starts_at: datetime, ends_at: datetime, reason: str, actor, now: datetime,
                    courtroom_id: int | None = None, user_id: int | None = None) -> Blocking:
    """Block a courtroom (repairs) or mark an officer away (leave); booked hearings are named, not moved."""
    if (courtroom_id is None) == (user_id is None):
        raise Invalid("one_subject", "give either courtroom_id or user_id", field="courtroom_id")
    if ends_at <= starts_at:
        raise Invalid("period_order", "ends_at must be after starts_at", field="ends_at")
    if courtroom_id is not None and session.get(Courtroom, courtroom_id) is None:
        raise Invalid("unknown_courtroom", "there is no such courtroom: choose one from the courtroom list",
                      field="courtroom_id", id=courtroom_id)
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None:
            raise Invalid("unknown_user", "there is no such person: choose one from the list", field="user_id")
        if user.role not in OFFICER_ROLES:
            raise Invalid("not_an_officer", "{name} is not a judge or enforcement officer", field="user_id",
                          name=user.display_name)
    blocking = Blocking(courtroom_id=courtroom_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at,
                        reason=reason.strip(), created_by_id=getattr(actor, "id", None), created_at=now)
    session.add(blocking)
    session.flush()
    record(session, actor, "blocking.create", blocking, now=now,
           after={"courtroom_id": courtroom_id, "user_id": user_id, "reason": blocking.reason})
    return blocking


# --- hearings --------------------------------------------------------------------


def _open_case(session: Session, case_id: int):
    from ancillary.cases.models import Case

    case = session.get(Case, case_id)
    if case is None:
        raise Invalid("unknown_case", "there is no such case: check the case number and choose it again",
                      field="case_id", id=case_id)
    _check_open(case)
    return case


def _check_open(case) -> None:
    if case.status.value != "open":
        raise Conflict("case_not_open", "case {number} is {status}: it is not scheduled", field="case_id",
                       number=case.number, status=case.status.value)


def _room(session: Session, courtroom_id: int, venue: str) -> Courtroom:
    room = session.get(Courtroom, courtroom_id)
    _check_room(room, courtroom_id, venue)
    return room


def _check_room(room: Courtroom | None, courtroom_id: int, venue: str) -> None:
    if room is None or not room.is_active:
        raise Invalid("unknown_courtroom", "there is no such courtroom: choose one from the courtroom list",
                      field="courtroom_id", id=courtroom_id)
    if room.venue != venue:
        raise Invalid("wrong_venue", "courtroom {name} is at {room_venue}; the case is heard at {venue}: "
                      "choose a courtroom there", field="courtroom_id", name=room.name, room_venue=room.venue,
                      venue=venue)


def _check_period(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if ends_at <= starts_at:
        raise Invalid("period_order", "ends_at must be after starts_at", field="ends_at")
    minutes = (ends_at - starts_at).total_seconds() / 60
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise Invalid("hearing_length", "a hearing lasts {min}-{max} minutes", field="ends_at",
                      min=MIN_MINUTES, max=MAX_MINUTES)
    if starts_at <= now:
        raise Invalid("in_the_past", "starts_at lies in the past", field="starts_at")


def _flush_guarded(session: Session, hearing: Hearing) -> None:
    """Flush the hearing; if the database's exclusion constraint refuses it, answer 409 (``booking_write.refused``)."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise booking_write.refused(exc, hearing.case_id) from None


def get_hearing(session: Session, hearing_id: int) -> Hearing:
    return get_or_404(session, Hearing, hearing_id, code="hearing_not_found",
                      message=N_("there is no such hearing: reload the calendar and choose again"),
                      field="hearing_id")


def book(session: Session, *, case_id: int, courtroom_id: int, starts_at: datetime, ends_at: datetime, actor,
         now: datetime, settings, need: Need | None = None, notify: bool = True, shown_to=None) -> Hearing:
    """Book ``case_id``'s hearing; 409 names whatever stands in the way.

    Two statements read what the rules need (``scheduling.booking``); one writes the
    hearing, its audit entries, the task and the judge's SMS (``scheduling.booking_write``,
    PostgreSQL; the ORM's unit of work elsewhere). ``shown_to`` is (user, purpose) when
    the answer shows the case's parties to that user: the access-log row is written with
    the booking. The hearing comes back with its case, room, judge and ``overlap`` set:
    answering needs no further statement.
    """
    loaded, need, ledger, lane = _check_slot(session, case_id, courtroom_id, starts_at, ends_at, now=now,
                                             settings=settings, need=need)
    case, room = loaded.case, loaded.room
    if booking_write.applies(session):
        try:
            hearing = booking_write.book(session, loaded, lane=lane, eligible=need.eligible, starts_at=starts_at,
                                         ends_at=ends_at, actor=actor, now=now, settings=settings, notify=notify,
                                         shown_to=shown_to)
        except IntegrityError as exc:
            raise booking_write.refused(exc, case.id) from None
    else:
        hearing = _book_through_orm(session, loaded, need, lane, starts_at, ends_at, actor=actor, now=now,
                                    settings=settings, notify=notify)
        if shown_to is not None:
            log_access(session, shown_to[0], case.id, [p.id for p in case.parties], shown_to[1], now)
    hearing.overlap = booking.shares_room(ledger, room.id, starts_at, ends_at)
    return hearing


def _book_through_orm(session: Session, loaded, need: Need, lane: int, starts_at: datetime, ends_at: datetime, *,
                      actor, now: datetime, settings, notify: bool) -> Hearing:
    """The booking's writes through the ORM: the hearing flushed, then the rest at the next flush."""
    case, room = loaded.case, loaded.room
    tasks = _open_scheduling_tasks(session, case.id)  # after the lock: what the last holder left
    hearing = Hearing(case=case, courtroom=room, judge_id=case.judge_id, starts_at=starts_at, ends_at=ends_at,
                      lane=lane, is_overlap_eligible=need.eligible, status=HearingStatus.booked, sequence=0,
                      booked_by_id=getattr(actor, "id", None), created_at=now, updated_at=now)
    session.add(hearing)
    _flush_guarded(session, hearing)
    set_committed_value(hearing, "judge", loaded.judge)
    record(session, actor, "hearing.book", hearing, now=now,
           after={"courtroom_id": room.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat(),
                  "lane": lane})
    for task in tasks:  # not flushed alone: written with the audit entries and the SMS
        task.finish(session, actor=actor, now=now, reason=booking_write.TASK_REASON, flush=False)
    if notify:
        notify_judge(session, hearing, case, room, "hearing_booked", now=now, settings=settings, judge=loaded.judge,
                     is_new=True)
    return hearing


def _check_slot(session: Session, case_id: int, courtroom_id: int, starts_at: datetime, ends_at: datetime, *,
                now: datetime, settings, need: Need | None = None, hearing_id: int | None = None):
    """Lock and check a slot for ``case_id`` (``hearing_id``: the hearing being moved there).

    Returns (loaded, need, ledger, lane), or raises what refuses the slot, in the order
    people fix things: the case, the times, the room, the case's other hearing, the rules.
    """
    tz = settings.timezone
    day = starts_at.astimezone(tz).date()
    loaded = booking.load(session, case_id=case_id, courtroom_id=courtroom_id, day=day)
    if loaded is None:
        _explain_missing(session, case_id, courtroom_id, starts_at, ends_at, now)
    _check_open(loaded.case)
    _check_period(starts_at, ends_at, now)
    _check_room(loaded.room, courtroom_id, loaded.case.venue)
    need = need or Need.of(session, loaded.case, settings)
    ledger, active = booking.ledger_around(session, loaded, judge_id=need.judge_id, day=day, now=now, tz=tz,
                                           exclude_hearing_id=hearing_id)
    if active is not None and hearing_id is None:
        raise booking.already_booked(loaded.case, active, tz)
    return loaded, need, ledger, booking.lane(ledger, need, loaded.room.id, starts_at, ends_at)


def _explain_missing(session: Session, case_id: int, courtroom_id: int, starts_at: datetime, ends_at: datetime,
                     now: datetime):
    """The case or the room of a booking is missing: raise what the checks in order say."""
    case = _open_case(session, case_id)
    _check_period(starts_at, ends_at, now)
    _room(session, courtroom_id, case.venue)
    raise Invalid("unknown_courtroom", "there is no such courtroom: choose one from the courtroom list",
                  field="courtroom_id", id=courtroom_id)


def move(session: Session, hearing: Hearing, *, starts_at: datetime, ends_at: datetime, actor, now: datetime,
         settings, courtroom_id: int | None = None) -> Hearing:
    """Move a booked hearing to another time (and room); the same rules apply."""
    if hearing.status != HearingStatus.booked:
        raise Conflict("hearing_not_booked", "this hearing is {status}", field="hearing_id", id=hearing.id,
                       status=hearing.status.value)
    if hearing.starts_at <= now:
        raise Conflict("hearing_started", "this hearing has already started", field="hearing_id", id=hearing.id)
    loaded, need, _, lane = _check_slot(session, hearing.case_id, courtroom_id or hearing.courtroom_id, starts_at,
                                        ends_at, now=now, settings=settings, hearing_id=hearing.id)
    case, room = loaded.case, loaded.room
    before = {"courtroom_id": hearing.courtroom_id, "starts_at": hearing.starts_at.isoformat(),
              "ends_at": hearing.ends_at.isoformat()}
    hearing.courtroom_id, hearing.starts_at, hearing.ends_at, hearing.lane = room.id, starts_at, ends_at, lane
    hearing.judge_id = case.judge_id
    hearing.is_overlap_eligible = need.eligible
    hearing.sequence += 1
    hearing.updated_at = now
    _flush_guarded(session, hearing)
    record(session, actor, "hearing.move", hearing, now=now, before=before,
           after={"courtroom_id": room.id, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    notify_judge(session, hearing, case, room, "hearing_moved", now=now, settings=settings, judge=loaded.judge)
    return hearing


def cancel(session: Session, hearing: Hearing, *, reason: str, actor, now: datetime, settings) -> Hearing:
    """Cancel a booked hearing; an open case goes back to the scheduling queue."""
    from ancillary.cases.models import Case, CaseStatus

    if hearing.status != HearingStatus.booked:
        raise Conflict("hearing_not_booked", "this hearing is {status}", field="hearing_id", id=hearing.id,
                       status=hearing.status.value)
    if hearing.ends_at <= now:
        raise Conflict("hearing_held", "this hearing has already been held", field="hearing_id", id=hearing.id)
    hearing.status = HearingStatus.cancelled
    hearing.cancelled_at, hearing.cancel_reason = now, reason.strip()
    hearing.sequence += 1
    hearing.updated_at = now
    session.flush()
    record(session, actor, "hearing.cancel", hearing, now=now, before={"status": "booked"},
           after={"status": "cancelled", "reason": hearing.cancel_reason})
    case = session.get(Case, hearing.case_id)
    if case.status == CaseStatus.open:
        _reopen_scheduling_task(session, case, now=now, settings=settings)
    notify_judge(session, hearing, case, session.get(Courtroom, hearing.courtroom_id), "hearing_cancelled",
                 now=now, settings=settings)
    return hearing


def on_case_closed(case, *, session: Session, now: datetime, settings) -> None:
    """A closed case needs no more hearings: cancel those still to come and tell the judge.

    Connected to ``ancillary.queues.services.case_closed`` in ``ancillary.wiring``.
    """
    for hearing in session.scalars(select(Hearing).where(
            Hearing.case_id == case.id, Hearing.status == HearingStatus.booked, Hearing.starts_at > now)):
        cancel(session, hearing, reason="case closed", actor=None, now=now, settings=settings)


_OPEN_SCHEDULING_TASKS = select(Task).where(Task.case_id == bindparam("case_id"),
                                            Task.kind == TaskKind.schedule_hearing, Task.status.in_(OPEN_STATES))


def _open_scheduling_tasks(session: Session, case_id: int) -> list[Task]:
    return list(session.scalars(_OPEN_SCHEDULING_TASKS, {"case_id": case_id}))


def _reopen_scheduling_task(session: Session, case, *, now: datetime, settings) -> None:
    exists = session.scalar(select(Task.id).where(
        Task.case_id == case.id, Task.kind == TaskKind.schedule_hearing, Task.status.in_(OPEN_STATES)))
    if exists:
        return
    Task.open_for(session, queue=Queue.enforcement if case.kind.value == "enforcement" else Queue.trial,
                  kind=TaskKind.schedule_hearing, case=case, now=now,
                  due_at=now + timedelta(hours=settings.scheduling_task_hours), reason="hearing cancelled")


_MESSAGES = sms.MESSAGES  # the judge's SMS texts (``scheduling.sms``); bulk booking uses them too


def notify_judge(session: Session, hearing: Hearing, case, room: Courtroom, kind: str, *, now: datetime, settings,
                 judge: User | None = None, is_new: bool = False):
    """Queue an SMS to the case's judge through the outbox (idempotent per change).

    A booking passes the judge it has loaded, and ``is_new``: its hearing was just
    created, so no message can be queued under the key yet and the outbox need not look.
    """
    judge = judge if judge is not None else session.get(User, hearing.judge_id)
    if not sms.has_phone(judge, hearing.judge_id, kind):
        return None
    body = sms.body(kind, case, room, hearing.starts_at, hearing.ends_at, settings)
    return enqueue(session, key=f"{kind}:hearing{hearing.id}:v{hearing.sequence}:user{judge.id}", channel="sms",
                   to_address=judge.phone, body=body, kind=kind, now=now, recipient_id=judge.id, case_id=case.id,
                   obj=hearing, settings=settings, is_new=is_new)


def officer(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role not in OFFICER_ROLES:
        raise NotFound("judge_not_found", "there is no such judge or enforcement officer: choose one from the list",
                       field="judge_id", id=user_id)
    return user


def check_may_touch(session: Session, actor: User, hearing: Hearing) -> None:
    """Schedulers move and cancel any hearing; a judge only those of their own cases."""
    if actor.role == Role.scheduler:
        return
    if actor.role in OFFICER_ROLES and hearing.judge_id == actor.id:
        return
    raise Forbidden("not_your_hearing", "only a scheduler or the case's judge may change this hearing", id=hearing.id)
