"""Write notifications into the outbox; acknowledge them; apply what the provider says.

Commands here flush and audit but never commit: the request, the CLI or the job
wrapper commits. The sender (``sender.py``) delivers rows after that commit.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.errors import Conflict, Forbidden, Invalid, NotFound
from ancillary.reminders.models import (
    Channel,
    EnforcementRecord,
    Notification,
    NotificationItem,
    NotificationStatus,
    SmsOptOut,
)

QUIET_CHANNELS = (Channel.sms, Channel.voice)


# --- quiet hours -------------------------------------------------------------------------


def _in_window(moment, start, end) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def in_quiet_hours(at: datetime, settings) -> bool:
    """Whether ``at`` falls in the quiet hours (21:00-08:00 local by default)."""
    return _in_window(at.astimezone(settings.timezone).time(), settings.quiet_start, settings.quiet_end)


def release_time(at: datetime, settings) -> datetime:
    """The first instant at or after ``at`` outside the quiet hours (UTC)."""
    if not in_quiet_hours(at, settings):
        return at
    tz = settings.timezone
    local = at.astimezone(tz)
    end = datetime.combine(local.date(), settings.quiet_end, tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), settings.quiet_end, tz)
    return end.astimezone(timezone.utc)


def _settings_or_none(settings):
    if settings is not None:
        return settings
    try:
        from flask import current_app

        return current_app.config["SETTINGS"]
    except (RuntimeError, KeyError):
        return None


def new_ack_code() -> str:
    """Four digits printed in a reminder; a reply "OK 4821" acknowledges exactly that one."""
    return f"{secrets.randbelow(10000):04d}"


# --- the outbox ---------------------------------------------------------------------------


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
    ack_code: str | None = None,
    settings=None,
) -> Notification:
    """Add a message to the outbox, or return the one already there under ``key``.

    ``key`` names the rule, the object, the recipient and the day, so running a
    rule twice (a retried request, a re-run sweep) never creates a second message.
    A non-urgent SMS or call that would fall in the quiet hours waits (status
    ``pending``, ``not_before`` at the end of the quiet hours).
    """
    existing = session.scalar(select(Notification).where(Notification.idempotency_key == key))
    if existing is not None:
        return existing
    channel = Channel(channel)
    due = not_before or now
    settings = _settings_or_none(settings)
    if settings is not None and channel in QUIET_CHANNELS and not is_urgent:
        due = release_time(due, settings)
    row = Notification(
        idempotency_key=key,
        recipient_id=recipient_id,
        to_address=to_address,
        channel=channel,
        kind=kind,
        subject=subject,
        body=body,
        case_id=case_id,
        object_type=type(obj).__tablename__ if obj is not None else None,
        object_id=getattr(obj, "id", None),
        is_urgent=is_urgent,
        needs_ack=needs_ack,
        status=NotificationStatus.pending,
        not_before=due,
        created_at=now,
        attempts=0,
        ack_code=ack_code,
        escalation_level=0,
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


def case_ids_of(session: Session, notification: Notification) -> list[int]:
    """The cases a message is about: its items' cases, or its own case."""
    ids = sorted(set(session.scalars(
        select(NotificationItem.case_id).where(
            NotificationItem.notification_id == notification.id, NotificationItem.case_id.is_not(None)))))
    if not ids and notification.case_id is not None:
        ids = [notification.case_id]
    return ids


def audit_step(session: Session, actor, action: str, notification: Notification, *, now: datetime,
               after: dict | None = None) -> None:
    """Write one audit entry per case the message names, so each case's history shows the step."""
    body = {"notification_id": notification.id, "kind": notification.kind, "recipient_id": notification.recipient_id,
            **(after or {})}
    cases = case_ids_of(session, notification)
    for case_id in cases or [None]:
        record(session, actor, action, notification, now=now, after=body, case_id=case_id)


# --- acknowledgement ----------------------------------------------------------------------


def get_notification(session: Session, notification_id: int) -> Notification:
    row = session.get(Notification, notification_id)
    if row is None:
        raise NotFound("notification_not_found", "no notification with id {id}", field="notification_id",
                       id=notification_id)
    return row


def acknowledge(session: Session, notification: Notification, *, actor, now: datetime, via: str) -> Notification:
    """Acknowledge a message of one's own; an action reminder's loop closes here.

    Acknowledging an escalation closes the loop of every reminder it escalated: the
    management office (or the president) has taken the matter over.
    """
    if notification.recipient_id != actor.id:
        raise Forbidden("not_your_notification", "notification {id} was sent to someone else", id=notification.id)
    if notification.acked_at is not None:
        return notification
    notification.acked_at = now
    notification.acked_by_id = actor.id
    if notification.needs_ack and notification.resolved_at is None:
        notification.resolved_at = now
    session.flush()
    audit_step(session, actor, "reminder.ack", notification, now=now, after={"via": via})
    root_ids = set(session.scalars(
        select(NotificationItem.root_id).where(
            NotificationItem.notification_id == notification.id, NotificationItem.root_id.is_not(None))))
    for root in session.scalars(select(Notification).where(Notification.id.in_(root_ids))):
        if root.resolved_at is None:
            root.resolved_at = now
            session.flush()
            audit_step(session, actor, "reminder.resolve", root, now=now,
                       after={"reason": "escalation acknowledged", "escalation_id": notification.id})
    return notification


# --- provider status ----------------------------------------------------------------------

# Twilio's words -> ours; ``rank`` keeps late or repeated callbacks from moving a row back.
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


def apply_provider_status(session: Session, *, provider_id: str, status: str, now: datetime,
                          error_code: str | None = None, notification_id: int | None = None) -> Notification:
    """Record a delivery status the provider reported for one of our messages.

    The callback URL names our row (``notification_id``): a callback that arrives before
    the sender recorded the SID still finds its message, and records the SID itself.
    """
    new = map_provider_status(status)
    if new is None:
        raise Invalid("unknown_status", "unknown message status {status}", field="MessageStatus", status=status)
    row = session.scalar(select(Notification).where(Notification.provider_id == provider_id))
    if row is None and notification_id is not None:
        # Wait for a sender still recording this row, then look again: it may now carry the SID.
        row = session.scalar(select(Notification).where(Notification.id == notification_id).with_for_update())
        if row is not None and row.provider_id is None:
            row.provider_id = provider_id
        elif row is not None and row.provider_id != provider_id:
            row = None  # a stray SID cannot take another message's row
    if row is None:
        raise NotFound("unknown_message", "no notification was sent as {sid}", field="MessageSid", sid=provider_id)
    if RANK[new] <= RANK[row.status]:
        return row  # late, repeated or out-of-order callback: keep the furthest state
    before = row.status.value
    row.status = new
    if new == NotificationStatus.delivered:
        row.delivered_at = now
    if new in (NotificationStatus.undelivered, NotificationStatus.failed):
        row.last_error = f"provider reported {status}" + (f" (error {error_code})" if error_code else "")
    session.flush()
    audit_step(session, None, "reminder.delivery", row, now=now, after={"from": before, "to": new.value})
    on_status_change(session, row, now)
    return row


# --- inbound replies ----------------------------------------------------------------------

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
ACK_RE = re.compile(r"^(?:OK|好|收到|确认)\s*#?\s*(\d{4})?[.!。！]?$")


def is_opted_out(session: Session, phone: str) -> bool:
    return session.get(SmsOptOut, phone) is not None


def handle_inbound(session: Session, *, from_number: str, body: str, now: datetime) -> str | None:
    """Act on an SMS reply; return the text to answer with, or None to answer nothing.

    "OK" (optionally with the code the SMS carried) acknowledges the sender's newest
    unacknowledged reminder. STOP / START follow Twilio's conventions for everyone but
    the court's own officers and management office, whose reminders are part of their
    duty. A number we neither know nor ever wrote to changes nothing.
    """
    from flask_babel import gettext

    from ancillary.auth.models import COURT_ROLES, User
    from ancillary.auth.services import normalize_phone

    try:
        phone = normalize_phone(from_number, "From")
    except Invalid:
        return None
    user = session.scalar(select(User).where(User.phone == phone, User.is_active.is_(True)).order_by(User.id))
    known = user is not None or session.scalar(
        select(Notification.id).where(Notification.to_address == phone).limit(1)) is not None
    if not known:
        return None
    word = (body or "").strip().upper()
    if word in STOP_WORDS or word in START_WORDS:
        if user is not None and user.role in COURT_ROLES:
            return gettext("Court reminders are part of your duties and cannot be stopped; "
                           "ask the management office to change your number.")
        existing = session.get(SmsOptOut, phone)
        if word in STOP_WORDS and existing is None:
            session.add(SmsOptOut(phone=phone, user_id=user.id if user else None, created_at=now))
            record(session, user, "sms.opt_out", existing or _OptOutRef(phone), now=now, after={"phone": phone})
        elif word in START_WORDS and existing is not None:
            session.delete(existing)
            record(session, user, "sms.opt_in", _OptOutRef(phone), now=now, after={"phone": phone})
        session.flush()
        return None  # Twilio itself confirms STOP and START
    if user is None:
        return None
    match = ACK_RE.match(word)
    if not match:
        return gettext("Reply OK, or OK and the code in the message, to acknowledge a reminder.")
    query = select(Notification).where(
        Notification.recipient_id == user.id, Notification.needs_ack.is_(True), Notification.acked_at.is_(None))
    if match.group(1):
        query = query.where(Notification.ack_code == match.group(1))
    target = session.scalar(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(1))
    if target is None:
        return gettext("There is no reminder waiting for your acknowledgement.")
    acknowledge(session, target, actor=user, now=now, via="sms")
    numbers = case_numbers(session, case_ids_of(session, target))
    return gettext("Acknowledged: {cases}.").format(cases=", ".join(numbers) or "-")


class _OptOutRef:
    """Lets the audit trail name an opt-out row (its key is the phone number)."""

    __tablename__ = "sms_opt_outs"
    id = None

    def __init__(self, phone):
        self.phone = phone


def case_numbers(session: Session, case_ids) -> list[str]:
    from ancillary.cases.models import Case

    ids = list(case_ids)
    if not ids:
        return []
    return list(session.scalars(select(Case.number).where(Case.id.in_(ids)).order_by(Case.number)))


# --- enforcement nodes --------------------------------------------------------------------

NODE_FIELDS = (
    "property_search_started_at",
    "fully_seized_at",
    "auction_at",
    "auction_measures_at",
    "payment_received_at",
    "payment_released_at",
)
# (later node, earlier node): the later may not come before the earlier.
NODE_ORDER = (
    ("auction_measures_at", "auction_at"),
    ("payment_released_at", "payment_received_at"),
)


def record_enforcement_nodes(session: Session, case, values: dict, *, actor, now: datetime) -> EnforcementRecord:
    """Record node dates of an enforcement case (property search, seizure, auction, payment)."""
    from ancillary.cases.models import CaseKind

    if case.kind != CaseKind.enforcement:
        raise Invalid("not_enforcement", "case {number} is not an enforcement case", field="case_id",
                      number=case.number)
    if not values:
        raise Invalid("no_nodes", "name at least one node date", field=NODE_FIELDS[0])
    for name, value in values.items():
        if value is None:
            continue
        if value > now + timedelta(hours=1):
            raise Invalid("node_in_future", "{name} lies in the future", field=name, name=name)
        if value < case.filed_at:
            raise Invalid("node_before_filing", "{name} is before the filing", field=name, name=name)
    row = session.get(EnforcementRecord, case.id)
    if row is None:
        row = EnforcementRecord(case_id=case.id, updated_at=now)
        session.add(row)
    before = {name: _iso(getattr(row, name, None)) for name in values}
    merged = {name: values.get(name, getattr(row, name, None)) for name in NODE_FIELDS}
    for later, earlier in NODE_ORDER:
        if merged[later] is not None and merged[earlier] is None:
            raise Invalid("node_order", "{name} needs {earlier} first", field=later, name=later, earlier=earlier)
        if merged[later] is not None and merged[later] < merged[earlier]:
            raise Invalid("node_order", "{name} is before {earlier}", field=later, name=later, earlier=earlier)
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = now
    row.updated_by_id = actor.id if actor else None
    session.flush()
    record(session, actor, "enforcement.nodes", row, now=now, case_id=case.id, before=before,
           after={name: _iso(value) for name, value in values.items()})
    return row


def _iso(value):
    return None if value is None else value.isoformat()


# --- follow-up posts: "remind now" ----------------------------------------------------------


def remind_now(session: Session, post, *, officer_id: int, actor, now: datetime, settings,
               case_id: int | None = None) -> Notification:
    """Send an officer their due and overdue nodes now, through the outbox (quiet hours apply)."""
    from flask_babel import force_locale

    from ancillary.auth.models import User
    from ancillary.reminders import rules
    from ancillary.reminders.queries import post_queue

    nodes = post_queue(session, post, now, settings, officer_id=officer_id)
    if case_id is not None:
        nodes = [n for n in nodes if n["case_id"] == case_id]
    if not nodes:
        raise Conflict("nothing_due", "officer {id} has no due or overdue node to remind of", field="officer_id",
                       id=officer_id)
    key = f"remind_now:{post.id}:{officer_id}:{case_id or 0}:{now.astimezone(timezone.utc):%Y%m%dT%H%M}"
    existing = session.scalar(select(Notification).where(Notification.idempotency_key == key))
    if existing is not None:
        return existing  # a double click within the minute sends one message
    officer = session.get(User, officer_id)
    nodes = nodes[: rules.ITEMS_PER_MESSAGE]
    items = [
        NotificationItem(key=f"{key}:{n['case_id']}:{n['node']}", rule=n["node"], digest=rules.ACTION,
                         recipient_id=officer_id, case_id=n["case_id"], object_type="cases", object_id=n["case_id"],
                         due_at=n["due_at"], created_at=now,
                         params={**n["params"], "officer_id": officer_id,
                                 **({"days": _days_left(n["due_at"], now, settings)} if n["node"] == "deadline" else {})})
        for n in nodes
    ]
    session.add_all(items)
    session.flush()
    code = new_ack_code()
    with force_locale(_locale()):
        body = rules.compose_body(session, rules.ACTION, items, settings, code)
    channel, address = rules.address_of(officer)
    row = enqueue(session, key=key, channel=channel, to_address=address, body=body, kind="remind_now", now=now,
                  recipient_id=officer_id, case_id=case_id, needs_ack=True, ack_code=code, settings=settings,
                  subject=settings.court_name if channel == Channel.email else None)
    for item in items:
        item.notification_id = row.id
    session.flush()
    audit_step(session, actor, "reminder.remind_now", row, now=now,
               after={"post_id": post.id, "not_before": row.not_before.isoformat()})
    return row


def _days_left(due: datetime, now: datetime, settings) -> int:
    tz = settings.timezone
    return max(0, (due.astimezone(tz).date() - now.astimezone(tz).date()).days)


def _locale() -> str:
    from flask import current_app

    return current_app.config.get("BABEL_DEFAULT_LOCALE", "zh")
