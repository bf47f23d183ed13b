"""Service-order input, and its two projections: in full (the assigned clerk, the judge, the
management office) and the outcome only (schedulers and the contractor's manager)."""

from __future__ import annotations

from flask_babel import gettext
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ancillary.schemas import Id, ListArgsSchema, LocalDateTime
from ancillary.service.addresses import usable_addresses
from ancillary.service.attempts import AttemptIn, attempts_in_time
from ancillary.service.carrier import EVENT_CODES, TRACKING_SHAPES, CarrierEventIn
from ancillary.service.ladder import next_step
from ancillary.service.models import AttemptChannel, AttemptOutcome, OrderStatus
from ancillary.service.queries import OrderLevel


class ServiceAttemptArgsSchema(Schema):
    channel = fields.Enum(AttemptChannel, by_value=True, required=True)
    outcome = fields.Enum(AttemptOutcome, by_value=True)
    attempted_at = LocalDateTime(metadata={"description": "when it happened; defaults to now"})
    address = fields.String(validate=validate.Length(min=2, max=500))
    contact = fields.String(validate=validate.Length(min=3, max=254),
                            metadata={"description": "phone or e-mail used; defaults to the recipient's first"})
    notes = fields.String(validate=validate.Length(max=1000))
    tracking_number = fields.String(validate=validate.Length(min=8, max=40))
    carrier = fields.String(validate=validate.OneOf(sorted(TRACKING_SHAPES)))
    received_by = fields.String(validate=validate.Length(min=1, max=100),
                                metadata={"description": "who signed the receipt (direct service)"})
    witness = fields.String(validate=validate.Length(min=1, max=200),
                            metadata={"description": "witness of a refusal"})
    duration_seconds = fields.Integer(strict=False, validate=validate.Range(min=0, max=86400))
    consent = fields.Boolean(load_default=False,
                             metadata={"description": "the recipient signed consent to electronic service"})
    skip_reason = fields.String(validate=validate.Length(max=500), metadata={
        "description": "why a later layer is tried before this one's window closed; required then, stored on the "
                       "attempt; accepted and ignored when the attempt skips nothing"})
    client_id = fields.String(validate=[validate.Length(min=8, max=64), validate.Regexp(r"^[A-Za-z0-9_.:-]+$")],
                              metadata={"description": "the sender's own id for this attempt: a resend with the same "
                                                       "id records nothing and answers the order (200)"})
    device_latitude = fields.Float(validate=validate.Range(min=-90, max=90), metadata={
        "description": "the phone's position when the attempt was made; kept when the photo has no GPS"})
    device_longitude = fields.Float(validate=validate.Range(min=-180, max=180))

    @validates_schema
    def both_coordinates(self, data, **kwargs):
        if ("device_latitude" in data) != ("device_longitude" in data):
            missing = "device_longitude" if "device_latitude" in data else "device_latitude"
            raise ValidationError("Give latitude and longitude together.", missing)

    @post_load
    def make(self, data, **kwargs):
        data["channel"] = data["channel"].value
        if data.get("outcome") is not None:
            data["outcome"] = data["outcome"].value
        return AttemptIn(**data)


class ServiceOrderArgsSchema(Schema):
    case_id = Id(required=True)
    party_id = Id(required=True)
    documents = fields.String(required=True, validate=validate.Length(min=2, max=500))


class ServiceOrderListArgsSchema(ListArgsSchema):
    case_id = Id()
    status = fields.Enum(OrderStatus, by_value=True)
    layer = fields.Integer(validate=validate.Range(min=0, max=4))


class CarrierEventArgsSchema(Schema):
    tracking_number = fields.String(required=True, validate=validate.Length(min=8, max=40))
    event_at = LocalDateTime(required=True)
    code = fields.String(required=True, validate=validate.OneOf(sorted(EVENT_CODES)))
    carrier = fields.String(load_default="ems", validate=validate.OneOf(sorted(TRACKING_SHAPES)))
    location = fields.String(validate=validate.Length(max=200), allow_none=True)
    description = fields.String(validate=validate.Length(max=500), allow_none=True)
    signed_by = fields.String(validate=validate.Length(max=100), allow_none=True)

    @post_load
    def make(self, data, **kwargs):
        return CarrierEventIn(**data)


class CarrierWebhookArgsSchema(Schema):
    events = fields.List(fields.Nested(CarrierEventArgsSchema), required=True,
                         validate=validate.Length(min=1, max=1000))

    @validates_schema
    def one_carrier(self, data, **kwargs):
        if len({e.carrier for e in data.get("events", [])}) > 1:
            raise ValidationError("One carrier per call.", "events")


class CarrierWebhookResultSchema(Schema):
    applied = fields.Integer()
    duplicates = fields.Integer()
    unknown = fields.List(fields.String(), metadata={"description": "tracking numbers no envelope carries"})


# --- output ------------------------------------------------------------------------------


class ServiceNextStepSchema(Schema):
    channel = fields.String()
    due_at = LocalDateTime(allow_none=True)


class CarrierEventSchema(Schema):
    code = fields.String()
    event_at = LocalDateTime()
    location = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    signed_by = fields.String(allow_none=True)
    source = fields.String()


class ServiceAttemptOutcomeSchema(Schema):
    """An attempt as the outcome projection shows it: how and what came of it, not where."""

    seq = fields.Integer()
    layer = fields.Integer()
    channel = fields.Enum(AttemptChannel, by_value=True)
    outcome = fields.Enum(AttemptOutcome, by_value=True)
    attempted_at = LocalDateTime()


class ServicePhotoSchema(Schema):
    sha256 = fields.String(attribute="photo_sha256")
    mime = fields.String(attribute="photo_mime")
    bytes = fields.Integer(attribute="photo_bytes")
    taken_at = LocalDateTime(attribute="photo_taken_at", allow_none=True)


class ServiceAttemptSchema(ServiceAttemptOutcomeSchema):
    id = fields.Integer()
    recorded_at = LocalDateTime()
    actor_id = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    received_by = fields.String(allow_none=True)
    witness = fields.String(allow_none=True)
    duration_seconds = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    skip_reason = fields.String(allow_none=True, metadata={
        "description": "the clerk's reason for moving to this layer before the previous window closed"})
    tracking_number = fields.String(allow_none=True)
    carrier = fields.String(allow_none=True)
    delivered_at = LocalDateTime(allow_none=True)
    notification_id = fields.Integer(allow_none=True)
    photo = fields.Method("get_photo", metadata={"description": "the stored photo's hash, type, size, EXIF time"})
    latitude = fields.Float(allow_none=True, metadata={"description": "the photo's GPS latitude, decimal degrees"})
    longitude = fields.Float(allow_none=True, metadata={"description": "the photo's GPS longitude, decimal degrees"})
    distance_m = fields.Float(allow_none=True, metadata={"description": "metres from the address's known position"})
    flags = fields.List(fields.String(), metadata={
        "description": "no_gps, no_time, time_invalid (camera clock not set), far_from_address, older_than_limit, "
                       "taken_after_attempt, address_not_located, "
                       "position_from_device (latitude and longitude came from the phone, not the photo)"})
    client_id = fields.String(allow_none=True)
    carrier_events = fields.List(fields.Nested(CarrierEventSchema))

    def get_photo(self, attempt):
        return ServicePhotoSchema().dump(attempt) if attempt.photo_sha256 else None


class ServiceAddressSchema(Schema):
    text = fields.String()
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    source = fields.String(metadata={"description": "confirmed (in another case), filing, or clerk"})
    source_case_number = fields.String(allow_none=True)
    confirmed_at = LocalDateTime(allow_none=True)
    source_text = fields.Method("get_source_text")
    failed = fields.Method("get_failed")
    failed_reason = fields.String(allow_none=True)
    failed_at = LocalDateTime(allow_none=True)

    def get_failed(self, address):
        return address.failed_at is not None

    def get_source_text(self, address):
        return source_text(address, self.context_tz())

    def context_tz(self):
        from flask import current_app

        return current_app.config["SETTINGS"].timezone


def source_text(address, tz) -> str:
    if address.source == "confirmed":
        return gettext("confirmed in case %(number)s on %(date)s", number=address.source_case_number,
                       date=address.confirmed_at.astimezone(tz).date().isoformat())
    if address.source == "clerk":
        return gettext("found by the service clerk")
    return gettext("given at filing")


class ServiceRecipientSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    role = fields.String()
    phones = fields.Method("get_phones")
    emails = fields.Method("get_emails")
    law_firm = fields.Method("get_law_firm")

    def get_phones(self, party):
        return party.values("phone")

    def get_emails(self, party):
        return party.values("email")

    def get_law_firm(self, party):
        firm = party.law_firm
        if firm is None:
            return None
        return {"id": firm.id, "name": firm.name, "email": firm.email, "e_service_agreement": firm.e_service_agreement}


class ServiceOrderOutcomeSchema(Schema):
    """What a scheduler or the contractor's manager sees: served or not, and when."""

    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String(attribute="case.number")
    recipient_party_id = fields.Integer()
    status = fields.Enum(OrderStatus, by_value=True)
    layer = fields.Integer()
    layer_entered_at = LocalDateTime()
    next_step = fields.Method("get_next_step")
    served_at = LocalDateTime(allow_none=True, metadata={"description": "the legal service date and time"})
    legal_service_date = fields.Method("get_service_date")
    served_channel = fields.Enum(AttemptChannel, by_value=True, allow_none=True)
    overdue_at = LocalDateTime(allow_none=True, metadata={
        "description": "direct service's window closed before its visits were made; the order waits in layer 2"})
    withdrawn_at = LocalDateTime(allow_none=True, metadata={
        "description": "the case was closed before service: status withdrawn"})
    attempts = fields.Method("get_attempts", metadata={"description": "in the order they happened"})
    attempt_schema = ServiceAttemptOutcomeSchema

    def get_attempts(self, order):
        return self.attempt_schema(many=True).dump(attempts_in_time(order))

    def get_next_step(self, order):
        step = next_step(order)
        return None if step is None else ServiceNextStepSchema().dump(step)

    def get_service_date(self, order):
        if order.served_at is None:
            return None
        from flask import current_app

        return order.served_at.astimezone(current_app.config["SETTINGS"].timezone).date().isoformat()


class ServiceOrderSchema(ServiceOrderOutcomeSchema):
    """The order in full: for the clerk holding its task, the case's judge, the office."""

    documents = fields.String()
    recipient = fields.Nested(ServiceRecipientSchema)
    task_id = fields.Integer(allow_none=True)
    assignee_id = fields.Integer(attribute="task.assignee_id", allow_none=True)
    consent_at = LocalDateTime(allow_none=True)
    notice_published_at = LocalDateTime(allow_none=True)
    exhausted_at = LocalDateTime(allow_none=True)
    created_at = LocalDateTime()
    addresses = fields.List(fields.Nested(ServiceAddressSchema))
    usable_addresses = fields.Method("get_usable")
    attempt_schema = ServiceAttemptSchema

    def get_usable(self, order):
        return len(usable_addresses(order))


class ServiceOrderPageSchema(Schema):
    items = fields.List(fields.Nested(ServiceOrderSchema), metadata={"description": "shaped by the caller's role"})
    total = fields.Integer()


def dump_order(order, level: OrderLevel) -> dict:
    return (ServiceOrderSchema() if level == OrderLevel.full else ServiceOrderOutcomeSchema()).dump(order)
