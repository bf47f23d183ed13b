"""Acknowledge reminders, act on SMS replies, record enforcement nodes, remind now.

Commands here flush and audit but never commit: the request, the CLI or the job
wrapper commits. Messages go out through the outbox (``ancillary.outbox``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from flask_babel import gettext
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import COURT_ROLES, User
from ancillary.auth.services import normalize_phone
from ancillary.cases.models import Case, CaseKind
from ancillary.errors import Conflict, Forbidden, Invalid
from ancillary.outbox import (
    Channel,
    Notification,
    NotificationItem,
    SmsOptOut,
    audit_step,
    case_ids_of,
    court_locale,
    enqueue,
    new_ack_code,
)
from ancillary.reminders import digests, rules
from ancillary.reminders.models import EnforcementRecord
from ancillary.reminders.queries import post_queue


def acknowledge(session: Session, notification: Notification, *, actor, now: datetime, via: str) -> Notification:
    """Acknowledge a message of one's own; an action reminder's loop closes here.

    Acknowledging an escalation closes the loop of every reminder it escalated: the
    management office (or the president) has taken the matter over.
    """
    if notification.recipient_id != actor.id:
        raise Forbidden("not_your_notification", "this notification was sent to someone else", id=notification.id)
    if notification.acked_at is not None:
        return notification
    notification.acked_at = now
    notification.acked_by_id = actor.id
    if notification.needs_ack and notification.resolved_at is None:
        notification.resolved_at = now
    with session.no_autoflush:  # its reads need nothing pending (the items are not changed): one flush at the end
        audit_step(session, actor, "reminder.ack", notification, now=now, after={"via": via})
        root_ids = set(session.scalars(_ROOTS_OF, {"notification_id": notification.id}))
        for root in session.scalars(select(Notification).where(Notification.id.in_(root_ids))) if root_ids else ():
            if root.resolved_at is None:
                root.resolved_at = now
                audit_step(session, actor, "reminder.resolve", root, now=now,
                           after={"reason": "escalation acknowledged", "escalation_id": notification.id})
    session.flush()
    return notification


# The reminders an escalation acknowledged took over (built once: every acknowledgement reads it).
_ROOTS_OF = select(NotificationItem.root_id).where(NotificationItem.notification_id == bindparam("notification_id"),
                                                   NotificationItem.root_id.is_not(None))


# --- inbound replies ----------------------------------------------------------------------

STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
START_WORDS = {"START", "YES", "UNSTOP"}
ACK_RE = re.compile(r"^(?:OK|好|收到|确认)\s*#?\s*(\d{4})?[.!。！]?$")


def handle_inbound(session: Session, *, from_number: str, body: str, now: datetime) -> str | None:
    """Act on an SMS reply; return the text to answer with, or None to answer nothing.

    "OK" (optionally with the code the SMS carried) acknowledges the sender's newest
    unacknowledged reminder. STOP / START follow Twilio's conventions for everyone but
    the court's own officers and management office, whose reminders are part of their
    duty. A number we neither know nor ever wrote to changes nothing.
    """
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
    nodes = post_queue(session, post, now, settings, officer_id=officer_id)
    if case_id is not None:
        nodes = [n for n in nodes if n["case_id"] == case_id]
    if not nodes:
        officer = session.get(User, officer_id)
        raise Conflict("nothing_due", "{name} has nothing due or overdue to be reminded of", field="officer_id",
                       name=officer.display_name if officer else "")
    key = f"remind_now:{post.id}:{officer_id}:{case_id or 0}:{now.astimezone(UTC):%Y%m%dT%H%M}"
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
                                 **({"days": _days_left(n["due_at"], now, settings)}
                                    if n["node"] == "deadline" else {})})
        for n in nodes
    ]
    session.add_all(items)
    session.flush()
    code = new_ack_code()
    with court_locale():
        body = digests.compose_body(session, rules.ACTION, items, settings, code)
    channel, address = digests.address_of(officer)
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

