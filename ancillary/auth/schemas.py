from marshmallow import Schema, fields, validate

from ancillary.auth.models import Role
from ancillary.schemas import ListArgsSchema, LocalDateTime


class TokenArgsSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Schema):
    token = fields.String(metadata={"example": "anc_Zk3...q8"})
    role = fields.String(metadata={"example": "scheduler"})
    expires_at = LocalDateTime()


class MeSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    phone = fields.String(allow_none=True)
    is_president = fields.Boolean()


class UserArgsSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=2, max=64))
    role = fields.Enum(Role, by_value=True, required=True)
    display_name = fields.String(validate=validate.Length(min=1, max=100))
    phone = fields.String(validate=validate.Length(min=5, max=20))
    email = fields.Email()
    password = fields.String(validate=validate.Length(min=8, max=200), load_only=True)
    is_president = fields.Boolean(load_default=False)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    phone = fields.String(allow_none=True)
    is_active = fields.Boolean()
    is_president = fields.Boolean()
    created_at = LocalDateTime()


class UserListArgsSchema(ListArgsSchema):
    role = fields.Enum(Role, by_value=True)


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    total = fields.Integer()
