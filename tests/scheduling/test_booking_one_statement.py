"""On PostgreSQL a booking writes in one statement: the same rows as the ORM's path, field for field."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ancillary.audit.models import AccessLogEntry, AuditEntry
from ancillary.outbox.models import Notification
from ancillary.queues.models import Task, TaskStatus
from ancillary.scheduling import booking_write
from ancillary.scheduling.models import Hearing


def _rows(sched, case_id: int, day: str) -> dict:
    """What a booking of ``case_id`` on ``day`` wrote, with its ids, case number and day replaced by names."""

    def read(s):
        hearing = s.scalars(select(Hearing).where(Hearing.case_id == case_id)).one()
        tasks = s.scalars(select(Task).where(Task.case_id == case_id).order_by(Task.id)).all()
        ids = {("hearings", hearing.id): "H", **{("tasks", t.id): f"T{i}" for i, t in enumerate(tasks)}}
        texts = {hearing.case.number: "N", day: "D", f"hearing{hearing.id}:": "hearingH:"}

        def plain(value):
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            text = str(value)
            for real, name in texts.items():
                text = text.replace(real, name)
            return text

        audits = s.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                    AuditEntry.action.in_(["hearing.book", "task.complete"]))
                           .order_by(AuditEntry.id)).all()
        notes = s.scalars(select(Notification).where(Notification.case_id == case_id)).all()
        reads = s.scalars(select(AccessLogEntry).where(AccessLogEntry.case_id == case_id)).all()
        columns = ("recipient_id", "to_address", "channel", "kind", "subject", "body", "object_type", "is_urgent",
                   "needs_ack", "status", "not_before", "created_at", "attempts", "ack_code", "escalation_level",
                   "idempotency_key")
        return {
            "hearing": plain({k: getattr(hearing, k) for k in (
                "courtroom_id", "judge_id", "starts_at", "ends_at", "lane", "is_overlap_eligible", "status",
                "sequence", "booked_by_id", "created_at", "updated_at", "cancelled_at", "cancel_reason")}),
            "audit": [{**plain({"at": a.at, "actor": a.actor_id, "action": a.action, "type": a.object_type,
                                "before": a.before, "after": a.after}), "object": ids[a.object_type, a.object_id]} for a in audits],
            "tasks": [plain({"status": t.status, "assignee": t.assignee_id, "completed_at": t.completed_at,
                             "note": t.note}) for t in tasks],
            "sms": [{**plain({c: getattr(n, c) for c in columns}), "object": ids[n.object_type, n.object_id]} for n in notes],
            "access": [{"at": str(r.at), "user": r.user_id, "parties": len(r.party_ids), "purpose": r.purpose}
                       for r in reads if r.purpose == "POST /api/v1/hearings"],
        }

    return sched.session_do(read)


def _book_three(sched, clock, day: str, other, phoneless) -> list[int]:
    """A case with an open task, one whose task another officer holds, one whose judge has no phone."""
    open_case, held_case = sched.file(), sched.file()
    no_phone = sched.file(judge_id=phoneless.id)

    def hold(s):
        task = s.scalars(select(Task).where(Task.case_id == held_case["id"], Task.kind == "schedule_hearing")).one()
        task.status, task.assignee_id = TaskStatus.claimed, other.id

    sched.session_do(hold)
    clock.set("2027-01-05T06:30:00+08:00")  # inside the quiet hours: the SMS waits
    for offset, case in enumerate((open_case, held_case, no_phone)):
        hour = 9 + offset
        response = sched.book(case, starts=f"{day}T{hour:02d}:00:00+08:00", ends=f"{day}T{hour:02d}:50:00+08:00")
        assert response.status_code == 201, response.get_json()
    return [open_case["id"], held_case["id"], no_phone["id"]]


def test_the_one_statement_writes_what_the_orm_writes(sched, clock, monkeypatch, quiet_22_to_7):
    if sched.app.config["SETTINGS"].database_url.startswith("sqlite"):
        pytest.skip("SQLite books through the ORM only: it has no data-modifying WITH")
    other = sched.court.make_actor("scheduler")  # holds one task in each run
    phoneless = sched.court.make_actor("judge")
    one_statement = [_rows(sched, case_id, "2027-01-07")
                     for case_id in _book_three(sched, clock, "2027-01-07", other, phoneless)]
    monkeypatch.setattr(booking_write, "applies", lambda session: False)
    through_orm = [_rows(sched, case_id, "2027-01-08") for case_id in _book_three(sched, clock, "2027-01-08", other, phoneless)]
    for fast, slow in zip(one_statement, through_orm, strict=True):
        for part in ("hearing", "audit", "tasks", "sms", "access"):
            assert fast[part] == slow[part], part
    assert [len(rows["sms"]) for rows in one_statement] == [1, 1, 0]
    assert [rows["tasks"][0]["status"] for rows in one_statement] == ["done", "done", "done"]
    assert one_statement[0]["sms"][0]["not_before"].startswith("2027-01-04 23:00")  # 07:00 in court time
