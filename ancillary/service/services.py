"""Commands of service of process: open orders, take delivery reports and carrier events,
withdraw orders of a closed case. Recording attempts is ``attempts.py``; the ladder's
moves are ``ladder.py``. Each flushes and audits; none commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from ancillary.audit.services import record
from ancillary.auth.models import User
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Invalid, NotFound
from ancillary.outbox import NotificationStatus
from ancillary.queues.models import Queue, Task, TaskKind
from ancillary.service import carrier as carriers
from ancillary.service.addresses import attach_addresses, mark_failed, usable_addresses
from ancillary.service.ladder import (
    add_attempt,
    exhaust,
    has_consent,
    layer_due,
    local_minute,
    open_posting,
    record_layer,
    serve,
    set_layer,
    withdraw,
)
from ancillary.service.models import (
    BAD_ADDRESS_OUTCOMES,
    AttemptChannel,
    AttemptOutcome,
    CarrierEvent,
    Layer,
    OrderStatus,
    ServiceAttempt,
    ServiceOrder,
)

CARRIER_OUTCOME = {
    "signed": AttemptOutcome.served,
    "unclaimed": AttemptOutcome.unclaimed,
    "returned": AttemptOutcome.unclaimed,
    "refused": AttemptOutcome.refused,
    "wrong_address": AttemptOutcome.wrong_address,
    "moved": AttemptOutcome.moved,
}


def open_order(session: Session, case, party, *, task=None, documents: str | None = None, actor=None,
               now: datetime, settings) -> ServiceOrder:
    """Open an order for ``party``: attach known addresses (layer 0), then open layer 1."""
    order, found = new_order(session, case, party, task=task, documents=documents, now=now, settings=settings)
    session.add(order)
    session.flush()
    record_opened(session, order, found, actor=actor, now=now)
    return order


def new_order(session: Session, case, party, *, task=None, documents: str | None = None, now: datetime,
              settings, new_person: bool = False) -> tuple[ServiceOrder, int]:
    """``open_order``'s order with its addresses, layer 0's attempt and layer 1 entered, not yet added;
    and how many confirmed addresses it reused. Reads the person's history, writes nothing."""
    order = ServiceOrder(
        case_id=case.id,
        recipient_party_id=party.id,
        task_id=task.id if task is not None else None,
        documents=documents or settings.service_documents,
        status=OrderStatus.pending,
        layer=int(Layer.address_reuse),
        layer_entered_at=now,
        created_at=now,
        attempts=[],  # a new order has none: known now, not asked of the database when the first is added
        addresses=[],
    )
    order.recipient = party
    order.case = case
    if task is not None:
        order.task = task
    with session.no_autoflush:  # the history read needs nothing of what is being built
        found = attach_addresses(session, order, party, case, now, reuse=settings.service_address_reuse,
                                 new_person=new_person)
    add_attempt(order, channel=AttemptChannel.address_reuse,
                outcome=AttemptOutcome.delivered if found else AttemptOutcome.failed,
                attempted_at=now, recorded_at=now, actor_id=None,
                notes=f"{found} confirmed" if found else None)
    set_layer(order, Layer.electronic, now, settings)
    return order, found


def record_opened(session: Session, order: ServiceOrder, found: int, *, actor=None, now: datetime) -> None:
    """The audit entries of an order just opened (and flushed): layer 1 entered, the order opened."""
    record_layer(session, order, int(Layer.address_reuse), now=now)
    record(session, actor, "service_order.open", order, now=now,
           after={"party_id": order.recipient_party_id, "reused_addresses": found})


def orders_at_filing(session: Session, case, tasks, *, now: datetime, settings,
                     new_persons: frozenset[int] = frozenset()) -> list[tuple[ServiceOrder, int]]:
    """One order per defendant, each linked to its serve task (built by case filing, which adds them
    with the rest of the case, flushes once, then ``record_opened`` for each). ``new_persons``: the
    persons the filing itself wrote, whose other cases need no reading (there are none)."""
    by_party = {t.party_id: t for t in tasks if t.kind == TaskKind.serve and t.party_id is not None}
    return [new_order(session, case, party, task=by_party.get(party.id), now=now, settings=settings,
                      new_person=party.person_id in new_persons)
            for party in case.parties if party.id in by_party]


def open_on_demand(session: Session, case, party, *, documents: str, actor: User, now: datetime,
                   settings) -> ServiceOrder:
    """An order for another party or later documents, with its own serve task."""
    if party.case_id != case.id:
        raise Invalid("party_not_in_case", "the chosen party is not a party of this case",
                      field="party_id", id=party.id)
    task = Task.open_for(session, queue=Queue.service, kind=TaskKind.serve, case=case, party_id=party.id, now=now,
                         due_at=now + timedelta(days=settings.serve_task_days), actor=actor)
    return open_order(session, case, party, task=task, documents=documents, actor=actor, now=now, settings=settings)


def get_order(session: Session, order_id: int) -> ServiceOrder:
    return get_or_404(session, ServiceOrder, order_id, code="service_order_not_found",
                      message=N_("there is no such service order: reload the list and choose again"), field="order_id")


def on_case_closed(case, *, session: Session, now: datetime, settings=None) -> int:
    """The case is closed: its unserved orders are withdrawn and stop climbing the ladder.

    Connected to ``ancillary.queues.services.case_closed`` in ``ancillary.wiring`` (the
    closing has already cancelled the open serve tasks). Served and exhausted orders keep
    their status (and their meaning); on a closed case no attempt, public notice included,
    is recorded any more. Returns how many orders were withdrawn.
    """
    orders = session.scalars(select(ServiceOrder).where(
        ServiceOrder.case_id == case.id,
        ServiceOrder.status.in_([OrderStatus.pending, OrderStatus.in_progress]),
    ).order_by(ServiceOrder.id)).all()
    for order in orders:
        withdraw(session, order, now=now, reason="case closed")
    return len(orders)


# --- reports coming back: delivery status, carrier events --------------------------------


# The delivery reports that move an attempt; the sender's own steps (queued, sent) do not.
REPORTED = frozenset({NotificationStatus.delivered, NotificationStatus.undelivered, NotificationStatus.failed})
# The attempt a delivery report answers, with its order (one SELECT, not a lazy load after it);
# built once: every SMS and e-mail of service gets a report.
_ATTEMPT_OF_MESSAGE = (select(ServiceAttempt).where(ServiceAttempt.notification_id == bindparam("notification_id"))
                       .options(joinedload(ServiceAttempt.order)))


def on_notification_status(notification, *, session: Session, now: datetime) -> None:
    """A delivered SMS or e-mail updates its attempt; with consent it serves the order.

    Connected to ``ancillary.outbox.status_changed`` in ``ancillary.wiring``.
    """
    if not (notification.kind or "").startswith("service.") or notification.status not in REPORTED:
        return  # "queued" or "sent" (the sender's steps) move no attempt: not even a read for them
    with session.no_autoflush:  # the reads need nothing pending (the message's new status): one flush at the end
        _apply_report(session, notification, now)
    session.flush()


def _apply_report(session: Session, notification, now: datetime) -> None:
    attempt = session.scalar(_ATTEMPT_OF_MESSAGE, {"notification_id": notification.id})
    if attempt is None or attempt.outcome != AttemptOutcome.sent:
        return
    order = attempt.order
    if notification.status == NotificationStatus.delivered:
        attempt.outcome = AttemptOutcome.delivered
        attempt.delivered_at = notification.delivered_at or now
        record(session, None, "service_attempt.delivered", attempt, now=now, case_id=order.case_id,
               after={"order_id": order.id, "delivered_at": attempt.delivered_at.isoformat()})
        if order.is_open and has_consent(order, attempt):
            serve(session, order, attempt, attempt.delivered_at, now=now, field="delivered_at")
    elif notification.status in (NotificationStatus.undelivered, NotificationStatus.failed):
        attempt.outcome = AttemptOutcome.failed
        record(session, None, "service_attempt.failed", attempt, now=now, case_id=order.case_id,
               after={"order_id": order.id, "status": notification.status.value})


def apply_carrier_event(session: Session, event: carriers.CarrierEventIn, *, source: str, now: datetime,
                        settings) -> str:
    """Record one carrier node; a final one moves the order. Returns applied / duplicate."""
    number = carriers.normalize_tracking(event.tracking_number)
    code = (event.code or "").strip().lower()
    if code not in carriers.EVENT_CODES:
        raise Invalid("unknown_event_code", "unknown carrier event code {event_code}", field="code", event_code=code)
    if event.event_at.tzinfo is None:
        raise Invalid("event_time_naive", "event_at needs an offset", field="event_at")
    if event.event_at > now + timedelta(hours=1):
        raise Invalid("event_in_future", "the carrier event cannot be dated in the future", field="event_at")
    if event.event_at < carriers.EARLIEST:
        raise Invalid("event_time_out_of_range", "the carrier event is dated before the year 2000", field="event_at")
    attempt = session.scalar(select(ServiceAttempt).where(ServiceAttempt.tracking_number == number))
    if attempt is None:
        raise NotFound("unknown_tracking_number", "no envelope with tracking number {number}",
                       field="tracking_number", number=number)
    if event.event_at < attempt.attempted_at:  # nothing happens to an envelope before it is mailed
        raise Invalid("event_before_mailing",
                      N_("the carrier event cannot be dated before the envelope was mailed ({at})"),
                      field="event_at", at=local_minute(attempt.attempted_at, settings.timezone))
    duplicate = session.scalar(select(CarrierEvent.id).where(
        CarrierEvent.tracking_number == number, CarrierEvent.code == code, CarrierEvent.event_at == event.event_at))
    if duplicate is not None:
        return "duplicate"
    session.add(CarrierEvent(attempt_id=attempt.id, carrier=attempt.carrier or event.carrier, tracking_number=number,
                             code=code, event_at=event.event_at, location=event.location,
                             description=event.description, signed_by=event.signed_by, source=source,
                             received_at=now))
    order = attempt.order
    if code in carriers.FINAL_CODES and attempt.outcome == AttemptOutcome.sent:
        attempt.outcome = CARRIER_OUTCOME[code]
        attempt.delivered_at = event.event_at
        if code == "signed":
            attempt.received_by = event.signed_by
        record(session, None, "service_attempt.carrier", attempt, now=now, case_id=order.case_id,
               after={"order_id": order.id, "code": code, "event_at": event.event_at.isoformat()})
        if order.is_open and order.layer == Layer.mail:
            if code == "signed":
                serve(session, order, attempt, event.event_at, now=now, field="event_at")  # the signing date
            elif attempt.outcome in BAD_ADDRESS_OUTCOMES:
                mark_failed(order, attempt.address, attempt.outcome, event.event_at)
                if usable_addresses(order):
                    order.layer_due_at = layer_due(Layer.mail, now, settings)
                else:
                    exhaust(session, order, now=now)
            else:
                open_posting(order, event.event_at, settings)
    session.flush()
    return "applied"
