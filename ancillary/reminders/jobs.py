"""Sweeps: functions of (session, now, settings) that stage reminders and escalate.

They flush and audit; the job wrapper (``ancillary.jobs.run_sweeps``) commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ancillary.auth.models import Role, User
from ancillary.cases.models import Case, CaseKind, CaseStatus
from ancillary.outbox import Notification, NotificationItem, audit_step
from ancillary.reminders import digests, marks, rules, staging

DIGESTS = [rules.ACTION, rules.FOLLOW_UP, rules.INFO, rules.HEARING]


def sweep_reminders(session: Session, now: datetime, settings) -> dict:
    """Stage every rule's nodes that fell due, then send one message per recipient.

    A routine tick reads only what became due since the last successful run
    (``marks.py``); the items it finds new are folded in memory and written once
    (``staging.py``).
    """
    posts = rules.follow_up_posts_by_officer(session)
    scope = marks.scope(session, now, settings, posts)
    nodes = chain(_due_nodes(session, now, settings, scope), _changed_nodes(session, now, settings, scope),
                  rules.hearing_digest_nodes(session, now, settings))
    fresh = staging.collect(session, nodes, settings, posts)
    messages = staging.write(session, fresh, now, settings, DIGESTS)
    if len(fresh) > 10_000 and session.get_bind().dialect.name == "postgresql":
        # a first sweep over a large court writes hundreds of thousands of items at once;
        # without fresh statistics the planner keeps treating the table as empty
        session.execute(text("ANALYZE notification_items"))
    marks.advance(session, scope, now)
    return {"items": len(fresh), "messages": messages} if fresh or messages else {}


def _due_nodes(session: Session, now: datetime, settings, scope: marks.Scope):
    """The nodes whose due time passed in the scope's window (the whole lookback on a first run)."""
    yield from rules.case_nodes(session, settings, scope.due_from, now)
    yield from rules.deadline_warnings(session, now, settings, since=scope.since)
    yield from rules.task_nodes(session, settings, scope.due_from, now)


def _changed_nodes(session: Session, now: datetime, settings, scope: marks.Scope):
    """Every node over the whole lookback of the cases changed since the last run."""
    lookback = now - timedelta(days=settings.sweep_lookback_days)
    for start in range(0, len(scope.changed), rules.CHUNK):
        ids = scope.changed[start:start + rules.CHUNK]
        yield from rules.case_nodes(session, settings, lookback, now, case_ids=ids)
        yield from rules.deadline_warnings(session, now, settings, case_ids=ids)
        yield from rules.task_nodes(session, settings, lookback, now, case_ids=ids)


def sweep_escalations(session: Session, now: datetime, settings) -> dict:
    """Escalate action reminders unacknowledged for 24 h: management office, then president."""
    wait = timedelta(hours=settings.escalation_hours)
    roots = session.scalars(
        select(Notification).where(
            Notification.needs_ack.is_(True),
            Notification.resolved_at.is_(None),
            Notification.escalation_level < 2,
            Notification.kind.in_(rules.ACTION_KINDS),
            Notification.not_before <= now - wait,
        ).order_by(Notification.id)
    ).all()
    office = _Office.of(session, settings)
    escalated = resolved = 0
    for root in roots:
        start = root.escalated_at if root.escalation_level else (root.sent_at or root.not_before)
        if start > now - wait:
            continue
        items = session.scalars(select(NotificationItem).where(NotificationItem.notification_id == root.id)).all()
        case_ids = {i.case_id for i in items if i.case_id} or ({root.case_id} if root.case_id else set())
        cases = session.execute(select(Case.id, Case.kind, Case.status).where(Case.id.in_(case_ids))).all()
        if cases and all(status != CaseStatus.open for _, _, status in cases):
            root.resolved_at = now
            session.flush()
            audit_step(session, None, "reminder.resolve", root, now=now, after={"reason": "cases closed"})
            resolved += 1
            continue
        _escalate(session, root, items, cases, office, now, settings)
        escalated += 1
    messages = digests.fold(session, now, settings, [rules.ESCALATION])
    out = {"escalated": escalated, "resolved": resolved, "messages": messages}
    return out if any(out.values()) else {}


@dataclass(frozen=True)
class _Office:
    """Who receives escalations: the management office, the president, the command center."""

    admins: list[int]
    presidents: list[int]
    command: list[int]

    @classmethod
    def of(cls, session: Session, settings) -> _Office:
        office = list(session.scalars(select(User).where(User.role == Role.court_admin, User.is_active.is_(True))))
        command = list(session.scalars(select(User.id).where(
            User.username.in_(settings.command_center), User.is_active.is_(True)))) if settings.command_center else []
        return cls([u.id for u in office if not u.is_president], [u.id for u in office if u.is_president], command)

    def targets(self, level: int, cases) -> list[int]:
        """Level 1: the office (and, for enforcement cases, the command center); level 2: the president."""
        if level != 1:
            return self.presidents
        targets = list(self.admins)
        if self.command and any(kind == CaseKind.enforcement for _, kind, _ in cases):
            targets += [c for c in self.command if c not in targets]
        return targets


def _escalate(session: Session, root: Notification, items, cases, office: _Office, now: datetime, settings) -> None:
    """Stage one more level of ``root`` for its still-open cases."""
    level = root.escalation_level + 1
    targets = office.targets(level, cases)
    open_cases = {cid for cid, _, status in cases if status == CaseStatus.open}
    rows = []
    for item in items or [None]:
        if item is not None and item.case_id not in open_cases:
            continue
        for target in targets:
            rows.append(rules.Node(
                item.rule if item else root.kind, item.case_id if item else root.case_id, "",
                now, (target,), digest=rules.ESCALATION, object_type="notifications", object_id=root.id,
                params={**((item.params or {}) if item else {}), "officer_id": root.recipient_id, "level": level},
                key_part=f"e{level}:{item.id if item else 0}", root_id=root.id))
    rules.stage(session, rows, now, settings, posts={})
    root.escalation_level = level
    root.escalated_at = now
    session.flush()
    audit_step(session, None, "reminder.escalate", root, now=now,
               after={"level": level, "to": targets, "to_role": "court_admin" if level == 1 else "president"})
