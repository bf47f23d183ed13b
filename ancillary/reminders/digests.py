"""Folding a recipient's staged items into one message per sweep, in the court's language."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ancillary.display_names import N_
from ancillary.outbox import Channel, NotificationItem, audit_step, court_locale, enqueue, new_ack_code
from ancillary.reminders import rules


def _line(item: NotificationItem, number: str, names: dict[int, str]) -> str:
    params = dict(item.params or {})
    try:
        text = gettext(rules.RULE_TEXT.get(item.rule, N_("needs your action"))).format(**params)
    except (KeyError, IndexError, ValueError):
        text = gettext(N_("needs your action"))
    if item.rule == "task_overdue":
        text = gettext(rules.RULE_TEXT[item.rule]).format(task=gettext(params.get("task", "")), date=params.get("date"))
    if item.rule == "hearing":
        return f"{text} {number}"
    line = f"{number} {text}"
    if item.digest in (rules.FOLLOW_UP, rules.ESCALATION) and params.get("officer_id"):
        line = f"{names.get(params['officer_id'], '')}: {line}"
    return line


def compose_body(session: Session, digest: str, items: list[NotificationItem], settings, ack_code: str | None,
                 escalation_hours: int | None = None) -> str:
    """The SMS text of a digest; every line names its case number."""
    from ancillary.auth.models import User
    from ancillary.cases.models import Case

    numbers = dict(session.execute(select(Case.id, Case.number).where(Case.id.in_({i.case_id for i in items}))).all())
    officer_ids = {(i.params or {}).get("officer_id") for i in items} - {None}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(officer_ids))).all())
    lines = "; ".join(_line(i, numbers.get(i.case_id, "-"), names) for i in items)
    court = settings.court_name
    if digest == rules.ACTION:
        return gettext("{court}: {count} matter(s) need your action: {lines}. Reply OK {code} to acknowledge.").format(
            court=court, count=len(items), lines=lines, code=ack_code)
    if digest == rules.FOLLOW_UP:
        return gettext("{court} follow-up: your officers' matters: {lines}.").format(court=court, lines=lines)
    if digest == rules.HEARING:
        day = (items[0].params or {}).get("date", "")
        return gettext("{court}: your hearings tomorrow ({date}): {lines}.").format(court=court, date=day, lines=lines)
    if digest == rules.ESCALATION:
        text = gettext("{court}: reminders unanswered for {hours} h: {lines}. Reply OK {code} to take them over.")
        return text.format(
            court=court, hours=escalation_hours or settings.escalation_hours, lines=lines, code=ack_code)
    return gettext("{court}: {count} task(s) past their deadline: {lines}.").format(court=court, count=len(items),
                                                                                  lines=lines)


def address_of(user) -> tuple[Channel, str]:
    if user.phone:
        return Channel.sms, user.phone
    if user.email:
        return Channel.email, user.email
    return Channel.sms, ""


def fold(session: Session, now: datetime, settings, digests: Iterable[str]) -> int:
    """Fold each recipient's staged items into one message per digest (per sweep)."""
    from ancillary.auth.models import User

    digests = list(digests)
    recipients = list(session.scalars(
        select(NotificationItem.recipient_id).where(NotificationItem.notification_id.is_(None),
                                                    NotificationItem.digest.in_(digests))
        .distinct().order_by(NotificationItem.recipient_id)))
    made = 0
    stamp = now.strftime("%Y%m%dT%H%M%S")
    with court_locale():
        for recipient_id in recipients:
            user = session.get(User, recipient_id)
            items_by_digest: dict[str, list[NotificationItem]] = {}
            for item in session.scalars(
                select(NotificationItem).where(NotificationItem.notification_id.is_(None),
                                               NotificationItem.recipient_id == recipient_id,
                                               NotificationItem.digest.in_(digests))
                .order_by(NotificationItem.id)
            ):
                items_by_digest.setdefault(item.digest, []).append(item)
            for digest, items in items_by_digest.items():
                for index in range(0, len(items), rules.ITEMS_PER_MESSAGE):
                    chunk = items[index:index + rules.ITEMS_PER_MESSAGE]
                    made += _make_message(session, user, digest, chunk, index // rules.ITEMS_PER_MESSAGE, stamp, now,
                                          settings)
            for items in items_by_digest.values():  # keep memory to one recipient's items
                for item in items:
                    session.expunge(item)
    return made


def _make_message(session, user, digest, chunk, number, stamp, now, settings) -> int:
    code = new_ack_code() if digest in rules.ACK_DIGESTS else None
    body = compose_body(session, digest, chunk, settings, code)
    if digest == rules.HEARING:
        key = rules.hearing_key(user.id, date.fromisoformat(chunk[0].params["date"]), number)
    else:
        key = f"{digest}:{user.id}:{stamp}:{number}"
    channel, address = address_of(user)
    cases = {i.case_id for i in chunk}
    row = enqueue(session, key=key, channel=channel, to_address=address, body=body, kind=rules.DIGEST_KIND[digest],
                  now=now,
                  recipient_id=user.id, subject=settings.court_name if channel == Channel.email else None,
                  case_id=next(iter(cases)) if len(cases) == 1 else None, needs_ack=digest in rules.ACK_DIGESTS,
                  ack_code=code, settings=settings)
    session.execute(update(NotificationItem).where(NotificationItem.id.in_([i.id for i in chunk]))
                    .values(notification_id=row.id).execution_options(synchronize_session=False))
    audit_step(session, None, "reminder.queue", row, now=now,
               after={"rules": sorted({i.rule for i in chunk}), "not_before": row.not_before.isoformat()})
    return 1

