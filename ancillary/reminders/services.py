"""Write notifications into the outbox; a sender delivers them after the commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.reminders.models import Channel, Notification, NotificationStatus


def enqueue(
    session: Session,
    *,
    key: str,
    channel: Channel | str,
    to_address: str,
    body: str,
    kind: str,
    now: datetime,
    recipient_id: int | None = None,
    subject: str | None = None,
    case_id: int | None = None,
    obj=None,
    not_before: datetime | None = None,
    is_urgent: bool = False,
    needs_ack: bool = False,
) -> Notification:
    """Add a message to the outbox, or return the one already there under ``key``.

    ``key`` names the rule, the object, the recipient and the day, so running a
    rule twice (a retried request, a re-run sweep) never creates a second message.
    """
    existing = session.scalar(select(Notification).where(Notification.idempotency_key == key))
    if existing is not None:
        return existing
    row = Notification(
        idempotency_key=key,
        recipient_id=recipient_id,
        to_address=to_address,
        channel=Channel(channel),
        kind=kind,
        subject=subject,
        body=body,
        case_id=case_id,
        object_type=type(obj).__tablename__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        is_urgent=is_urgent,
        needs_ack=needs_ack,
        status=NotificationStatus.pending,
        not_before=not_before or now,
        created_at=now,
        attempts=0,
    )
    session.add(row)
    session.flush()
    return row


# Dotted paths of ``fn(session, notification, now)`` called whenever a notification's
# delivery status changes (the sender, or a provider's status webhook). Contexts that
# care about delivery, such as service of process, add theirs here.
STATUS_LISTENERS: list[str] = [
    "ancillary.service.services.on_notification_status",
]


def on_status_change(session: Session, notification: Notification, now: datetime) -> None:
    """Tell every listener that ``notification`` changed status; they flush, not commit."""
    import importlib

    for path in STATUS_LISTENERS:
        module, _, name = path.rpartition(".")
        getattr(importlib.import_module(module), name)(session, notification, now)
