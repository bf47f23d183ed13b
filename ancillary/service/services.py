"""Commands of service of process: open orders, reuse addresses, record attempts, climb the
ladder, take delivery reports and carrier events. Each flushes and audits; none commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.errors import Conflict, Forbidden, Invalid, NotFound
from ancillary.service import carrier as carriers
from ancillary.service import evidence
from ancillary.service.text import court_locale
from ancillary.service.models import (
    BAD_ADDRESS_OUTCOMES,
    CHANNEL_LAYER,
    ELECTRONIC,
    FAILED_OUTCOMES,
    AttemptChannel,
    AttemptOutcome,
    CarrierEvent,
    Layer,
    OrderStatus,
    ServiceAddress,
    ServiceAttempt,
    ServiceOrder,
)
from ancillary.timeutil import period_end_days

QUIET_START, QUIET_END = time(21, 0), time(8, 0)

# What a clerk may report for each channel they record by hand. For SMS and e-mail, ``sent``
# sends a message through the outbox; ``delivered`` and ``failed`` (a bounce, an SMS the
# operator reported undeliverable) report on the message of that channel still waiting for
# its delivery status, as the provider's status report would.
MESSAGE_REPORTS = frozenset({AttemptOutcome.delivered, AttemptOutcome.failed})
CLERK_OUTCOMES: dict[AttemptChannel, frozenset[AttemptOutcome]] = {
    AttemptChannel.phone: frozenset({AttemptOutcome.delivered, AttemptOutcome.no_answer, AttemptOutcome.refused,
                                     AttemptOutcome.failed, AttemptOutcome.wrong_address}),
    AttemptChannel.personal: frozenset({AttemptOutcome.served, AttemptOutcome.refused, AttemptOutcome.no_answer,
                                        AttemptOutcome.moved, AttemptOutcome.wrong_address, AttemptOutcome.failed}),
    AttemptChannel.sms: frozenset({AttemptOutcome.sent, *MESSAGE_REPORTS}),
    AttemptChannel.email: frozenset({AttemptOutcome.sent, *MESSAGE_REPORTS}),
    AttemptChannel.law_firm_email: frozenset({AttemptOutcome.sent, *MESSAGE_REPORTS}),
    AttemptChannel.mail: frozenset({AttemptOutcome.sent}),
    AttemptChannel.posting: frozenset({AttemptOutcome.posted}),
    AttemptChannel.public_notice: frozenset({AttemptOutcome.posted}),
}
DEFAULT_OUTCOME = {
    AttemptChannel.sms: AttemptOutcome.sent,
    AttemptChannel.email: AttemptOutcome.sent,
    AttemptChannel.law_firm_email: AttemptOutcome.sent,
    AttemptChannel.mail: AttemptOutcome.sent,
    AttemptChannel.posting: AttemptOutcome.posted,
    AttemptChannel.public_notice: AttemptOutcome.posted,
}
PHOTO_CHANNELS = frozenset({AttemptChannel.personal, AttemptChannel.mail, AttemptChannel.posting,
                            AttemptChannel.public_notice})
CARRIER_OUTCOME = {
    "signed": AttemptOutcome.served,
    "unclaimed": AttemptOutcome.unclaimed,
    "returned": AttemptOutcome.unclaimed,
    "refused": AttemptOutcome.refused,
    "wrong_address": AttemptOutcome.wrong_address,
    "moved": AttemptOutcome.moved,
}


@dataclass
class AttemptIn:
    channel: str
    outcome: str | None = None
    attempted_at: datetime | None = None
    address: str | None = None
    contact: str | None = None
    notes: str | None = None
    tracking_number: str | None = None
    carrier: str | None = None
    received_by: str | None = None
    witness: str | None = None
    duration_seconds: int | None = None
    consent: bool = False
    skip_reason: str | None = None


# --- the ladder's clock ---------------------------------------------------------------


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


def _enter_layer(session, order: ServiceOrder, layer: Layer, at: datetime, settings, *, actor=None, now, reason=None):
    before = {"layer": order.layer}
    order.layer = int(layer)
    order.layer_entered_at = at
    order.layer_due_at = layer_due(layer, at, settings)
    order.posting_open_at = None
    order.overdue_at = None
    if order.task is not None and order.layer_due_at is not None and order.task.status.value in ("open", "claimed"):
        order.task.due_at = order.layer_due_at  # the serve task follows the ladder's deadline
    record(session, actor, "service_order.layer", order, now=now, before=before,
           after={"layer": int(layer), "reason": reason} if reason else {"layer": int(layer)})


def _quiet_hours_end(at: datetime, tz) -> datetime:
    """``at``, or the next 08:00 local when ``at`` falls in the quiet hours (21:00-08:00)."""
    local = at.astimezone(tz)
    if QUIET_END <= local.time() < QUIET_START:
        return at
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_END, tz)


# --- opening orders and layer 0 ---------------------------------------------------------


def open_order(session: Session, case, party, *, task=None, documents: str | None = None, actor=None,
               now: datetime, settings) -> ServiceOrder:
    """Open an order for ``party``: attach known addresses (layer 0), then open layer 1."""
    order = ServiceOrder(
        case_id=case.id,
        recipient_party_id=party.id,
        task_id=task.id if task is not None else None,
        documents=documents or settings.service_documents,
        status=OrderStatus.pending,
        layer=int(Layer.address_reuse),
        layer_entered_at=now,
        created_at=now,
    )
    order.recipient = party
    order.case = case
    if task is not None:
        order.task = task
    session.add(order)
    session.flush()
    found = _attach_addresses(session, order, party, case, now, reuse=settings.service_address_reuse)
    _add_attempt(order, channel=AttemptChannel.address_reuse,
                 outcome=AttemptOutcome.delivered if found else AttemptOutcome.failed,
                 attempted_at=now, recorded_at=now, actor_id=None,
                 notes=f"{found} confirmed" if found else None)
    _enter_layer(session, order, Layer.electronic, now, settings, now=now)
    session.flush()
    record(session, actor, "service_order.open", order, now=now,
           after={"party_id": party.id, "reused_addresses": found})
    return order


def open_orders_at_filing(session: Session, case, tasks, *, now: datetime, settings) -> list[ServiceOrder]:
    """One order per defendant, each linked to its serve task (called by case filing)."""
    from ancillary.queues.models import TaskKind

    by_party = {t.party_id: t for t in tasks if t.kind == TaskKind.serve and t.party_id is not None}
    return [open_order(session, case, party, task=by_party.get(party.id), now=now, settings=settings)
            for party in case.parties if party.id in by_party]


def open_on_demand(session: Session, case, party, *, documents: str, actor: User, now: datetime,
                   settings) -> ServiceOrder:
    """An order for another party or later documents, with its own serve task."""
    from ancillary.queues.models import Queue, Task, TaskKind, TaskStatus
    from ancillary.queues.services import KIND_PRIORITY

    if party.case_id != case.id:
        raise Invalid("party_not_in_case", "party {id} is not a party of this case", field="party_id", id=party.id)
    task = Task(queue=Queue.service, kind=TaskKind.serve, case_id=case.id, party_id=party.id,
                priority=KIND_PRIORITY[case.kind.value], status=TaskStatus.open, created_at=now,
                due_at=now + timedelta(days=settings.serve_task_days))
    session.add(task)
    session.flush()
    record(session, actor, "task.create", task, now=now, after={"kind": "serve", "queue": "service"})
    return open_order(session, case, party, task=task, documents=documents, actor=actor, now=now, settings=settings)


def _attach_addresses(session: Session, order: ServiceOrder, party, case, now: datetime, *, reuse: bool = True) -> int:
    """Addresses confirmed in the person's other cases first (newest first), then the filing's.

    Confirmed: an address where personal service, signed mail or a posting served this
    person in another case. An address where they had moved or were unknown is marked
    failed (unless confirmed again later), so it is not tried again blindly.
    """
    from ancillary.cases.models import Case, ContactKind, Party, PartyContact

    confirmed: list[tuple[str, datetime, int, str]] = []
    failed: dict[str, tuple[datetime, str]] = {}
    positions: dict[str, tuple[float, float]] = {}
    if party.person_id is not None and reuse:
        rows = session.execute(
            select(ServiceAttempt.address, ServiceAttempt.outcome, ServiceAttempt.attempted_at,
                   ServiceOrder.served_at, Case.id, Case.number)
            .join(ServiceOrder, ServiceOrder.id == ServiceAttempt.order_id)
            .join(Party, Party.id == ServiceOrder.recipient_party_id)
            .join(Case, Case.id == ServiceOrder.case_id)
            .where(Party.person_id == party.person_id, ServiceOrder.case_id != case.id,
                   ServiceAttempt.address.is_not(None),
                   ServiceAttempt.channel.in_([AttemptChannel.personal, AttemptChannel.mail, AttemptChannel.posting]),
                   ServiceAttempt.outcome.in_([AttemptOutcome.served, AttemptOutcome.posted,
                                               *BAD_ADDRESS_OUTCOMES]))
            .order_by(ServiceAttempt.attempted_at.desc())
        ).all()
        decided: set[str] = set()
        for address, outcome, attempted_at, served_at, case_id, number in rows:
            if address in decided:
                continue  # the newest report on an address decides
            decided.add(address)
            if outcome in BAD_ADDRESS_OUTCOMES:
                failed[address] = (attempted_at, outcome.value)
            else:
                confirmed.append((address, served_at or attempted_at, case_id, number))
        for text, lat, lon in session.execute(
            select(PartyContact.value, PartyContact.latitude, PartyContact.longitude)
            .join(Party, Party.id == PartyContact.party_id)
            .where(Party.person_id == party.person_id, PartyContact.kind == ContactKind.address,
                   PartyContact.latitude.is_not(None))
        ):
            positions.setdefault(text, (lat, lon))
    for contact in party.contacts:
        if contact.kind == ContactKind.address and contact.latitude is not None:
            positions[contact.value] = (contact.latitude, contact.longitude)
    rank = 0
    for text, confirmed_at, case_id, number in confirmed:
        rank += 1
        lat, lon = positions.get(text, (None, None))
        order.addresses.append(ServiceAddress(rank=rank, text=text, latitude=lat, longitude=lon, source="confirmed",
                                              source_case_id=case_id, source_case_number=number,
                                              confirmed_at=confirmed_at))
    known = {a for a, *_ in confirmed}
    for contact in party.contacts:
        if contact.kind != ContactKind.address or contact.value in known:
            continue
        known.add(contact.value)
        rank += 1
        marked = failed.get(contact.value)
        order.addresses.append(ServiceAddress(rank=rank, text=contact.value, latitude=contact.latitude,
                                              longitude=contact.longitude, source="filing",
                                              failed_at=marked[0] if marked else None,
                                              failed_reason=marked[1] if marked else None))
    return len(confirmed)


def usable_addresses(order: ServiceOrder) -> list[ServiceAddress]:
    return [a for a in order.addresses if a.failed_at is None]


def _address_for(order: ServiceOrder, text: str | None, now: datetime) -> ServiceAddress | None:
    """The order's address ``text`` (added as a clerk's find when new), or the first usable one."""
    if text:
        text = text.strip()
        for address in order.addresses:
            if address.text == text:
                return address
        address = ServiceAddress(rank=len(order.addresses) + 1, text=text, source="clerk")
        order.addresses.append(address)
        return address
    usable = usable_addresses(order)
    return usable[0] if usable else None


def _mark_failed(order: ServiceOrder, text: str | None, reason: AttemptOutcome, at: datetime) -> None:
    for address in order.addresses:
        if address.text == text and address.failed_at is None:
            address.failed_at, address.failed_reason = at, reason.value


# --- attempts ---------------------------------------------------------------------------


def _add_attempt(order: ServiceOrder, **values) -> ServiceAttempt:
    attempt = ServiceAttempt(seq=len(order.attempts) + 1, layer=int(CHANNEL_LAYER[values["channel"]]),
                             flags=values.pop("flags", []), **values)
    order.attempts.append(attempt)
    return attempt


def attempts_in_time(order: ServiceOrder) -> list[ServiceAttempt]:
    """The order's attempts in the order they happened (a visit recorded late sorts by its time)."""
    return sorted(order.attempts, key=lambda a: (a.attempted_at, a.seq))


def get_order(session: Session, order_id: int) -> ServiceOrder:
    order = session.get(ServiceOrder, order_id)
    if order is None:
        raise NotFound("service_order_not_found", "no service order with id {id}", field="order_id", id=order_id)
    return order


def record_attempt(session: Session, order: ServiceOrder, data: AttemptIn, *, photo: bytes | None = None,
                   actor: User, now: datetime, settings) -> ServiceAttempt:
    """Record one attempt on the ladder, send what it sends, and move the order on."""
    channel = AttemptChannel(data.channel)
    attempted_at = data.attempted_at or now
    if channel == AttemptChannel.address_reuse:
        raise Invalid("channel_automatic", "address reuse is done by the system when the order opens",
                      field="channel")
    if order.status == OrderStatus.served:
        raise Conflict("order_served", "the order was served on {date}; no further attempt is recorded",
                       field="order_id", date=order.served_at.astimezone(settings.timezone).date().isoformat())
    if order.status == OrderStatus.withdrawn:
        raise Conflict("order_withdrawn", "the case was closed on {date}; service was withdrawn", field="order_id",
                       date=order.withdrawn_at.astimezone(settings.timezone).date().isoformat())
    if order.case.status.value != "open":
        raise Conflict("case_not_open", "case {number} is {status}: no further attempt is recorded",
                       field="order_id", number=order.case.number, status=order.case.status.value)
    if order.status == OrderStatus.exhausted and channel != AttemptChannel.public_notice:
        raise Conflict("order_exhausted", "every layer has failed: only the judge's public notice is left",
                       field="order_id")
    if channel == AttemptChannel.public_notice:
        if actor.role not in (Role.judge, Role.enforcement_officer, Role.court_admin):
            raise Forbidden("public_notice_by_judge", "service by public notice is ordered by the judge")
        if order.status != OrderStatus.exhausted:
            raise Conflict("public_notice_too_early",
                           "public notice is ordered only when every layer has failed and no address is left",
                           field="channel")
        if order.notice_published_at is not None:
            raise Conflict("notice_published", "the public notice is already published", field="channel")
    elif actor.role != Role.service_clerk:
        raise Forbidden("attempt_by_clerk", "attempts are recorded by the service clerk holding the task")
    if attempted_at > now + timedelta(minutes=5):
        raise Invalid("attempt_in_future", "attempted_at lies in the future", field="attempted_at")
    if attempted_at < order.case.filed_at - timedelta(days=1):
        raise Invalid("attempt_before_filing", "attempted_at is before the case was filed", field="attempted_at")
    outcome = AttemptOutcome(data.outcome) if data.outcome else DEFAULT_OUTCOME.get(channel)
    if outcome is None:
        raise Invalid("outcome_required", "give the outcome of this {channel} attempt", field="outcome",
                      channel=channel.value)
    if outcome not in CLERK_OUTCOMES[channel]:
        raise Invalid("outcome_not_for_channel", "outcome {outcome} cannot be reported for {channel}; "
                      "allowed: {allowed}", field="outcome", outcome=outcome.value, channel=channel.value,
                      allowed=", ".join(sorted(o.value for o in CLERK_OUTCOMES[channel])))
    if photo is not None and channel not in PHOTO_CHANNELS:
        raise Invalid("photo_not_for_channel", "a photo is not evidence of a {channel} attempt", field="photo",
                      channel=channel.value)

    if channel in ELECTRONIC and outcome in MESSAGE_REPORTS:
        return _report_message(session, order, channel, outcome, attempted_at, data.notes, actor=actor, now=now)

    # Which layer: the current one; a later one only with a recorded reason; never back.
    # A skip_reason given where nothing is skipped is accepted and ignored.
    target = CHANNEL_LAYER[channel]
    skip_reason = (data.skip_reason or "").strip() or None
    if channel != AttemptChannel.public_notice:
        if target < order.layer:
            raise Invalid("channel_not_open", "{channel} belongs to layer {layer}, which is closed for this order",
                          field="channel", channel=channel.value, layer=int(target))
        if target > order.layer and skip_reason is None:
            raise Invalid("channel_not_open",
                          "{channel} opens in layer {layer}; give skip_reason to move on early",
                          field="channel", channel=channel.value, layer=int(target))
    values = dict(channel=channel, outcome=outcome, attempted_at=attempted_at, recorded_at=now, actor_id=actor.id,
                  notes=(data.notes or "").strip() or None, duration_seconds=data.duration_seconds,
                  received_by=data.received_by, witness=data.witness,
                  skip_reason=skip_reason if target > order.layer and channel != AttemptChannel.public_notice
                  else None)
    party = order.recipient

    if channel in (AttemptChannel.personal, AttemptChannel.mail, AttemptChannel.posting):
        address = _address_for(order, data.address, now)
        if address is None:
            raise Invalid("no_address", "no usable address is left: give one", field="address")
        if channel == AttemptChannel.personal and address.failed_at is not None and not data.address:
            raise Invalid("address_failed", "that address failed before; give it again to try it", field="address")
        values["address"] = address.text
    if channel == AttemptChannel.personal:
        if outcome == AttemptOutcome.served and not (data.received_by or "").strip():
            raise Invalid("receipt_signer_required", "name the person who signed the receipt", field="received_by")
        if outcome == AttemptOutcome.refused and not (data.witness or "").strip() and photo is None:
            raise Invalid("refusal_needs_evidence", "a refusal is lodged with a witness or a photo", field="witness")
    if channel == AttemptChannel.mail:
        carrier = (data.carrier or carriers.DEFAULT_CARRIER).lower()
        number = carriers.normalize_tracking(data.tracking_number or "")
        if not number:
            raise Invalid("tracking_number_required", "mail needs the tracking number", field="tracking_number")
        problem = carriers.tracking_problem(carrier, number)
        if problem == "unknown carrier":
            raise Invalid("unknown_carrier", "unknown carrier {carrier}", field="carrier", carrier=carrier)
        if problem:
            raise Invalid("tracking_number_shape", "{number} is not a {carrier} tracking number ({problem})",
                          field="tracking_number", number=number, carrier=carrier, problem=problem)
        if session.scalar(select(ServiceAttempt.id).where(ServiceAttempt.tracking_number == number)):
            raise Conflict("tracking_number_used", "tracking number {number} is already recorded",
                           field="tracking_number", number=number)
        pending = order.mail_attempt()
        if pending is not None and pending.outcome == AttemptOutcome.sent and target == order.layer:
            raise Conflict("mail_in_transit", "envelope {number} is still in transit", field="channel",
                           number=pending.tracking_number)
        values.update(tracking_number=number, carrier=carrier)
    if channel == AttemptChannel.posting:
        if photo is None:
            raise Invalid("photo_required", "a posting needs a photo of the posted notice", field="photo")
        if order.posting_open_at is None:
            raise Invalid("posting_not_open", "posting opens when the mail comes back unclaimed", field="channel")
    if data.consent and not ((data.notes or "").strip() or photo is not None):
        raise Invalid("consent_needs_record", "record the signed consent in notes or with a photo", field="consent")

    if photo is not None:
        checked = evidence.inspect_photo(photo, max_bytes=settings.photo_max_bytes,
                                         max_pixels=settings.photo_max_pixels, tz=settings.timezone)
        position = None
        for address in order.addresses:
            if address.text == values.get("address") and address.latitude is not None:
                position = (address.latitude, address.longitude)
        flags, distance = evidence.place_and_age_flags(
            checked, address_position=position, attempted_at=attempted_at,
            max_distance_m=settings.posting_max_distance_m,
            max_age=timedelta(hours=settings.posting_max_age_hours))
        values.update(photo_path=evidence.store(checked, settings.storage_dir), photo_sha256=checked.sha256,
                      photo_mime=checked.mime, photo_bytes=len(photo), photo_taken_at=checked.taken_at,
                      latitude=checked.latitude, longitude=checked.longitude, distance_m=distance, flags=flags)

    # Electronic channels: the message goes through the outbox; delivery comes back later.
    notification = None
    if channel in ELECTRONIC:
        notification, contact = _send(session, order, channel, data.contact, actor=actor, now=now,
                                      settings=settings)
        values["contact"] = contact
    elif channel == AttemptChannel.phone:
        phones = party.values("phone")
        contact = (data.contact or (phones[0] if phones else "")).strip()
        if not contact:
            raise Invalid("no_phone", "the recipient has no phone number: give one", field="contact")
        values["contact"] = contact

    if target > order.layer and channel != AttemptChannel.public_notice:
        _enter_layer(session, order, target, now, settings, actor=actor, now=now, reason=skip_reason)
    if order.status == OrderStatus.pending:
        order.status = OrderStatus.in_progress
    attempt = _add_attempt(order, **values)
    if notification is not None:
        session.flush()
        attempt.notification_id = notification.id
    if data.consent:
        order.consent_at = attempted_at
    session.flush()
    record(session, actor, "service_attempt.record", attempt, now=now, case_id=order.case_id,
           after={"order_id": order.id, "channel": channel.value, "outcome": outcome.value,
                  "photo_sha256": attempt.photo_sha256})
    _advance(session, order, attempt, actor=actor, now=now, settings=settings)
    return attempt


def _report_message(session, order: ServiceOrder, channel: AttemptChannel, outcome: AttemptOutcome,
                    at: datetime, notes: str | None, *, actor, now) -> ServiceAttempt:
    """The clerk reports delivery or a bounce of the ``channel`` message still marked sent."""
    waiting = [a for a in order.attempts if a.channel == channel and a.outcome == AttemptOutcome.sent]
    if not waiting:
        raise Invalid("no_message_waiting", "no {channel} message is waiting for a delivery report; "
                      "record outcome sent to send one", field="outcome", channel=channel.value)
    attempt = waiting[-1]
    if at < attempt.attempted_at:
        raise Invalid("report_before_sending", "attempted_at is before the message was sent", field="attempted_at")
    attempt.outcome = outcome
    if outcome == AttemptOutcome.delivered:
        attempt.delivered_at = at
    note = (notes or "").strip()
    if note:
        attempt.notes = f"{attempt.notes}\n{note}"[:1000] if attempt.notes else note
    session.flush()
    record(session, actor, f"service_attempt.{outcome.value}", attempt, now=now, case_id=order.case_id,
           after={"order_id": order.id, "reported_by": "clerk", "at": at.isoformat()})
    if outcome == AttemptOutcome.delivered and order.is_open and _has_consent(order, attempt):
        serve(session, order, attempt, at, actor=actor, now=now)
    session.flush()
    return attempt


def _send(session, order: ServiceOrder, channel: AttemptChannel, contact: str | None, *, actor, now, settings):
    """Write the SMS or e-mail into the outbox; return it and the address it goes to."""
    from ancillary.reminders.services import enqueue

    party = order.recipient
    case = order.case
    if channel == AttemptChannel.law_firm_email:
        firm = party.law_firm
        if firm is None or not firm.e_service_agreement:
            raise Invalid("no_agreed_law_firm", "the recipient's law firm has not signed the e-service agreement",
                          field="channel")
        to_address, kind = firm.email, "email"
    elif channel == AttemptChannel.sms:
        phones = party.values("phone")
        to_address, kind = (contact or (phones[0] if phones else "")).strip(), "sms"
        if not to_address:
            raise Invalid("no_phone", "the recipient has no phone number: give one", field="contact")
    else:
        emails = party.values("email")
        to_address, kind = (contact or (emails[0] if emails else "")).strip().lower(), "email"
        if not to_address or "@" not in to_address:
            raise Invalid("no_email", "the recipient has no e-mail address: give one", field="contact")
    params = {"court": settings.court_name, "number": case.number, "name": party.name,
              "documents": order.documents}
    with court_locale():
        if kind == "sms":
            body = gettext("%(court)s: %(name)s, you are a party to case %(number)s. Documents to serve: "
                           "%(documents)s. Please contact the court's service centre.", **params)
            subject = None
        else:
            subject = gettext("Service of court documents, case %(number)s", **params)
            body = gettext("%(court)s serves on %(name)s, in case %(number)s, the following documents: "
                           "%(documents)s. Service takes effect when this message reaches you.", **params)
    notification = enqueue(
        session, key=f"service.{channel.value}:{order.id}:{len(order.attempts) + 1}", channel=kind,
        to_address=to_address, body=body, subject=subject, kind=f"service.{channel.value}", now=now,
        case_id=case.id, obj=order,
        not_before=_quiet_hours_end(now, settings.timezone) if kind == "sms" else now,
    )
    return notification, to_address


def _advance(session, order: ServiceOrder, attempt: ServiceAttempt, *, actor, now, settings) -> None:
    """What an attempt means for the order: served, the next layer, or a marked address."""
    channel, outcome = attempt.channel, attempt.outcome
    if channel == AttemptChannel.personal:
        if outcome == AttemptOutcome.served or outcome == AttemptOutcome.refused:
            serve(session, order, attempt, attempt.attempted_at, actor=actor, now=now)
            return
        if outcome in BAD_ADDRESS_OUTCOMES:
            _mark_failed(order, attempt.address, outcome, attempt.attempted_at)
            if not usable_addresses(order):
                exhaust(session, order, now=now)  # no address left: only public notice remains
                return
        if outcome in FAILED_OUTCOMES and order.failed_direct_attempts() >= settings.service_direct_attempts:
            _enter_layer(session, order, Layer.mail, now, settings, actor=actor, now=now,
                         reason="direct service failed")
    elif channel == AttemptChannel.mail:
        order.layer_due_at = layer_due(Layer.mail, attempt.attempted_at, settings)
    elif channel == AttemptChannel.posting:
        serve(session, order, attempt, attempt.attempted_at, actor=actor, now=now)
    elif channel == AttemptChannel.public_notice:
        order.notice_published_at = attempt.attempted_at
        order.layer = int(Layer.public_notice)
        order.layer_entered_at = attempt.attempted_at
        order.layer_due_at = attempt.attempted_at + timedelta(days=settings.service_public_notice_days)
        order.status = OrderStatus.in_progress
        order.exhausted_at = None
        if order.layer_due_at <= now:
            serve(session, order, attempt, order.layer_due_at, actor=actor, now=now)
    session.flush()


def serve(session, order: ServiceOrder, attempt: ServiceAttempt, at: datetime, *, actor=None, now) -> None:
    """Mark the order served on its legal service date ``at``; the serve task is done."""
    from ancillary.queues.models import TaskStatus

    order.status = OrderStatus.served
    order.served_at = at
    order.served_channel = attempt.channel
    order.served_layer = attempt.layer
    order.layer_due_at = None
    task = order.task
    if task is not None and task.status in (TaskStatus.open, TaskStatus.claimed):
        task.status = TaskStatus.done if task.status == TaskStatus.claimed else TaskStatus.cancelled
        task.completed_at = now
        task.note = "served"
    session.flush()
    record(session, actor, "service_order.served", order, now=now,
           after={"served_at": at.isoformat(), "channel": attempt.channel.value, "attempt": attempt.seq})


def exhaust(session, order: ServiceOrder, *, now) -> None:
    order.status = OrderStatus.exhausted
    order.exhausted_at = now
    order.layer_due_at = None
    session.flush()
    record(session, None, "service_order.exhausted", order, now=now, after={"layer": order.layer})


def on_case_closed(session: Session, case, now: datetime) -> int:
    """The case is closed: its unserved orders are withdrawn and stop climbing the ladder.

    Registered in ancillary.queues.services.CLOSE_LISTENERS (which has already cancelled the
    open serve tasks). Served and exhausted orders keep their status (and their meaning); on a
    closed case no attempt, public notice included, is recorded any more. Returns how many
    orders were withdrawn.
    """
    from ancillary.queues.models import TaskStatus

    orders = session.scalars(select(ServiceOrder).where(
        ServiceOrder.case_id == case.id,
        ServiceOrder.status.in_([OrderStatus.pending, OrderStatus.in_progress]),
    ).order_by(ServiceOrder.id)).all()
    for order in orders:
        before = {"status": order.status.value, "layer": order.layer}
        order.status = OrderStatus.withdrawn
        order.withdrawn_at = now
        order.layer_due_at = None
        order.overdue_at = None
        task = order.task
        if task is not None and task.status in (TaskStatus.open, TaskStatus.claimed):
            task.status = TaskStatus.cancelled
            task.completed_at = now
        session.flush()
        record(session, None, "service_order.withdrawn", order, now=now, case_id=order.case_id, before=before,
               after={"status": "withdrawn", "reason": "case closed"})
    return len(orders)


# --- reports coming back: delivery status, carrier events --------------------------------


def on_notification_status(session: Session, notification, now: datetime) -> None:
    """A delivered SMS or e-mail updates its attempt; with consent it serves the order.

    Registered in ancillary.reminders.services.STATUS_LISTENERS.
    """
    from ancillary.reminders.models import NotificationStatus

    if not (notification.kind or "").startswith("service."):
        return
    attempt = session.scalar(select(ServiceAttempt).where(ServiceAttempt.notification_id == notification.id))
    if attempt is None or attempt.outcome != AttemptOutcome.sent:
        return
    order = attempt.order
    if notification.status == NotificationStatus.delivered:
        attempt.outcome = AttemptOutcome.delivered
        attempt.delivered_at = notification.delivered_at or now
        record(session, None, "service_attempt.delivered", attempt, now=now, case_id=order.case_id,
               after={"order_id": order.id, "delivered_at": attempt.delivered_at.isoformat()})
        if order.is_open and _has_consent(order, attempt):
            serve(session, order, attempt, attempt.delivered_at, now=now)
    elif notification.status in (NotificationStatus.undelivered, NotificationStatus.failed):
        attempt.outcome = AttemptOutcome.failed
        record(session, None, "service_attempt.failed", attempt, now=now, case_id=order.case_id,
               after={"order_id": order.id, "status": notification.status.value})
    session.flush()


def _has_consent(order: ServiceOrder, attempt: ServiceAttempt) -> bool:
    """Electronic service needs consent: the firm's agreement, or the party's signed consent."""
    if attempt.channel == AttemptChannel.law_firm_email:
        firm = order.recipient.law_firm
        return bool(firm is not None and firm.e_service_agreement)
    return order.consent_at is not None and order.consent_at <= (attempt.delivered_at or attempt.attempted_at)


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
        raise Invalid("event_in_future", "event_at lies in the future", field="event_at")
    attempt = session.scalar(select(ServiceAttempt).where(ServiceAttempt.tracking_number == number))
    if attempt is None:
        raise NotFound("unknown_tracking_number", "no envelope with tracking number {number}",
                       field="tracking_number", number=number)
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
                serve(session, order, attempt, event.event_at, now=now)  # mail: served on the signing date
            elif attempt.outcome in BAD_ADDRESS_OUTCOMES:
                _mark_failed(order, attempt.address, attempt.outcome, event.event_at)
                if usable_addresses(order):
                    order.layer_due_at = layer_due(Layer.mail, now, settings)
                else:
                    exhaust(session, order, now=now)
            else:
                order.posting_open_at = event.event_at
                order.layer_due_at = period_end_days(event.event_at, settings.service_posting_days,
                                                     settings.timezone)
    session.flush()
    return "applied"


def load_demo_service(session: Session, *, settings, now: datetime, rng) -> dict:
    """Put the demo's service orders at realistic places on the ladder (called by the demo)."""
    from ancillary.queues.models import TaskStatus
    from ancillary.service.jobs import sweep

    clerks = list(session.scalars(select(User).where(User.role == Role.service_clerk).order_by(User.id)))
    if not clerks:
        return {}
    orders = list(session.scalars(select(ServiceOrder).order_by(ServiceOrder.created_at)))
    served = 0
    for order in orders:
        task = order.task
        if task is None or task.status != TaskStatus.open:
            continue
        clerk = rng.choice(clerks)
        task.status, task.assignee_id, task.claimed_at = TaskStatus.claimed, clerk.id, order.created_at
        if order.created_at < now - timedelta(days=5) and rng.random() < 0.6:
            at = order.created_at + timedelta(days=rng.uniform(1, 4))
            record_attempt(session, order, AttemptIn(channel="personal", outcome="served",
                                                     received_by=order.recipient.name, attempted_at=at,
                                                     skip_reason="当面送达"),
                           actor=clerk, now=at, settings=settings)
            served += 1
    session.flush()
    result = sweep(session, now, settings)
    return {"orders": len(orders), "served": served, **result}
