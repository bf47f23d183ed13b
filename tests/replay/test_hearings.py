"""Cases heard more than once: further hearings asked through the product, booked again, adjournments moved."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select

from ancillary.audit.models import AuditEntry
from ancillary.cases.models import Case, CaseStatus
from ancillary.extensions import db
from ancillary.outbox import NotificationItem
from ancillary.queues.models import Task, TaskKind
from ancillary.scheduling.models import Courtroom, Hearing, HearingStatus


def _booked(session) -> dict[int, list[Hearing]]:
    by_case = defaultdict(list)
    for hearing in session.scalars(select(Hearing).where(Hearing.status == HearingStatus.booked)
                                   .order_by(Hearing.starts_at)):
        by_case[hearing.case_id].append(hearing)
    return by_case


def test_a_case_heard_but_not_decided_is_booked_again_through_the_product_and_closes_after(replay):
    app, body, _ = replay("base")
    counts = body["counts"]
    assert counts["further_hearings.asked_by_judge"] > 0 and counts["further_hearings.asked_by_follow_up"] > 0
    with app.app_context():
        session = db.session
        by_case = _booked(session)
        again = {case_id: hearings for case_id, hearings in by_case.items() if len(hearings) > 1}
        assert again
        tasks = defaultdict(list)
        for task in session.scalars(select(Task).where(Task.kind == TaskKind.schedule_hearing,
                                                       Task.case_id.in_(list(again))).order_by(Task.created_at)):
            tasks[task.case_id].append(task)
        for case_id, hearings in again.items():
            case = session.get(Case, case_id)
            further = tasks[case_id][1:]  # the first task is the filing's
            assert len(hearings) - 1 <= len(further) <= len(hearings), case.number  # the last may wait or lapse
            # Each further hearing was asked after the one before was held, and booked after that.
            for before, task, after in zip(hearings[:-1], further, hearings[1:], strict=False):
                assert before.ends_at <= task.created_at <= after.created_at, case.number
            if case.status != CaseStatus.open:
                assert case.closed_at >= hearings[-1].ends_at, case.number
        # The follow-up posts asked on the product's reminder: it reached them first.
        asked_by_post = session.scalars(select(AuditEntry.actor_id).where(
            AuditEntry.action == "task.create", AuditEntry.actor_id.in_(
                select(NotificationItem.recipient_id).where(NotificationItem.rule == "heard_not_closed")))).all()
        assert asked_by_post


def test_no_room_and_no_judge_ever_holds_two_hearings_at_once(replay):
    app = replay("base")[0]
    with app.app_context():
        hearings = db.session.scalars(select(Hearing).where(Hearing.status == HearingStatus.booked)).all()
        assert db.session.scalars(select(Courtroom)).all()
        for key in ("courtroom_id", "judge_id"):
            by = defaultdict(list)
            for hearing in hearings:
                by[getattr(hearing, key)].append(hearing)
            for group in by.values():
                group.sort(key=lambda h: h.starts_at)
                for earlier, later in zip(group, group[1:], strict=False):
                    clash = later.starts_at < earlier.ends_at
                    assert not clash or (key == "courtroom_id" and later.lane != earlier.lane), (earlier.id, later.id)


def test_adjourned_hearings_are_moved_later_through_the_product(replay):
    app, body, _ = replay("base")
    assert body["counts"]["adjournments"] > 0
    with app.app_context():
        moves = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "hearing.move")).all()
        assert len(moves) == body["counts"]["adjournments"]
        for entry in moves:
            moved_to, moved_from = (datetime.fromisoformat(e["starts_at"]) for e in (entry.after, entry.before))
            assert moved_to > moved_from
