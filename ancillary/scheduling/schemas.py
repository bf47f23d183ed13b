from datetime import time

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ancillary.schemas import ListArgsSchema, LocalDateTime


class ClockTime(fields.Field):
    """A local time of day written "HH:MM"."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            raise ValidationError("Not a time of day written HH:MM.")
        try:
            return time(int(value[:2]), int(value[3:]))
        except ValueError:
            raise ValidationError("Not a time of day written HH:MM.") from None


class CourtroomArgsSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    venue = fields.String(required=True, validate=validate.Length(min=1, max=100))
    opens = ClockTime(required=True)
    closes = ClockTime(required=True)
    capacity = fields.Integer(strict=True, load_default=30, validate=validate.Range(min=1, max=1000))
    has_video = fields.Boolean(load_default=False)

    @validates_schema
    def opens_before_closes(self, data, **kwargs):
        if "opens" in data and "closes" in data and data["opens"] >= data["closes"]:
            raise ValidationError("Must be later than opens.", "closes")


class CourtroomSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    venue = fields.String()
    opens = ClockTime()
    closes = ClockTime()
    capacity = fields.Integer()
    has_video = fields.Boolean()
    is_active = fields.Boolean()
    created_at = LocalDateTime()


class CourtroomListArgsSchema(ListArgsSchema):
    venue = fields.String(validate=validate.Length(max=100))
