"""Write messages into the outbox; apply what the provider says about them.

Commands here flush and audit but never commit: the request, the CLI or the job
wrapper commits. The sender (``sender.py``) delivers rows after that commit.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from blinker import Namespace
from sqlalchemy import bindparam, select, text, update
from sqlalchemy.orm import Session

from ancillary.audit.services import record, record_many_values
from ancillary.db import bulk_insert, get_or_404, reserve_ids
from ancillary.display_names import N_
from ancillary.errors import Invalid, NotFound
from ancillary.outbox.models import Channel, Notification, NotificationItem, NotificationStatus, SmsOptOut
from ancillary.outbox.quiet import held_back, release_time

signals = Namespace()
# Sent with the notification whenever its delivery status changes (the sender, or a
# provider's status webhook), with ``session`` and ``now``; receivers flush, not commit.
# Who listens is written out in ``ancillary.wiring``.
status_changed = signals.signal("outbox.status-changed")


def new_ack_code() -> str:
    """Four digits printed in a reminder; a reply "OK 4821" acknowledges exactly that one."""
    return f"{secrets.randbelow(10000):04d}"


def enqueue(session: Session, *, key: str, channel: Channel | str, to_address: str, body: str, kind: str,
            now: datetime, settings, recipient_id: int | None = None, subject: str | None = None,
            case_id: int | None = None, obj=None, not_before: datetime | None = None, is_urgent: bool = False,
            needs_ack: bool = False, ack_code: str | None = None, is_new: bool = False) -> Notification:
    """Add a message to the outbox, or return the one already there under ``key``.

    ``is_new``: the key names a row this transaction has just created, so no message can
    be there yet and the lookup is skipped (the unique key still refuses a duplicate).

    ``key`` names the rule, the object, the recipient and the day, so running a
    rule twice (a retried request, a re-run sweep) never creates a second message.
    A non-urgent SMS or call that would fall in the quiet hours waits (status
    ``pending``, ``not_before`` at the end of the quiet hours).
    """
    if not is_new:
        existing = session.scalar(select(Notification).where(Notification.idempotency_key == key))
        if existing is not None:
            return existing
    channel = Channel(channel)
    due = due_time(channel, not_before or now, settings, is_urgent=is_urgent)
    row = Notification(
        idempotency_key=key, recipient_id=recipient_id, to_address=to_address, channel=channel, kind=kind,
        subject=subject, body=body, case_id=case_id,
        object_type=type(obj).__tablename__ if obj is not None else None, object_id=getattr(obj, "id", None),
        is_urgent=is_urgent, needs_ack=needs_ack, status=NotificationStatus.pending, not_before=due,
        created_at=now, attempts=0, ack_code=ack_code, escalation_level=0,
    )
    session.add(row)
    session.flush()
    return row


def due_time(channel: Channel | str, due: datetime, settings, *, is_urgent: bool = False) -> datetime:
    """When a message meant for ``due`` may go: a non-urgent SMS or call waits out the quiet hours."""
    return release_time(due, settings) if held_back(Channel(channel), is_urgent) else due


KEYS_PER_QUERY = 1000


def enqueue_many(session: Session, messages: list[dict], *, now: datetime, settings) -> dict[str, tuple[int, datetime]]:
    """``enqueue`` for many messages at once: (id, not_before) by key, the existing ones reused.

    Each message is a dict of ``Notification`` columns (``idempotency_key``, ``channel``,
    ``to_address``, ``body``, ``kind``, ``recipient_id``, ...); the rest is filled as
    ``enqueue`` fills it (quiet hours included). The ids are reserved first (``reserve_ids``),
    then the rows written in bulk (COPY on PostgreSQL): a multi-row INSERT ... RETURNING of
    thousands of rows spent most of its time composing the statement.
    """
    found: dict[str, tuple[int, datetime]] = {}
    keys = [m["idempotency_key"] for m in messages]
    for start in range(0, len(keys), KEYS_PER_QUERY):
        for key, nid, due in session.execute(select(
                Notification.idempotency_key, Notification.id, Notification.not_before).where(
                Notification.idempotency_key.in_(keys[start:start + KEYS_PER_QUERY]))):
            found[key] = (nid, due)
    rows, seen = [], set(found)
    for message in messages:
        if message["idempotency_key"] in seen:
            continue
        seen.add(message["idempotency_key"])
        channel = Channel(message["channel"])
        due = message.get("not_before") or now
        if held_back(channel, message.get("is_urgent", False)):
            due = release_time(due, settings)
        rows.append({"subject": None, "case_id": None, "object_type": None, "object_id": None, "is_urgent": False,
                     "needs_ack": False, "ack_code": None, **message, "channel": channel,
                     "status": NotificationStatus.pending, "not_before": due, "created_at": now, "attempts": 0,
                     "escalation_level": 0})
    columns = {name: None for row in rows for name in row}
    rows = [{**columns, **row} for row in rows]  # one set of columns, as a bulk write needs
    for row, nid in zip(rows, reserve_ids(session, Notification.__table__, len(rows)), strict=True):
        row["id"] = nid
        found[row["idempotency_key"]] = (nid, row["not_before"])  # as given, as ``enqueue`` keeps it on its object
    bulk_insert(session, Notification.__table__, rows)
    return found


def link_items(session: Session, item_ids_by_notification: dict[int, list[int]]) -> None:
    """Point each staged item at the message it was folded into (one executemany UPDATE by id)."""
    pairs = [(item, nid) for nid, items in item_ids_by_notification.items() for item in items]
    if not pairs:
        return
    table = NotificationItem.__table__
    if session.get_bind().dialect.name == "postgresql":  # one statement: UPDATE ... FROM unnest(ids, messages)
        session.flush()
        session.execute(text("UPDATE notification_items SET notification_id = links.message "
                             "FROM unnest(CAST(:items AS integer[]), CAST(:messages AS integer[])) "
                             "AS links(item, message) WHERE notification_items.id = links.item"),
                        {"items": [p[0] for p in pairs], "messages": [p[1] for p in pairs]})
        return
    statement = update(table).where(table.c.id == bindparam("item")).values(notification_id=bindparam("message"))
    session.execute(statement, [{"item": item, "message": nid} for item, nid in pairs])


def audit_steps(session: Session, action: str, steps: list[tuple[int, str, int | None, list[int], dict]], *,
                now: datetime) -> None:
    """``audit_step`` for many messages (by the system): one entry per case each names, in one INSERT.

    A step is (notification id, kind, recipient id, its items' case ids, extra ``after``).
    """
    rows = []
    for nid, kind, recipient_id, case_ids, extra in steps:
        after = {"notification_id": nid, "kind": kind, "recipient_id": recipient_id, **extra}
        rows += [(now, None, action, "notifications", nid, case_id, None, after) for case_id in case_ids or [None]]
    record_many_values(session, AUDIT_COLUMNS, rows)


AUDIT_COLUMNS = ["at", "actor_id", "action", "object_type", "object_id", "case_id", "before", "after"]


def notify_status_change(session: Session, notification: Notification, now: datetime) -> None:
    """Tell every listener that ``notification`` changed status; they flush, not commit."""
    status_changed.send(notification, session=session, now=now)


# Built once: every step of every message (queued, sent, delivered) is audited per case it names.
_CASES_OF = select(NotificationItem.case_id).where(NotificationItem.notification_id == bindparam("notification_id"),
                                                   NotificationItem.case_id.is_not(None))


def case_ids_of(session: Session, notification: Notification) -> list[int]:
    """The cases a message is about: its items' cases, or its own case."""
    ids = sorted(set(session.scalars(_CASES_OF, {"notification_id": notification.id})))
    if not ids and notification.case_id is not None:
        ids = [notification.case_id]
    return ids


def cases_of_many(session: Session, notifications: list[Notification]) -> dict[int, list[int]]:
    """``case_ids_of`` for many messages in one read: each message's id -> its case ids."""
    found: dict[int, set[int]] = {n.id: set() for n in notifications}
    for notification_id, case_id in session.execute(
            select(NotificationItem.notification_id, NotificationItem.case_id).where(
                NotificationItem.notification_id.in_(list(found)), NotificationItem.case_id.is_not(None))):
        found[notification_id].add(case_id)
    return {n.id: sorted(found[n.id]) or ([n.case_id] if n.case_id is not None else []) for n in notifications}


def audit_step(session: Session, actor, action: str, notification: Notification, *, now: datetime,
               after: dict | None = None, cases: list[int] | None = None) -> None:
    """Write one audit entry per case the message names, so each case's history shows the step.

    ``cases``: the message's case ids when the caller read them already (``cases_of_many``).
    """
    body = {"notification_id": notification.id, "kind": notification.kind, "recipient_id": notification.recipient_id,
            **(after or {})}
    cases = case_ids_of(session, notification) if cases is None else cases
    for case_id in cases or [None]:
        record(session, actor, action, notification, now=now, after=body, case_id=case_id)


def get_notification(session: Session, notification_id: int) -> Notification:
    return get_or_404(session, Notification, notification_id, code="notification_not_found",
                      message=N_("there is no such notification: reload the list"), field="notification_id")


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(SmsOptOut, phone) is not None


# --- provider status ----------------------------------------------------------------------

# Twilio's words -> ours; ``RANK`` keeps late or repeated callbacks from moving a row back.
PROVIDER_STATUS = {
    "accepted": NotificationStatus.queued,
    "scheduled": NotificationStatus.queued,
    "queued": NotificationStatus.queued,
    "sending": NotificationStatus.queued,
    "sent": NotificationStatus.sent,
    "delivered": NotificationStatus.delivered,
    "read": NotificationStatus.delivered,
    "undelivered": NotificationStatus.undelivered,
    "failed": NotificationStatus.failed,
    "canceled": NotificationStatus.failed,
}
RANK = {
    NotificationStatus.pending: 0,
    NotificationStatus.queued: 1,
    NotificationStatus.sent: 2,
    NotificationStatus.delivered: 3,
    NotificationStatus.undelivered: 3,
    NotificationStatus.failed: 3,
}


def map_provider_status(word: str) -> NotificationStatus | None:
    return PROVIDER_STATUS.get((word or "").strip().lower())


def _row_for_callback(session: Session, provider_id: str, notification_id: int | None) -> Notification:
    if notification_id is not None:  # the row the URL names, by its key (no read when the session holds it)
        row = session.get(Notification, notification_id)
        if row is not None and row.provider_id == provider_id:
            return row
    row = session.scalar(select(Notification).where(Notification.provider_id == provider_id))
    if row is None and notification_id is not None:
        # Wait for a sender still recording this row, then look again: it may now carry the SID
        # (read afresh: the row loaded above may predate the sender's commit).
        row = session.scalar(select(Notification).where(Notification.id == notification_id).with_for_update()
                             .execution_options(populate_existing=True))
        if row is not None and row.provider_id is None:
            row.provider_id = provider_id
        elif row is not None and row.provider_id != provider_id:
            row = None  # a stray SID cannot take another message's row
    if row is None:
        raise NotFound("unknown_message", "no notification was sent as {sid}", field="MessageSid", sid=provider_id)
    return row


def apply_provider_status(session: Session, *, provider_id: str, status: str, now: datetime,
                          error_code: str | None = None, notification_id: int | None = None) -> Notification:
    """Record a delivery status the provider reported for one of our messages.

    The callback URL names our row (``notification_id``): a callback that arrives before
    the sender recorded the SID still finds its message, and records the SID itself.
    """
    new = map_provider_status(status)
    if new is None:
        raise Invalid("unknown_status", "unknown message status {status}", field="MessageStatus", status=status)
    row = _row_for_callback(session, provider_id, notification_id)
    if RANK[new] <= RANK[row.status]:
        return row  # late, repeated or out-of-order callback: keep the furthest state
    before = row.status.value
    row.status = new
    if new == NotificationStatus.delivered:
        row.delivered_at = now
    if new in (NotificationStatus.undelivered, NotificationStatus.failed):
        row.last_error = f"provider reported {status}" + (f" (error {error_code})" if error_code else "")
    with session.no_autoflush:  # its reads need not see the new status: one flush at the end, not three
        audit_step(session, None, "reminder.delivery", row, now=now, after={"from": before, "to": new.value})
        notify_status_change(session, row, now)
    session.flush()
    return row
