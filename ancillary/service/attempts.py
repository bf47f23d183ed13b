"""Recording an attempt on the ladder: what each channel needs, its evidence, what it sends,
and how it moves the order. Audits, leaves the attempt to the caller's next flush; never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary import storage
from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.display_names import N_
from ancillary.errors import Conflict, Forbidden, Invalid
from ancillary.service import carrier as carriers
from ancillary.service import evidence
from ancillary.service.addresses import address_for
from ancillary.service.ladder import add_attempt, advance, enter_layer, has_consent, local_minute, serve, start
from ancillary.service.messages import send_message
from ancillary.service.models import (
    CHANNEL_LAYER,
    ELECTRONIC,
    AttemptChannel,
    AttemptOutcome,
    OrderStatus,
    ServiceAddress,
    ServiceAttempt,
    ServiceOrder,
)

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
    client_id: str | None = None
    device_latitude: float | None = None
    device_longitude: float | None = None


def replayed_attempt(session: Session, order: ServiceOrder, client_id: str | None) -> ServiceAttempt | None:
    """The attempt already recorded on ``order`` under the sender's ``client_id``, if any."""
    if not client_id:
        return None
    return session.scalar(select(ServiceAttempt).where(ServiceAttempt.order_id == order.id,
                                                       ServiceAttempt.client_id == client_id))


def attempts_in_time(order: ServiceOrder) -> list[ServiceAttempt]:
    """The order's attempts in the order they happened (a visit recorded late sorts by its time)."""
    return sorted(order.attempts, key=lambda a: (a.attempted_at, a.seq))


def record_attempt(session: Session, order: ServiceOrder, data: AttemptIn, *, photo: bytes | None = None,
                   actor: User, now: datetime, settings) -> ServiceAttempt:
    """Record one attempt on the ladder, send what it sends, and move the order on."""
    channel = AttemptChannel(data.channel)
    attempted_at = data.attempted_at or now
    _check_order_takes(order, channel, actor, settings)
    _check_time(order, channel, attempted_at, now, settings)
    outcome = _outcome(channel, data.outcome, photo)
    if channel in ELECTRONIC and outcome in MESSAGE_REPORTS:
        return report_message(session, order, channel, outcome, attempted_at, data.notes, actor=actor, now=now)
    target, skip_reason = _target_layer(order, channel, data.skip_reason)
    values = dict(channel=channel, outcome=outcome, attempted_at=attempted_at, recorded_at=now, actor_id=actor.id,
                  notes=(data.notes or "").strip() or None, duration_seconds=data.duration_seconds,
                  received_by=data.received_by, witness=data.witness,
                  skip_reason=skip_reason if target > order.layer and channel != AttemptChannel.public_notice
                  else None, client_id=data.client_id)
    check = CHANNEL_CHECKS.get(channel)
    if check is not None:
        values.update(check(session, order, data, outcome, photo, target, now))
    if data.consent and not ((data.notes or "").strip() or photo is not None):
        raise Invalid("consent_needs_record", "record the signed consent in notes or with a photo", field="consent")
    if photo is not None:
        values.update(_photo_evidence(session, order, photo, values.get("address"), attempted_at, settings, data))
    elif data.device_latitude is not None:
        values.update(latitude=data.device_latitude, longitude=data.device_longitude, flags=["position_from_device"])
    if channel in ELECTRONIC:  # the message goes through the outbox; delivery comes back later
        notification, values["contact"] = send_message(session, order, channel, data.contact, actor=actor, now=now,
                                                       settings=settings)
        values["notification_id"] = notification.id  # the outbox row is flushed: its id is known
    if target > order.layer and channel != AttemptChannel.public_notice:
        enter_layer(session, order, target, now, settings, actor=actor, now=now, reason=skip_reason)
    start(session, order, actor=actor, now=now)
    attempt = add_attempt(order, **values)
    if data.consent:
        order.consent_at = attempted_at
    # no flush here: the entry takes the attempt's id at the next flush, with what ``advance`` changes
    record(session, actor, "service_attempt.record", attempt, now=now, case_id=order.case_id,
           after={"order_id": order.id, "channel": channel.value, "outcome": outcome.value,
                  "photo_sha256": attempt.photo_sha256})
    advance(session, order, attempt, actor=actor, now=now, settings=settings)
    return attempt


# --- what every attempt must satisfy ---------------------------------------------------------


def _check_order_takes(order: ServiceOrder, channel: AttemptChannel, actor: User, settings) -> None:
    """The order is still open to this channel, and ``actor`` is the one who records it."""
    if channel == AttemptChannel.address_reuse:
        raise Invalid("channel_automatic", "address reuse is done by the system when the order opens",
                      field="channel")
    tz = settings.timezone
    if order.status == OrderStatus.served:
        raise Conflict("order_served", "the order was served on {date}; no further attempt is recorded",
                       field="order_id", date=order.served_at.astimezone(tz).date().isoformat())
    if order.status == OrderStatus.withdrawn:
        raise Conflict("order_withdrawn", "the case was closed on {date}; service was withdrawn", field="order_id",
                       date=order.withdrawn_at.astimezone(tz).date().isoformat())
    if order.case.status.value != "open":
        raise Conflict("case_not_open", "case {number} is {status}: no further attempt is recorded",
                       field="order_id", number=order.case.number, status=order.case.status.value)
    if order.status == OrderStatus.exhausted and channel != AttemptChannel.public_notice:
        raise Conflict("order_exhausted", "every layer has failed: only the judge's public notice is left",
                       field="order_id")
    if channel == AttemptChannel.public_notice:
        _check_public_notice(order, actor)
    elif actor.role != Role.service_clerk:
        raise Forbidden("attempt_by_clerk", "attempts are recorded by the service clerk holding the task")


def _check_public_notice(order: ServiceOrder, actor: User) -> None:
    if actor.role not in (Role.judge, Role.enforcement_officer, Role.court_admin):
        raise Forbidden("public_notice_by_judge", "service by public notice is ordered by the judge")
    if order.status != OrderStatus.exhausted:
        raise Conflict("public_notice_too_early",
                       "public notice is ordered only when every layer has failed and no address is left",
                       field="channel")
    if order.notice_published_at is not None:
        raise Conflict("notice_published", "the public notice is already published", field="channel")


def _check_time(order: ServiceOrder, channel: AttemptChannel, attempted_at: datetime, now: datetime,
                settings) -> None:
    """No attempt from the future, none before the order was opened, no posting before the mail
    came back (each would date the legal service before what it follows)."""
    if attempted_at > now + timedelta(minutes=5):
        raise Invalid("attempt_in_future", "the attempt cannot be dated in the future", field="attempted_at")
    after = [(order.created_at, "attempt_before_order",
              N_("the attempt cannot be dated before the service order was opened ({at})"))]
    if channel == AttemptChannel.posting and order.posting_open_at is not None:
        after.append((order.posting_open_at, "posting_before_return",
                      N_("the posting cannot be dated before posting opened when the mail came back ({at})")))
    for earliest, code, message in after:
        if attempted_at < earliest:
            raise Invalid(code, message, field="attempted_at", at=local_minute(earliest, settings.timezone))


def _outcome(channel: AttemptChannel, given: str | None, photo: bytes | None) -> AttemptOutcome:
    """The outcome reported (or the channel's default), if the channel can report it."""
    outcome = AttemptOutcome(given) if given else DEFAULT_OUTCOME.get(channel)
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
    return outcome


def _target_layer(order: ServiceOrder, channel: AttemptChannel, skip_reason: str | None):
    """The channel's layer: the current one; a later one only with a recorded reason; never back.

    A skip_reason given where nothing is skipped is accepted and ignored.
    """
    target = CHANNEL_LAYER[channel]
    skip_reason = (skip_reason or "").strip() or None
    if channel == AttemptChannel.public_notice:
        return target, skip_reason
    if target < order.layer:
        raise Invalid("channel_not_open", "{channel} belongs to layer {layer}, which is closed for this order",
                      field="channel", channel=channel.value, layer=int(target))
    if target > order.layer and skip_reason is None:
        raise Invalid("channel_not_open", "{channel} opens in layer {layer}; give skip_reason to move on early",
                      field="channel", channel=channel.value, layer=int(target))
    return target, skip_reason


# --- what each channel needs (a table: channel -> check returning the attempt's values) ------


def _address(order: ServiceOrder, data: AttemptIn, now: datetime) -> ServiceAddress:
    address = address_for(order, data.address, now)
    if address is None:
        raise Invalid("no_address", "no usable address is left: give one", field="address")
    return address


def _personal(session, order, data, outcome, photo, target, now) -> dict:
    address = _address(order, data, now)
    if address.failed_at is not None and not data.address:
        raise Invalid("address_failed", "that address failed before; give it again to try it", field="address")
    if outcome == AttemptOutcome.served and not (data.received_by or "").strip():
        raise Invalid("receipt_signer_required", "name the person who signed the receipt", field="received_by")
    if outcome == AttemptOutcome.refused and not (data.witness or "").strip() and photo is None:
        raise Invalid("refusal_needs_evidence", "a refusal is lodged with a witness or a photo", field="witness")
    return {"address": address.text}


def _mail(session, order, data, outcome, photo, target, now) -> dict:
    address = _address(order, data, now)
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
    return {"address": address.text, "tracking_number": number, "carrier": carrier}


def _posting(session, order, data, outcome, photo, target, now) -> dict:
    address = _address(order, data, now)
    if photo is None:
        raise Invalid("photo_required", "a posting needs a photo of the posted notice", field="photo")
    if order.posting_open_at is None:
        raise Invalid("posting_not_open", "posting opens when the mail comes back unclaimed", field="channel")
    return {"address": address.text}


def _phone(session, order, data, outcome, photo, target, now) -> dict:
    phones = order.recipient.values("phone")
    contact = (data.contact or (phones[0] if phones else "")).strip()
    if not contact:
        raise Invalid("no_phone", "the recipient has no phone number: give one", field="contact")
    return {"contact": contact}


CHANNEL_CHECKS = {
    AttemptChannel.personal: _personal,
    AttemptChannel.mail: _mail,
    AttemptChannel.posting: _posting,
    AttemptChannel.phone: _phone,
}


def _photo_evidence(session, order: ServiceOrder, photo: bytes, address: str | None, attempted_at: datetime,
                    settings, data: AttemptIn) -> dict:
    """Check the photo and stage it for storage (it lands once the attempt is committed); flag
    it when taken far from the address or long before.

    A photo without GPS takes the phone's own position when the page sent one, flagged so.
    """
    checked = evidence.inspect_photo(photo, max_bytes=settings.photo_max_bytes,
                                     max_pixels=settings.photo_max_pixels, tz=settings.timezone)
    from_device = []
    if checked.latitude is None and data.device_latitude is not None:
        checked.latitude, checked.longitude = data.device_latitude, data.device_longitude
        from_device = ["position_from_device"]
    position = None
    for known in order.addresses:
        if known.text == address and known.latitude is not None:
            position = (known.latitude, known.longitude)
    flags, distance = evidence.place_and_age_flags(
        checked, address_position=position, attempted_at=attempted_at,
        max_distance_m=settings.posting_max_distance_m, max_age=timedelta(hours=settings.posting_max_age_hours))
    key = storage.stage(session, settings, evidence.storage_key(checked), checked.content, checked.mime)
    return dict(photo_path=key, photo_sha256=checked.sha256,
                photo_mime=checked.mime, photo_bytes=len(photo), photo_taken_at=checked.taken_at,
                latitude=checked.latitude, longitude=checked.longitude, distance_m=distance,
                flags=flags + from_device)


def report_message(session, order: ServiceOrder, channel: AttemptChannel, outcome: AttemptOutcome,
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
    if outcome == AttemptOutcome.delivered and order.is_open and has_consent(order, attempt):
        serve(session, order, attempt, at, actor=actor, now=now)
    session.flush()
    return attempt
