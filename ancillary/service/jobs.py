"""The service ladder's clock: move orders on when a window closes, warn clerks before it does."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from ancillary import storage
from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.cases.models import Party
from ancillary.db import existing
from ancillary.outbox import Notification, court_locale, enqueue
from ancillary.queues.models import Task, TaskStatus
from ancillary.service.addresses import usable_addresses
from ancillary.service.ladder import enter_layer, exhaust, next_step, open_posting, serve
from ancillary.service.models import AttemptOutcome, Layer, OrderStatus, ServiceAttempt, ServiceOrder


def sweep(session: Session, now: datetime, settings) -> dict:
    """Escalate orders whose window closed by ``now``; warn the assigned clerk of the next deadlines.

    - layer 1 (electronic) closed → direct service; either layer closed with no usable
      address left → exhausted (only the judge's public notice remains);
    - layer 2 (direct) closed: it moves to mail only after its failed visits (recording the
      second one already does that), so an order whose clerk has not made them stays in
      layer 2, overdue: the clerk holding the task and the contractor's managers are warned once;
    - mail out and no final carrier event when its window closes → posting opens;
    - a public notice's 30 days are over → served on the deemed date;
    - a deadline within ``service_warn_hours`` → one SMS to the clerk holding the task.
    Idempotent: a second run at the same instant changes nothing and sends nothing new.
    """
    done = {"escalated": 0, "exhausted": 0, "overdue": 0, "posting_opened": 0, "deemed_served": 0, "warned": 0}
    # An order late by more than one window climbs several layers in one run (each new
    # window starts when the previous one closed), so repeat until nothing moves.
    for _ in range(len(Layer)):
        moved = _escalate(session, now, settings, done)
        if not moved:
            break
    session.flush()
    done["warned"] = _warn(session, now, settings)
    return {k: v for k, v in done.items() if v}


def _escalate(session: Session, now: datetime, settings, done: dict) -> int:
    """One pass over the orders whose window has closed; returns how many changed layer."""
    moved = 0
    due = session.scalars(
        select(ServiceOrder)
        .where(ServiceOrder.status.in_([OrderStatus.pending, OrderStatus.in_progress]),
               ServiceOrder.layer_due_at <= now, ServiceOrder.overdue_at.is_(None))
        .options(selectinload(ServiceOrder.attempts), selectinload(ServiceOrder.addresses),
                 selectinload(ServiceOrder.task))
        .order_by(ServiceOrder.layer_due_at, ServiceOrder.id)
    ).all()
    for order in due:
        closed_at = order.layer_due_at
        if order.layer in (Layer.electronic, Layer.direct) and not usable_addresses(order):
            exhaust(session, order, now=now)  # nowhere to go in person or by mail: public notice
            done["exhausted"] += 1
        elif order.layer == Layer.electronic and not settings.service_timed_escalation:
            continue  # the clerk moves the order on by hand (a court without the ladder's clock)
        elif order.layer == Layer.electronic:
            enter_layer(session, order, Layer.direct, closed_at, settings, now=now, reason="window closed")
            done["escalated"] += 1
            moved += 1
        elif order.layer == Layer.direct and order.failed_direct_attempts() >= settings.service_direct_attempts:
            enter_layer(session, order, Layer.mail, closed_at, settings, now=now, reason="window closed")
            done["escalated"] += 1
            moved += 1
        elif order.layer == Layer.direct:
            _overdue(session, order, closed_at, now, settings)
            done["overdue"] += 1
        elif order.layer == Layer.mail and order.posting_open_at is None:
            mail = order.mail_attempt()
            if mail is not None and mail.outcome == AttemptOutcome.sent:
                open_posting(order, closed_at, settings)
                done["posting_opened"] += 1
        elif order.layer == Layer.public_notice and order.notice_published_at is not None:
            notice = next(a for a in reversed(order.attempts) if a.channel.value == "public_notice")
            serve(session, order, notice, closed_at, now=now)
            done["deemed_served"] += 1
    session.flush()
    return moved


def _overdue(session: Session, order: ServiceOrder, closed_at: datetime, now: datetime, settings) -> None:
    """Layer 2 closed without its visits: keep the order there, overdue, and say so once.

    The serve task keeps the closed window as its deadline, so it reads overdue. The clerk
    holding it and every active contractor manager get one SMS.
    """
    order.overdue_at = closed_at
    task = order.task
    if task is not None and task.status in (TaskStatus.open, TaskStatus.claimed):
        task.due_at = closed_at
    session.flush()
    visits = order.failed_direct_attempts()
    record(session, None, "service_order.overdue", order, now=now, case_id=order.case_id,
           after={"layer": order.layer, "window_closed_at": closed_at.isoformat(), "failed_visits": visits})
    recipients = []
    if task is not None and task.status == TaskStatus.claimed and task.assignee_id is not None:
        clerk = session.get(User, task.assignee_id)
        if clerk is not None:
            recipients.append(clerk)
    recipients += session.scalars(select(User).where(User.role == Role.contractor_manager,
                                                     User.is_active.is_(True)).order_by(User.id))
    local_due = closed_at.astimezone(settings.timezone).strftime("%m-%d %H:%M")
    with court_locale():
        body = gettext("Service overdue: case %(number)s, direct service window closed %(due)s after "
                       "%(visits)s of %(needed)s visits. The order stays with direct service until the visits "
                       "are made.", number=order.case.number, due=local_due, visits=visits,
                       needed=settings.service_direct_attempts)
    for user in recipients:
        if not user.phone:
            continue
        enqueue(session, key=f"service.overdue:{order.id}:{order.layer}:{closed_at.isoformat()}:{user.id}",
                channel="sms", to_address=user.phone, body=body, kind="service.overdue", now=now,
                recipient_id=user.id, case_id=order.case_id, obj=order, settings=settings)


def _warn(session: Session, now: datetime, settings) -> int:
    """One SMS per order and deadline to the clerk holding its task, before the window closes."""
    horizon = now + timedelta(hours=settings.service_warn_hours)
    rows = session.execute(
        select(ServiceOrder, Task)
        .join(Task, Task.id == ServiceOrder.task_id)
        .where(ServiceOrder.status.in_([OrderStatus.pending, OrderStatus.in_progress]),
               ServiceOrder.layer_due_at > now, ServiceOrder.layer_due_at <= horizon,
               ServiceOrder.layer < Layer.public_notice,
               Task.status == TaskStatus.claimed, Task.assignee_id.is_not(None))
    ).all()
    keys = {order.id: f"service.deadline:{order.id}:{order.layer}:{order.layer_due_at.isoformat()}"
            for order, _ in rows}
    # a routine tick finds most already warned
    warned = existing(session, Notification.idempotency_key, list(keys.values()))
    fresh = [(order, task) for order, task in rows if keys[order.id] not in warned]
    clerks = {user.id: user for user in session.scalars(
        select(User).where(User.id.in_({task.assignee_id for _, task in fresh})))} if fresh else {}
    _load_for_warnings(session, [order.id for order, _ in fresh])
    sent = 0
    for order, task in fresh:
        clerk = clerks.get(task.assignee_id)
        if clerk is None or not clerk.phone:
            continue
        step = next_step(order) or {}
        local_due = order.layer_due_at.astimezone(settings.timezone).strftime("%m-%d %H:%M")
        with court_locale():
            body = gettext("Service deadline: case %(number)s, next step %(channel)s, due %(due)s.",
                           number=order.case.number, channel=step.get("channel", ""), due=local_due)
        enqueue(session, key=keys[order.id], channel="sms", to_address=clerk.phone, body=body,
                kind="service.deadline", now=now, recipient_id=clerk.id, case_id=order.case_id, obj=order,
                settings=settings, needs_ack=False, is_new=True)
        sent += 1
    return sent


def _load_for_warnings(session: Session, order_ids: list[int]) -> None:
    """What each warning reads of its order, for all of them at once: the case's number, the
    attempts and the recipient's law firm and contacts (its next step), instead of one read each."""
    if order_ids:
        session.scalars(select(ServiceOrder).where(ServiceOrder.id.in_(order_ids)).options(
            joinedload(ServiceOrder.case), selectinload(ServiceOrder.attempts),
            selectinload(ServiceOrder.recipient).options(selectinload(Party.contacts), joinedload(Party.law_firm)),
        )).all()


def sweep_orphan_photos(session: Session, now: datetime, settings) -> dict:
    """Remove evidence photos no attempt names; place those whose attempt was committed."""
    def referenced(keys: list[str]) -> set[str]:
        return existing(session, ServiceAttempt.photo_path, keys)

    return storage.sweep_orphans(settings, "service", referenced, now=now)
