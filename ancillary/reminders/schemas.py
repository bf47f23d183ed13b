from marshmallow import EXCLUDE, Schema, fields, validate

from ancillary.outbox import Channel, NotificationStatus
from ancillary.schemas import Id, ListArgsSchema, LocalDateTime


class NotificationListArgsSchema(ListArgsSchema):
    status = fields.Enum(NotificationStatus, by_value=True)
    kind = fields.String(validate=validate.Length(max=64))
    recipient_id = Id()
    case_id = Id()
    unacked = fields.Boolean(metadata={"description": "only messages that ask for acknowledgement and have none"})


class NotificationSchema(Schema):
    id = fields.Integer()
    recipient_id = fields.Integer(allow_none=True)
    channel = fields.Enum(Channel, by_value=True)
    kind = fields.String()
    body = fields.String(allow_none=True, metadata={"description": "null when the caller may see only metadata"})
    to_address = fields.String(allow_none=True)
    status = fields.Enum(NotificationStatus, by_value=True,
                         metadata={"description": "pending (waiting: quiet hours, a retry), then Twilio's words"})
    case_id = fields.Integer(allow_none=True)
    needs_ack = fields.Boolean()
    ack_code = fields.String(allow_none=True)
    created_at = LocalDateTime()
    not_before = LocalDateTime()
    sent_at = LocalDateTime(allow_none=True)
    delivered_at = LocalDateTime(allow_none=True)
    acked_at = LocalDateTime(allow_none=True)
    escalation_level = fields.Integer(metadata={"description": "0 officer, 1 management office, 2 court president"})
    resolved_at = LocalDateTime(allow_none=True)
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    total = fields.Integer()


NOTIFICATION_EXAMPLE = {
    "id": 17, "recipient_id": 12, "channel": "sms", "kind": "action_digest",
    "body": "威海市环翠区人民法院：1项事项需您处理：(2027)鲁1002民初123号 2027-01-04开庭后未报结案……"
            "回复 OK 4821 确认。",
    "to_address": "+8613800000012", "status": "delivered", "case_id": 3, "needs_ack": True, "ack_code": "4821",
    "created_at": "2027-01-20T08:00:00+08:00", "not_before": "2027-01-20T08:00:00+08:00",
    "sent_at": "2027-01-20T08:00:02+08:00", "delivered_at": "2027-01-20T08:00:05+08:00",
    "acked_at": None, "escalation_level": 0, "resolved_at": None, "attempts": 1, "last_error": None,
}


class StatusCallbackSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # Twilio sends many more fields (AccountSid, From, To, ApiVersion ...)

    MessageSid = fields.String(required=True, validate=validate.Length(min=2, max=64))
    MessageStatus = fields.String(required=True, validate=validate.Length(min=1, max=32))
    ErrorCode = fields.String(validate=validate.Length(max=16))


class NotificationStatusSchema(Schema):
    """A message's status after a delivery report."""

    id = fields.Integer(required=True)
    status = fields.Enum(NotificationStatus, by_value=True, required=True)


class InboundSmsSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    From = fields.String(required=True, validate=validate.Length(min=1, max=32))
    Body = fields.String(load_default="", validate=validate.Length(max=1600))
    MessageSid = fields.String(validate=validate.Length(max=64))


class EnforcementNodesArgsSchema(Schema):
    property_search_started_at = LocalDateTime(allow_none=True)
    fully_seized_at = LocalDateTime(allow_none=True)
    auction_at = LocalDateTime(allow_none=True)
    auction_measures_at = LocalDateTime(allow_none=True)
    payment_received_at = LocalDateTime(allow_none=True)
    payment_released_at = LocalDateTime(allow_none=True)


class EnforcementNodesSchema(EnforcementNodesArgsSchema):
    case_id = fields.Integer()
    updated_at = LocalDateTime(allow_none=True)
    updated_by_id = fields.Integer(allow_none=True)


class QueueArgsSchema(Schema):
    officer_id = Id()
    horizon_days = fields.Integer(load_default=7, validate=validate.Range(min=0, max=90))


class QueueNodeSchema(Schema):
    officer_id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    node = fields.String(metadata={"description": "heard_not_closed, deadline, property_search, seized_not_closed, "
                                                  "auction_measures, payment_release"})
    due_at = LocalDateTime()
    state = fields.String(metadata={"description": "due_soon or overdue"})
    last_reminded_at = LocalDateTime(allow_none=True)


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(QueueNodeSchema))
    total = fields.Integer()


class RemindArgsSchema(Schema):
    officer_id = Id(required=True)
    case_id = Id()
