from marshmallow import Schema, fields, validate

from ancillary.schemas import Id, ListArgsSchema, LocalDateTime


class AuditListArgsSchema(ListArgsSchema):
    case_id = Id()
    actor_id = Id()
    action = fields.String(validate=validate.Length(max=64))
    object_type = fields.String(validate=validate.Length(max=64))
    object_id = Id()
    since = LocalDateTime()
    until = LocalDateTime()


class AuditEntrySchema(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    actor_id = fields.Integer(allow_none=True)
    action = fields.String()
    object_type = fields.String()
    object_id = fields.Integer(allow_none=True)
    case_id = fields.Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)


class AccessListArgsSchema(ListArgsSchema):
    case_id = Id()
    user_id = Id()
    since = LocalDateTime()
    until = LocalDateTime()


class AccessLogEntrySchema(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    user_id = fields.Integer()
    case_id = fields.Integer(allow_none=True)
    party_ids = fields.List(fields.Integer())
    purpose = fields.String()
    object_type = fields.String(allow_none=True, metadata={"description": "what was read, when not a party list"})
    object_id = fields.Integer(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema))
    total = fields.Integer()


class AccessPageSchema(Schema):
    items = fields.List(fields.Nested(AccessLogEntrySchema))
    total = fields.Integer()
