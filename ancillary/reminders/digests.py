"""Folding a recipient's staged items into one message per sweep, in the court's language."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date, datetime

from flask_babel import gettext
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ancillary.display_names import N_
from ancillary.outbox import (
    Channel,
    NotificationItem,
    audit_step,
    audit_steps,
    court_locale,
    enqueue,
    enqueue_many,
    link_items,
    new_ack_code,
)
from ancillary.reminders import rules


def _line(item: NotificationItem, number: str, names: dict[int, str], tr=gettext) -> str:
    params = dict(item.params or {})
    try:
        text = tr(rules.RULE_TEXT.get(item.rule, N_("needs your action"))).format(**params)
    except (KeyError, IndexError, ValueError):
        text = tr(N_("needs your action"))
    if item.rule == "task_overdue":
        text = tr(rules.RULE_TEXT[item.rule]).format(task=tr(params.get("task", "")), date=params.get("date"))
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
    return render_body(digest, items, numbers, names, settings, ack_code, escalation_hours)


def render_body(digest: str, items, numbers: dict[int, str], names: dict[int, str], settings, ack_code: str | None,
                escalation_hours: int | None = None, tr=gettext) -> str:
    """``compose_body`` with the case numbers and officers' names at hand; ``tr`` translates (a memo in bulk)."""
    lines = "; ".join(_line(i, numbers.get(i.case_id, "-"), names, tr) for i in items)
    court = settings.court_name
    if digest == rules.ACTION:
        return tr(N_("{court}: {count} matter(s) need your action: {lines}. Reply OK {code} to acknowledge.")).format(
            court=court, count=len(items), lines=lines, code=ack_code)
    if digest == rules.FOLLOW_UP:
        return tr(N_("{court} follow-up: your officers' matters: {lines}.")).format(court=court, lines=lines)
    if digest == rules.HEARING:
        day = (items[0].params or {}).get("date", "")
        return tr(N_("{court}: your hearings tomorrow ({date}): {lines}.")).format(court=court, date=day, lines=lines)
    if digest == rules.ESCALATION:
        text = tr(N_("{court}: reminders unanswered for {hours} h: {lines}. Reply OK {code} to take them over."))
        return text.format(
            court=court, hours=escalation_hours or settings.escalation_hours, lines=lines, code=ack_code)
    return tr(N_("{court}: {count} task(s) past their deadline: {lines}.")).format(court=court, count=len(items),
                                                                                  lines=lines)


def address_of(user) -> tuple[Channel, str]:
    if user.phone:
        return Channel.sms, user.phone
    if user.email:
        return Channel.email, user.email
    return Channel.sms, ""


def fold(session: Session, now: datetime, settings, digests: Iterable[str], *, bulk: bool = True) -> int:
    """Fold each recipient's staged items into one message per digest (per sweep).

    ``bulk`` writes the messages, their items' links and audit entries a few thousand at a
    time in multi-row statements (a first sweep over a large court makes tens of thousands);
    the one-row path (``bulk=False``) writes the very same rows one message at a time.
    """
    if bulk:
        return _fold_bulk(session, now, settings, list(digests))
    return _fold_one_by_one(session, now, settings, digests)


def _fold_one_by_one(session: Session, now: datetime, settings, digests: Iterable[str]) -> int:
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


def _message_key(user, digest: str, chunk, number: int, stamp: str) -> str:
    """The outbox key of a digest's ``number``-th message: a hearing's by its day, others by the sweep's stamp."""
    if digest == rules.HEARING:
        return rules.hearing_key(user.id, date.fromisoformat(chunk[0].params["date"]), number)
    return f"{digest}:{user.id}:{stamp}:{number}"


def _make_message(session, user, digest, chunk, number, stamp, now, settings) -> int:
    code = new_ack_code() if digest in rules.ACK_DIGESTS else None
    body = compose_body(session, digest, chunk, settings, code)
    key = _message_key(user, digest, chunk, number, stamp)
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



# --- the bulk path ---------------------------------------------------------------------------

MESSAGES_PER_WRITE = 2000


def _fold_bulk(session: Session, now: datetime, settings, digests: list[str]) -> int:
    from ancillary.cases.models import Case

    staged = (NotificationItem.notification_id.is_(None), NotificationItem.digest.in_(digests))
    recipients = list(session.scalars(select(NotificationItem.recipient_id).where(*staged).distinct()
                                      .order_by(NotificationItem.recipient_id)))
    columns = (NotificationItem.id, NotificationItem.digest, NotificationItem.rule, NotificationItem.case_id,
               NotificationItem.params, Case.number)

    def groups():
        for recipient_id in recipients:
            by_digest: dict[str, list] = {}
            for row in session.execute(select(*columns).outerjoin(Case, Case.id == NotificationItem.case_id)
                                       .where(*staged, NotificationItem.recipient_id == recipient_id)
                                       .order_by(NotificationItem.id)):
                by_digest.setdefault(row.digest, []).append(row)
            yield recipient_id, by_digest

    return fold_groups(session, now, settings, recipients, groups(), _link_staged)


def _link_staged(session: Session, items_by_notification: dict[int, list]) -> None:
    link_items(session, {nid: [i.id for i in items] for nid, items in items_by_notification.items()})


def fold_groups(session: Session, now: datetime, settings, recipients: list[int], groups, link) -> int:
    """Write the messages of ``groups`` ((recipient, {digest: items in order}), recipients ascending).

    ``link(session, {message id: items})`` then ties the items to their messages.
    """
    from ancillary.auth.models import User

    if not recipients:
        return 0
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(recipients)))}
    names = dict(session.execute(select(User.id, User.display_name)).all())
    writer = _Writer(session, now, settings, link)
    stamp = now.strftime("%Y%m%dT%H%M%S")
    tr = functools.lru_cache(maxsize=None)(gettext)  # the same few sentences, thousands of times
    with court_locale():
        for recipient_id, by_digest in groups:
            for digest, items in by_digest.items():
                for index in range(0, len(items), rules.ITEMS_PER_MESSAGE):
                    chunk = items[index:index + rules.ITEMS_PER_MESSAGE]
                    writer.add(_outgoing(users[recipient_id], digest, chunk, index // rules.ITEMS_PER_MESSAGE,
                                         stamp, names, settings, tr))
            if len(writer.pending) >= MESSAGES_PER_WRITE:
                writer.write()
    writer.write()
    return writer.made


def _outgoing(user, digest: str, chunk, number: int, stamp: str, names: dict[int, str], settings, tr) -> dict:
    """One message of the bulk path, as ``_make_message`` would write it."""
    code = new_ack_code() if digest in rules.ACK_DIGESTS else None
    numbers = {i.case_id: i.number for i in chunk if i.number is not None}
    body = render_body(digest, chunk, numbers, names, settings, code, tr=tr)
    key = _message_key(user, digest, chunk, number, stamp)
    channel, address = address_of(user)
    cases = {i.case_id for i in chunk}
    return {"message": {"idempotency_key": key, "channel": channel, "to_address": address, "body": body,
                        "kind": rules.DIGEST_KIND[digest], "recipient_id": user.id,
                        "subject": settings.court_name if channel == Channel.email else None,
                        "case_id": next(iter(cases)) if len(cases) == 1 else None,
                        "needs_ack": digest in rules.ACK_DIGESTS, "ack_code": code},
            "items": chunk, "rules": sorted({i.rule for i in chunk}),
            "cases": sorted({i.case_id for i in chunk if i.case_id is not None})}


class _Writer:
    """Messages waiting to be written: the outbox rows, their items' links, the audit entries."""

    def __init__(self, session: Session, now: datetime, settings, link):
        self.session, self.now, self.settings, self.link = session, now, settings, link
        self.pending: list[dict] = []
        self.made = 0

    def add(self, outgoing: dict) -> None:
        self.pending.append(outgoing)

    def write(self) -> None:
        if not self.pending:
            return
        ids = enqueue_many(self.session, [o["message"] for o in self.pending], now=self.now, settings=self.settings)
        links: dict[int, list] = {}
        steps = []
        for o in self.pending:
            message = o["message"]
            nid, not_before = ids[message["idempotency_key"]]
            links.setdefault(nid, []).extend(o["items"])
            cases = o["cases"] or ([message["case_id"]] if message["case_id"] is not None else [])
            steps.append((nid, message["kind"], message["recipient_id"], cases,
                          {"rules": o["rules"], "not_before": not_before.isoformat()}))
        self.link(self.session, links)
        audit_steps(self.session, "reminder.queue", steps, now=self.now)
        self.made += len(self.pending)
        self.pending = []
