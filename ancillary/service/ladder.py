"""The service ladder's moves: when a layer's window closes, what to try next, entering a
layer, opening the posting, serving, exhausting. Each flushes and audits; none commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from ancillary.audit.services import record
from ancillary.errors import Invalid
from ancillary.queues.models import OPEN_STATES
from ancillary.service.addresses import mark_failed, usable_addresses
from ancillary.service.models import (
    BAD_ADDRESS_OUTCOMES,
    CHANNEL_LAYER,
    FAILED_OUTCOMES,
    AttemptChannel,
    AttemptOutcome,
    Layer,
    OrderStatus,
    ServiceAttempt,
    ServiceOrder,
)
from ancillary.timeutil import period_end_days


def layer_due(layer: int, entered_at: datetime, settings) -> datetime | None:
    """When the window of ``layer`` entered at ``entered_at`` closes (first day not counted)."""
    days = {
        Layer.electronic: settings.service_electronic_days,
        Layer.direct: settings.service_direct_days,
        Layer.mail: settings.service_mail_days,
    }.get(Layer(layer))
    return period_end_days(entered_at, days, settings.timezone) if days else None


def next_step(order: ServiceOrder) -> dict | None:
    """The channel to try next and when the current window closes; None once served or withdrawn."""
    if order.status in (OrderStatus.served, OrderStatus.withdrawn):
        return None
    if order.status == OrderStatus.exhausted:
        return {"channel": AttemptChannel.public_notice.value, "due_at": None}
    layer = Layer(order.layer)
    if layer == Layer.public_notice:
        return {"channel": AttemptChannel.public_notice.value, "due_at": order.layer_due_at}
    if layer == Layer.mail:
        channel = AttemptChannel.posting if order.posting_open_at else AttemptChannel.mail
        return {"channel": channel.value, "due_at": order.layer_due_at}
    if layer == Layer.direct:
        return {"channel": AttemptChannel.personal.value, "due_at": order.layer_due_at}
    tried = {a.channel for a in order.attempts}
    party = order.recipient
    firm = party.law_firm if party is not None else None
    if firm is not None and firm.e_service_agreement and AttemptChannel.law_firm_email not in tried:
        channel = AttemptChannel.law_firm_email
    elif party is not None and party.values("phone") and AttemptChannel.sms not in tried:
        channel = AttemptChannel.sms
    elif party is not None and party.values("email") and AttemptChannel.email not in tried:
        channel = AttemptChannel.email
    else:
        channel = AttemptChannel.phone
    return {"channel": channel.value, "due_at": order.layer_due_at}


def enter_layer(session, order: ServiceOrder, layer: Layer, at: datetime, settings, *, actor=None, now, reason=None):
    before = {"layer": order.layer}
    set_layer(order, layer, at, settings)
    record_layer(session, order, before["layer"], actor=actor, now=now, reason=reason)


def record_layer(session, order: ServiceOrder, before: int, *, actor=None, now, reason=None) -> None:
    """The audit entry of ``order`` moving from layer ``before`` to its layer now."""
    record(session, actor, "service_order.layer", order, now=now, before={"layer": before},
           after={"layer": order.layer, "reason": reason} if reason else {"layer": order.layer})


def set_layer(order: ServiceOrder, layer: Layer, at: datetime, settings) -> None:
    """Put ``order`` in ``layer`` entered at ``at``: its window, and its serve task's deadline."""
    order.layer = int(layer)
    order.layer_entered_at = at
    order.layer_due_at = layer_due(layer, at, settings)
    order.posting_open_at = None
    order.overdue_at = None
    if order.task is not None and order.layer_due_at is not None and order.task.status in OPEN_STATES:
        order.task.due_at = order.layer_due_at  # the serve task follows the ladder's deadline


def open_posting(order: ServiceOrder, at: datetime, settings) -> None:
    """The mail came back unclaimed (or its window closed): posting opens at ``at``, for
    ``ANCILLARY_SERVICE_POSTING_DAYS`` days (first day not counted)."""
    order.posting_open_at = at
    order.layer_due_at = period_end_days(at, settings.service_posting_days, settings.timezone)


def add_attempt(order: ServiceOrder, **values) -> ServiceAttempt:
    attempt = ServiceAttempt(seq=len(order.attempts) + 1, layer=int(CHANNEL_LAYER[values["channel"]]),
                             flags=values.pop("flags", []), **values)
    order.attempts.append(attempt)
    return attempt


def advance(session, order: ServiceOrder, attempt: ServiceAttempt, *, actor, now, settings) -> None:
    """What an attempt means for the order: served, the next layer, or a marked address.

    Leaves its last changes to the caller's next flush (the request's commit at the latest).
    """
    channel, outcome = attempt.channel, attempt.outcome
    if channel == AttemptChannel.personal:
        if outcome == AttemptOutcome.served or outcome == AttemptOutcome.refused:
            serve(session, order, attempt, attempt.attempted_at, actor=actor, now=now)
            return
        if outcome in BAD_ADDRESS_OUTCOMES:
            mark_failed(order, attempt.address, outcome, attempt.attempted_at)
            if not usable_addresses(order):
                exhaust(session, order, now=now)  # no address left: only public notice remains
                return
        if outcome in FAILED_OUTCOMES and order.failed_direct_attempts() >= settings.service_direct_attempts:
            enter_layer(session, order, Layer.mail, now, settings, actor=actor, now=now,
                         reason="direct service failed")
    elif channel == AttemptChannel.mail:
        order.layer_due_at = layer_due(Layer.mail, attempt.attempted_at, settings)
    elif channel == AttemptChannel.posting:
        serve(session, order, attempt, attempt.attempted_at, actor=actor, now=now)
    elif channel == AttemptChannel.public_notice:
        publish_notice(session, order, attempt, actor=actor, now=now, settings=settings)
    # no flush of its own: it wrote one audit entry (an INSERT and a flush's bookkeeping a time)


def start(session, order: ServiceOrder, *, actor, now) -> None:
    """The first attempt puts a pending order in progress."""
    if order.status != OrderStatus.pending:
        return
    order.status = OrderStatus.in_progress
    record(session, actor, "service_order.started", order, now=now, before={"status": "pending"},
           after={"status": "in_progress"})


def publish_notice(session, order: ServiceOrder, attempt: ServiceAttempt, *, actor, now, settings) -> None:
    """The public notice is out: the last layer, served when its period has run."""
    before = {"status": order.status.value, "layer": order.layer}
    order.notice_published_at = attempt.attempted_at
    order.layer = int(Layer.public_notice)
    order.layer_entered_at = attempt.attempted_at
    order.layer_due_at = attempt.attempted_at + timedelta(days=settings.service_public_notice_days)
    order.status = OrderStatus.in_progress
    order.exhausted_at = None
    record(session, actor, "service_order.layer", order, now=now, before=before,
           after={"status": "in_progress", "layer": int(Layer.public_notice), "reason": "public notice published"})
    if order.layer_due_at <= now:
        serve(session, order, attempt, order.layer_due_at, actor=actor, now=now)


def withdraw(session, order: ServiceOrder, *, now, reason: str) -> None:
    """The order stops climbing the ladder (its case is closed); its serve task is cancelled."""
    before = {"status": order.status.value, "layer": order.layer}
    order.status = OrderStatus.withdrawn
    order.withdrawn_at = now
    order.layer_due_at = None
    order.overdue_at = None
    if order.task is not None:
        order.task.cancel(session, now=now, reason=reason)
    session.flush()
    record(session, None, "service_order.withdrawn", order, now=now, case_id=order.case_id, before=before,
           after={"status": "withdrawn", "reason": reason})


def local_minute(at: datetime, tz) -> str:
    """An instant as a person reads it in court time: 2027-01-04 09:30."""
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def serve(session, order: ServiceOrder, attempt: ServiceAttempt, at: datetime, *, actor=None, now,
          field: str = "attempted_at") -> None:
    """Mark the order served on its legal service date ``at``; the serve task is done.

    The legal service date never precedes the order: ``field`` names the input that gave it.
    """
    if at < order.created_at:
        raise Invalid("service_before_order", "the date of service cannot precede the service order",
                      field=field)
    order.status = OrderStatus.served
    order.served_at = at
    order.served_channel = attempt.channel
    order.served_layer = attempt.layer
    order.layer_due_at = None
    if order.task is not None:
        order.task.finish(session, actor=actor, now=now, reason="served", adopt=False, flush=False)
    record(session, actor, "service_order.served", order, now=now,
           after={"served_at": at.isoformat(), "channel": attempt.channel.value, "attempt": attempt.seq})


def exhaust(session, order: ServiceOrder, *, now) -> None:
    order.status = OrderStatus.exhausted
    order.exhausted_at = now
    order.layer_due_at = None
    record(session, None, "service_order.exhausted", order, now=now, after={"layer": order.layer})


def has_consent(order: ServiceOrder, attempt: ServiceAttempt) -> bool:
    """Electronic service needs consent: the firm's agreement, or the party's signed consent."""
    if attempt.channel == AttemptChannel.law_firm_email:
        firm = order.recipient.law_firm
        return bool(firm is not None and firm.e_service_agreement)
    return order.consent_at is not None and order.consent_at <= (attempt.delivered_at or attempt.attempted_at)
