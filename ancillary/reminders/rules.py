"""The reminder rules, as nodes that fall due, and how a sweep stages them.

A *node* is something an officer (or a contractor post) must do by a time: book a second
hearing, start the property search, release a payment, archive a file. Each rule is a
generator of nodes whose due time lies in a window, driven by an index on the date it
is computed from and streamed (``yield_per``), so a sweep over a million open cases
reads only the slice that fell due. The same generators feed the follow-up posts' queues.

A sweep *stages* one item per (node, recipient) under a unique key, then *folds* each
recipient's staged items into one message per sweep (split only past the SMS length):
``digests.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import String, any_, bindparam, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ancillary.db import bulk_insert
from ancillary.display_names import N_
from ancillary.outbox import Notification, NotificationItem
from ancillary.reminders import sources
from ancillary.reminders.models import EnforcementRecord
from ancillary.timeutil import end_of_local_day, period_end_days

STREAM = {"yield_per": 2000}
CHUNK = 1000  # candidate keys checked per query
ITEMS_PER_MESSAGE = 12  # keeps a digest under Twilio's 1,600 characters
SECOND = timedelta(seconds=1)  # a local day ends at 23:59:59 (``end_of_local_day``)


# Digests: what kind of message the items are folded into.
ACTION, FOLLOW_UP, INFO, HEARING, ESCALATION = "action", "follow_up", "info", "hearing", "escalation"
DIGEST_KIND = {
    ACTION: "action_digest",
    FOLLOW_UP: "follow_up_digest",
    INFO: "info_digest",
    HEARING: "hearing_digest",
    ESCALATION: "escalation",
}
ACK_DIGESTS = {ACTION, ESCALATION}
ACTION_KINDS = ("action_digest", "remind_now")

RULE_TEXT = {
    "heard_not_closed": N_("heard on {date}, not reported closed: book a second hearing or report it closed"),
    "deadline": N_("statutory deadline {date}, {days} day(s) left"),
    "property_search": N_("property search not started {days} days after filing"),
    "seized_not_closed": N_("fully seized on {date}, not closed"),
    "auction_measures": N_("auction held on {date}, no follow-up measures recorded"),
    "payment_release": N_("payment received on {date}, not released"),
    "archive_due": N_("files to archive by {date}"),
    "archive_overdue": N_("archiving overdue since {date}"),
    "task_overdue": N_("{task} task overdue since {date}"),
    "hearing": N_("{time} {room}"),
}
CASE_RULES = ("heard_not_closed", "deadline", "property_search", "seized_not_closed", "auction_measures",
              "payment_release")


@dataclass
class Node:
    rule: str
    case_id: int | None
    case_number: str
    due_at: datetime
    recipient_ids: tuple[int, ...]
    digest: str = ACTION
    officer_id: int | None = None  # its officer: the follow-up posts paired with them get a copy
    object_type: str = "cases"
    object_id: int | None = None
    params: dict = field(default_factory=dict)
    key_part: str | None = None  # what makes a repeat a new reminder (default: the due day)
    root_id: int | None = None  # escalations: the reminder escalated


def local_day(at: datetime, settings) -> str:
    return at.astimezone(settings.timezone).date().isoformat()


def _window(due_from: datetime, due_to: datetime, days: int) -> tuple[datetime, datetime]:
    """Range of a source date whose period of ``days`` ends in [due_from, due_to) (a superset)."""
    return due_from - timedelta(days=days + 1), due_to - timedelta(days=days - 1)


def _open_cases():
    from ancillary.cases.models import Case, CaseStatus

    return select(Case.id, Case.number, Case.judge_id).where(Case.status == CaseStatus.open)


# --- case nodes --------------------------------------------------------------------------


def _only(query, column, case_ids):
    """``query`` restricted to the cases ``case_ids`` (None: every case)."""
    return query if case_ids is None else query.where(column.in_(case_ids))


def property_search_nodes(session, settings, due_from, due_to, officers=None, *, case_ids=None) -> Iterator[Node]:
    from ancillary.cases.models import Case, CaseKind

    days = settings.property_search_days
    low, high = _window(due_from, due_to, days)
    query = (_open_cases().add_columns(Case.filed_at)
             .outerjoin(EnforcementRecord, EnforcementRecord.case_id == Case.id)
             .where(Case.kind == CaseKind.enforcement, Case.filed_at >= low, Case.filed_at < high,
                    EnforcementRecord.property_search_started_at.is_(None)))
    query = _only(query, Case.id, case_ids)
    if officers is not None:
        query = query.where(Case.judge_id.in_(officers))
    for case_id, number, officer, filed_at in session.execute(query.execution_options(**STREAM)):
        due = period_end_days(filed_at, days, settings.timezone)
        if due_from <= due < due_to:
            yield Node("property_search", case_id, number, due, (officer,), officer_id=officer, object_id=case_id,
                       params={"days": days, "date": local_day(filed_at, settings)})


def _record_nodes(session, settings, due_from, due_to, officers, *, rule, column, days, done_column=None,
                  case_ids=None):
    from ancillary.cases.models import Case

    low, high = _window(due_from, due_to, days)
    query = (_open_cases().add_columns(column).join(EnforcementRecord, EnforcementRecord.case_id == Case.id)
             .where(column >= low, column < high))
    query = _only(query, Case.id, case_ids)
    if done_column is not None:
        query = query.where(done_column.is_(None))
    if officers is not None:
        query = query.where(Case.judge_id.in_(officers))
    for case_id, number, officer, at in session.execute(query.execution_options(**STREAM)):
        due = period_end_days(at, days, settings.timezone)
        if due_from <= due < due_to:
            yield Node(rule, case_id, number, due, (officer,), officer_id=officer, object_id=case_id,
                       params={"days": days, "date": local_day(at, settings)})


def enforcement_nodes(session, settings, due_from, due_to, officers=None, *, case_ids=None) -> Iterator[Node]:
    yield from property_search_nodes(session, settings, due_from, due_to, officers, case_ids=case_ids)
    yield from _record_nodes(session, settings, due_from, due_to, officers, rule="seized_not_closed",
                             column=EnforcementRecord.fully_seized_at, days=settings.seized_close_days,
                             case_ids=case_ids)
    yield from _record_nodes(session, settings, due_from, due_to, officers, rule="auction_measures",
                             column=EnforcementRecord.auction_at, days=settings.auction_measures_days,
                             done_column=EnforcementRecord.auction_measures_at, case_ids=case_ids)
    yield from _record_nodes(session, settings, due_from, due_to, officers, rule="payment_release",
                             column=EnforcementRecord.payment_received_at, days=settings.payment_release_days,
                             done_column=EnforcementRecord.payment_released_at, case_ids=case_ids)


def heard_not_closed_nodes(session, settings, due_from, due_to, officers=None, *, case_ids=None) -> Iterator[Node]:
    from ancillary.cases.models import Case

    days = settings.heard_not_closed_days
    low, high = _window(due_from, due_to, days)
    batch: list[tuple[int, int, datetime]] = []

    def flush(rows):
        cases = {cid: (number, officer) for cid, number, officer in session.execute(
            _open_cases().where(Case.id.in_([r[0] for r in rows])))}
        for case_id, hearing_id, ends_at in rows:
            if case_id not in cases:
                continue
            number, officer = cases[case_id]
            if officers is not None and officer not in officers:
                continue
            due = period_end_days(ends_at, days, settings.timezone)
            if due_from <= due < due_to:
                yield Node("heard_not_closed", case_id, number, due, (officer,), officer_id=officer,
                           object_type="hearings", object_id=hearing_id,
                           params={"days": days, "date": local_day(ends_at, settings)})

    for row in sources.last_held_hearings(session, low, high, case_ids):
        batch.append(tuple(row))
        if len(batch) >= CHUNK:
            yield from flush(batch)
            batch = []
    if batch:
        yield from flush(batch)


def deadline_nodes(session, settings, due_from, due_to, officers=None) -> Iterator[Node]:
    """The statutory deadline itself as a node (for the follow-up queues)."""
    from ancillary.cases.models import Case

    query = _open_cases().add_columns(Case.deadline_at).where(Case.deadline_at >= due_from, Case.deadline_at < due_to)
    if officers is not None:
        query = query.where(Case.judge_id.in_(officers))
    for case_id, number, officer, deadline in session.execute(query.execution_options(**STREAM)):
        yield Node("deadline", case_id, number, deadline, (officer,), officer_id=officer, object_id=case_id,
                   params={"date": local_day(deadline, settings), "days": 0})


def deadline_warnings(session, now, settings, *, since=None, case_ids=None) -> Iterator[Node]:
    """Warnings 30/15/7/1 days ahead: the most urgent threshold not yet warned for.

    ``since``: only the deadlines whose threshold changed between that instant's local day
    and today's (what a sweep at ``since`` already warned for is not read again).
    """
    from ancillary.cases.models import Case

    tz = settings.timezone
    today = now.astimezone(tz).date()
    thresholds = sorted(settings.deadline_warning_days)
    horizon = end_of_local_day(today + timedelta(days=thresholds[-1]), tz)
    query = _open_cases().add_columns(Case.deadline_at).where(Case.deadline_at > now, Case.deadline_at <= horizon)
    query = _only(query, Case.id, case_ids)
    if since is not None:
        ranges = threshold_crossings(today, since.astimezone(tz).date(), thresholds, tz)
        if not ranges:
            return
        query = query.where(or_(*((Case.deadline_at >= low) & (Case.deadline_at < high) for low, high in ranges)))
    for case_id, number, officer, deadline in session.execute(query.execution_options(**STREAM)):
        left = (deadline.astimezone(tz).date() - today).days
        threshold = next(d for d in thresholds if d >= left)
        yield Node("deadline", case_id, number, deadline, (officer,), officer_id=officer, object_id=case_id,
                   params={"date": local_day(deadline, settings), "days": left}, key_part=f"d{threshold}")


# --- task nodes (archive deadlines, SLA breaches) ------------------------------------------


def _staff(session, role) -> tuple[int, ...]:
    from ancillary.auth.models import User

    return tuple(session.scalars(select(User.id).where(User.role == role, User.is_active.is_(True)).order_by(User.id)))


def task_nodes(session, settings, due_from, due_to, *, case_ids=None) -> Iterator[Node]:
    from ancillary.auth.models import Role
    from ancillary.cases.models import Case
    from ancillary.queues.models import Task, TaskKind, TaskStatus

    managers = _staff(session, Role.contractor_manager)
    archivists = _staff(session, Role.archivist)
    warn = timedelta(days=settings.archive_warning_days)
    base = (select(Task.id, Task.kind, Task.assignee_id, Task.due_at, Task.case_id, Case.number)
            .join(Case, Case.id == Task.case_id)
            .where(Task.status.in_([TaskStatus.open, TaskStatus.claimed])))
    base = _only(base, Task.case_id, case_ids)
    archive = base.where(Task.kind == TaskKind.archive, Task.due_at >= due_from, Task.due_at < due_to + warn)
    for task_id, _kind, assignee, due, case_id, number in session.execute(archive.execution_options(**STREAM)):
        people = ((assignee,) if assignee else archivists) + managers
        if due_from <= due - warn < due_to:
            yield Node("archive_due", case_id, number, due - warn, people, object_type="tasks", object_id=task_id,
                       params={"date": local_day(due, settings)})
        if due_from <= due < due_to:
            yield Node("archive_overdue", case_id, number, due, people, object_type="tasks", object_id=task_id,
                       params={"date": local_day(due, settings)})
    if not managers:
        return
    late = base.where(Task.kind != TaskKind.archive, Task.due_at >= due_from, Task.due_at < due_to)
    for task_id, kind, _assignee, due, case_id, number in session.execute(late.execution_options(**STREAM)):
        yield Node("task_overdue", case_id, number, due, managers, digest=INFO, object_type="tasks",
                   object_id=task_id, params={"date": local_day(due, settings), "task": kind.value})


def hearing_digest_nodes(session, now, settings) -> Iterator[Node]:
    """Tomorrow's hearings, once the digest time (18:00) has passed today."""
    from ancillary.cases.models import Case

    tz = settings.timezone
    local = now.astimezone(tz)
    if local.time() < settings.digest_time:
        return
    tomorrow = local.date() + timedelta(days=1)
    start = datetime.combine(tomorrow, time(0), tz)
    rows = list(sources.hearings_between(session, start, start + timedelta(days=1)))
    if not rows:
        return
    cases = {cid: (number, judge) for cid, number, judge in session.execute(
        select(Case.id, Case.number, Case.judge_id).where(Case.id.in_({r.case_id for r in rows})))}
    judges = {r.judge_id or cases.get(r.case_id, (None, None))[1] for r in rows}
    done = set(session.scalars(select(Notification.recipient_id).where(
        Notification.idempotency_key.in_([hearing_key(j, tomorrow, 0) for j in judges if j]))))
    for row in rows:
        if row.case_id not in cases:
            continue
        number, case_judge = cases[row.case_id]
        judge = row.judge_id or case_judge
        if judge in done:
            continue
        yield Node("hearing", row.case_id, number, row.starts_at, (judge,), digest=HEARING,
                   object_type="hearings", object_id=row.hearing_id, key_part=tomorrow.isoformat(),
                   params={"time": row.starts_at.astimezone(tz).strftime("%H:%M"), "room": row.courtroom,
                           "date": tomorrow.isoformat()})


def threshold_crossings(today: date, before: date, thresholds: list[int], tz) -> list[tuple[datetime, datetime]]:
    """Local days (UTC ranges [start, end)) of deadlines whose warning threshold on ``today`` differs from ``before``.

    A deadline ``left`` days away has the threshold min(t >= left); it changes from one day
    to a later one exactly when ``left`` passes below some t + 1.
    """
    gap = (today - before).days
    if gap <= 0:
        return []
    days = sorted({left for t in thresholds for left in range(max(0, t - gap + 1), t + 1)})
    ranges, start = [], None
    for index, left in enumerate(days):
        start = left if start is None else start
        if index + 1 == len(days) or days[index + 1] != left + 1:
            ranges.append((end_of_local_day(today + timedelta(days=start - 1), tz) + SECOND,
                           end_of_local_day(today + timedelta(days=left), tz) + SECOND))
            start = None
    return ranges


def hearing_key(judge_id, day: date, chunk: int) -> str:
    return f"hearing_digest:{judge_id}:{day.isoformat()}:{chunk}"


def case_nodes(session, settings, due_from, due_to, officers=None, *, case_ids=None) -> Iterator[Node]:
    """Every case node falling due in [due_from, due_to), for the sweep and the queues."""
    yield from heard_not_closed_nodes(session, settings, due_from, due_to, officers, case_ids=case_ids)
    yield from enforcement_nodes(session, settings, due_from, due_to, officers, case_ids=case_ids)


# --- staging --------------------------------------------------------------------------------


def follow_up_posts_by_officer(session) -> dict[int, list[int]]:
    from ancillary.queues.models import FollowUpPairing, Post

    mapping: dict[int, list[int]] = {}
    for officer, user in session.execute(
        select(FollowUpPairing.officer_id, Post.user_id).join(Post, Post.id == FollowUpPairing.post_id)
    ):
        mapping.setdefault(officer, []).append(user)
    return mapping


def item_keys(nodes: Iterable[Node], settings, posts) -> Iterator[tuple[str, Node, int, str]]:
    """(key, node, recipient, digest) of every item the nodes make; the row is built only if new."""
    for node in nodes:
        part = node.key_part or local_day(node.due_at, settings)
        base = f"{node.rule}:{node.object_type}:{node.object_id}:{part}"
        for recipient in node.recipient_ids:
            if recipient:
                yield f"{base}:{recipient}", node, recipient, node.digest
        if node.officer_id is not None and node.digest == ACTION:
            for user in posts.get(node.officer_id, ()):
                yield f"{base}:{user}", node, user, FOLLOW_UP


def _item_row(key: str, node: Node, recipient: int, digest: str, now) -> dict:
    params = dict(node.params)
    if node.officer_id is not None:
        params["officer_id"] = node.officer_id
    return {"key": key, "rule": node.rule, "digest": digest, "recipient_id": recipient, "case_id": node.case_id,
            "object_type": node.object_type, "object_id": node.object_id, "due_at": node.due_at, "params": params,
            "root_id": node.root_id, "created_at": now}


def staged_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of ``keys`` are staged already: one array parameter on PostgreSQL (a thousand bound
    parameters cost more to render and parse than the lookups), an IN list on SQLite."""
    if session.get_bind().dialect.name == "postgresql":
        wanted = NotificationItem.key == any_(bindparam("keys", keys, type_=ARRAY(String)))
    else:
        wanted = NotificationItem.key.in_(keys)
    return set(session.scalars(select(NotificationItem.key).where(wanted)))


def stage(session: Session, nodes: Iterable[Node], now: datetime, settings, posts=None) -> int:
    """Insert the items not staged before (by key), a chunk at a time; return how many."""
    if posts is None:
        posts = follow_up_posts_by_officer(session)
    staged = 0
    chunk: list[tuple] = []

    def flush(items):
        seen = staged_keys(session, list({item[0] for item in items}))
        fresh = {}
        for item in items:
            if item[0] not in seen and item[0] not in fresh:
                fresh[item[0]] = _item_row(*item, now)
        bulk_insert(session, NotificationItem.__table__, list(fresh.values()))
        return len(fresh)

    for item in item_keys(nodes, settings, posts):
        chunk.append(item)
        if len(chunk) >= CHUNK:
            staged += flush(chunk)
            chunk = []
    if chunk:
        staged += flush(chunk)
    return staged
