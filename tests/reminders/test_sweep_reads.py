"""What a routine reminder tick reads: the cases changed since its last run and the hearings
ended in its window, found without reading the year's audit entries or hearings."""

from datetime import timedelta

from sqlalchemy import event, insert, select

from ancillary.audit.models import AuditEntry
from ancillary.reminders import marks, sources
from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus
from tests.conftest import NOW

HOUR = timedelta(hours=1)


def _entry(session, at, action, case_id):
    session.execute(insert(AuditEntry).values(at=at, action=action, object_type="cases", object_id=case_id,
                                              case_id=case_id))


def test_changed_cases_are_the_cases_named_since_the_mark_once_each(court, db_session):
    ids = [court.file_case()["id"] for _ in range(3)]
    since = NOW + HOUR
    _entry(db_session, since - timedelta(seconds=1), "case.update", ids[0])  # before the mark: not read
    _entry(db_session, since, "case.update", ids[1])
    _entry(db_session, since + HOUR, "hearing.book", ids[1])  # named twice: once in the answer
    _entry(db_session, since + HOUR, "reminder.escalate", ids[2])  # the sweeps' own: no change to a case
    _entry(db_session, since + HOUR, "auth.sign_in", None)  # no case at all
    db_session.flush()
    assert marks.changed_cases(db_session, since) == [ids[1]]
    _entry(db_session, since + 2 * HOUR, "case.close", ids[2])
    assert marks.changed_cases(db_session, since) == sorted([ids[1], ids[2]])


def test_changed_cases_reads_through_the_index_on_the_entries_time(court, db_session):
    if db_session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL plans by its statistics; SQLite by the query's shape, which this pins
    engine, seen = db_session.get_bind(), []

    def keep(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        marks.changed_cases(db_session, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    [(statement, parameters)] = [(s, p) for s, p in seen if "audit_entries" in s]
    raw = db_session.connection().connection.driver_connection
    plan = " ".join(row[-1] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters))
    assert "ix_audit_entries_at" in plan, plan


def _hearing(session, case_id, judge_id, room_id, ends_at, status=HearingStatus.booked):
    session.execute(insert(Hearing).values(
        case_id=case_id, courtroom_id=room_id, judge_id=judge_id, starts_at=ends_at - HOUR, ends_at=ends_at,
        lane=0, status=status, created_at=NOW, updated_at=NOW))


def test_last_held_hearings_are_each_cases_last_live_hearing_that_ended_in_the_window(court, db_session):
    judge = court["judge"].id
    room = db_session.scalars(select(Courtroom.id)).first()
    heard_once, heard_again, moved_on, cancelled_later = (court.file_case()["id"] for _ in range(4))
    start, end = NOW + timedelta(days=10), NOW + timedelta(days=11)
    _hearing(db_session, heard_once, judge, room, start + HOUR)
    _hearing(db_session, heard_again, judge, room, start - timedelta(days=3))  # before the window
    _hearing(db_session, heard_again, judge, room, start + 2 * HOUR)
    _hearing(db_session, moved_on, judge, room, start + 3 * HOUR)  # ended in the window, but a later one is booked
    _hearing(db_session, moved_on, judge, room, end + timedelta(days=5))
    _hearing(db_session, cancelled_later, judge, room, start + 4 * HOUR)
    _hearing(db_session, cancelled_later, judge, room, end + timedelta(days=2), status=HearingStatus.cancelled)
    db_session.flush()
    rows = sorted(sources.last_held_hearings(db_session, start, end))
    assert [(case_id, ends_at) for case_id, _, ends_at in rows] == sorted([
        (heard_once, start + HOUR), (heard_again, start + 2 * HOUR), (cancelled_later, start + 4 * HOUR)])
    only = list(sources.last_held_hearings(db_session, start, end, case_ids=[heard_again, moved_on]))
    assert [(case_id, ends_at) for case_id, _, ends_at in only] == [(heard_again, start + 2 * HOUR)]
