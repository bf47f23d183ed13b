"""Auto-scheduling over more work than the rooms hold: every placement keeps every rule."""

from datetime import date, timedelta

from sqlalchemy import select

from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.rules import Ledger, Need
from tests.conftest import NOW

KINDS = ["speedy", "summary", "ordinary", "enforcement", "speedy", "summary"]


def test_a_packed_overfull_window_keeps_every_rule_and_explains_the_rest(sched, app):
    judges = [sched.judge.id, sched.court["judge"].id]
    filed = [sched.file(kind=KINDS[i % len(KINDS)], judge_id=judges[i % 2]) for i in range(40)]
    response = sched["scheduler"].post("/api/v1/scheduling/auto", json={"from": "2027-01-05", "to": "2027-01-08"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    placed = {h["case_id"] for h in body["scheduled"]}
    unplaced = {u["case_id"]: u for u in body["unscheduled"]}
    assert placed and unplaced  # more work than the main room holds in four days
    assert placed | set(unplaced) == {c["id"] for c in filed} and not placed & set(unplaced)
    assert all(u["reason"] and u["detail"] for u in unplaced.values())
    # Every speedy case is placed, inside its 7 days (the rule check below includes the limit).
    assert {c["id"] for c in filed if c["kind"] == "speedy"} <= placed

    def check(session):
        settings = app.config["SETTINGS"]
        ledger = Ledger.load(session, date(2027, 1, 5), date(2027, 1, 8), tz=settings.timezone)
        hearings = list(session.scalars(select(Hearing).where(Hearing.status == HearingStatus.booked)))
        assert {h.case_id for h in hearings} == placed
        for h in hearings:
            need = Need.of(session, h.case, settings)
            refusal, lane = ledger.refusal(need, h.courtroom_id, h.starts_at, h.ends_at)
            assert refusal is None, (h.case.number, refusal.code)
            assert lane == h.lane
            assert (h.ends_at - h.starts_at).total_seconds() == need.minutes * 60

    sched.session_do(check)


def test_booking_a_plan_in_bulk_writes_what_booking_one_by_one_writes(sched, app):
    from ancillary.audit.models import AuditEntry
    from ancillary.auth.models import User
    from ancillary.extensions import db
    from ancillary.outbox import Notification
    from ancillary.queues.models import Task
    from ancillary.scheduling import auto, bulk, services

    judges = [sched.judge.id, sched.court["judge"].id]
    filed = [sched.file(kind=KINDS[i % len(KINDS)], judge_id=judges[i % 2]) for i in range(12)]
    settings = app.config["SETTINGS"]

    def snapshot(session):
        hearings = sorted((h.case_id, h.courtroom_id, h.judge_id, h.starts_at, h.ends_at, h.lane, h.status.value)
                          for h in session.scalars(select(Hearing)))
        tasks = sorted((t.case_id, t.kind.value, t.status.value, t.note, t.assignee_id, t.completed_at)
                       for t in session.scalars(select(Task)))
        audit = sorted((a.action, a.case_id, a.actor_id, a.object_type, a.at, repr(a.before), repr(a.after))
                       for a in session.scalars(select(AuditEntry).where(
                           AuditEntry.action.in_(["hearing.book", "task.complete"]))))
        return hearings, tasks, audit

    other = sched.court.make_actor("scheduler")
    with app.app_context():
        session = db.session
        # One task is already held by another scheduler: booking finishes it in their name.
        held = session.scalar(select(Task).where(Task.case_id == filed[0]["id"]))
        held.claim(session, session.get(User, other.id), now=NOW)
        session.commit()
        actor = session.scalar(select(User).where(User.username == sched["scheduler"].username))
        actor_id = actor.id
        _, placements = auto.plan(session, date(2027, 1, 5), date(2027, 1, 8), now=NOW, settings=settings)
        assert len(placements) == len(filed)
        bulk.book_all(session, placements, actor=actor, now=NOW, settings=settings)
        in_bulk = snapshot(session)
        digests = [(n.recipient_id, n.body) for n in session.scalars(
            select(Notification).where(Notification.kind == "hearing_booked"))]
        session.rollback()
        for need, room, starts_at, ends_at, _ in placements:
            services.book(session, case_id=need.case_id, courtroom_id=room.id, starts_at=starts_at, ends_at=ends_at,
                          actor=actor, now=NOW, settings=settings)
        one_by_one = snapshot(session)
        single_sms = sorted(session.scalars(select(Notification.recipient_id).where(
            Notification.kind == "hearing_booked")))
        session.rollback()
    assert in_bulk == one_by_one
    assert len(in_bulk[0]) == len(filed)
    done = {case_id: assignee for case_id, kind, status, _, assignee, _ in in_bulk[1] if kind == "schedule_hearing"}
    assert done[filed[0]["id"]] == other.id and set(done.values()) == {other.id, actor_id}
    # One SMS per judge with a phone (one per hearing, one by one), naming every case booked for them.
    assert sorted(recipient for recipient, _ in digests) == sorted(set(single_sms)) == [sched.judge.id]
    for recipient, body in digests:
        mine = [c["number"] for c in filed if c["judge_id"] == recipient]
        assert all(number in body for number in mine) and body.count("\n") == len(mine) - 1


def test_a_plan_with_no_case_that_can_start_and_end_in_the_window_reads_no_hearing_and_says_why(sched, app):
    """Speedy cases whose 7 days ran out wait with their scheduling task; a plan that has only them gives each
    its reason, as the full search does, without reading the window's bookings."""
    from sqlalchemy import event

    from ancillary.extensions import db
    from ancillary.scheduling import auto, packing

    late = [sched.file(kind="speedy") for _ in range(2)]
    booked = sched.book(sched.file(kind="summary"), starts="2027-01-15T09:00:00+08:00", ends="2027-01-15T10:00:00+08:00")
    assert booked.status_code == 201, booked.get_json()  # a hearing in the window
    settings = app.config["SETTINGS"]
    later = NOW + timedelta(days=10)  # the speedy cases' 7 days ended three days ago
    first = date(2027, 1, 14)

    def plan(full_search: bool):
        read = []

        def seen(conn, cursor, statement, *args):
            read.append(statement)

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", seen)
            try:
                if full_search:
                    original = packing.out_of_time
                    packing.out_of_time = lambda need, not_before: False
                result, placements = auto.plan(db.session, first, first + timedelta(days=3), now=later,
                                               settings=settings)
            finally:
                event.remove(engine, "before_cursor_execute", seen)
                if full_search:
                    packing.out_of_time = original
            db.session.rollback()
        return result, placements, [s for s in read if "FROM hearings JOIN cases" in s]

    short, placed, hearings_read = plan(full_search=False)
    full, placed_full, hearings_read_full = plan(full_search=True)

    assert placed == placed_full == [] and hearings_read == [] and hearings_read_full
    assert short.unscheduled == full.unscheduled
    assert {u["case_id"]: u["reason"] for u in short.unscheduled} == {
        c["id"]: "speedy_limit_before_window" for c in late}
