from marshmallow import Schema, fields, validate

from ancillary.auth.models import Role
from ancillary.schemas import ListArgsSchema, LocalDateTime


class TokenArgsSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "required when the account must choose a new password (after a reset or an approval)"})


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
    password = fields.String(validate=validate.Length(min=1, max=200), load_only=True, metadata={
        "description": "at least 12 characters, not common, not containing the username; the person must change it"
                       " at first sign-in. Leave out for a grant that needs the court's approval"})
    is_president = fields.Boolean(load_default=False)


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.Enum(Role, by_value=True)
    phone = fields.String(allow_none=True)
    is_active = fields.Boolean()
    is_president = fields.Boolean()
    is_approved = fields.Boolean(metadata={"description": "false while the grant waits for a court_admin"})
    must_change_password = fields.Boolean()
    created_at = LocalDateTime()


class ApprovedUserSchema(UserSchema):
    temporary_password = fields.String(metadata={
        "description": "hand it to the person; they choose their own at first sign-in. Shown once"})


class PasswordResetSchema(Schema):
    user_id = fields.Integer()
    temporary_password = fields.String()


class ApiTokenInfoSchema(Schema):
    id = fields.Integer()
    created_at = LocalDateTime()
    expires_at = LocalDateTime()
    last_used_at = LocalDateTime(allow_none=True)
    revoked_at = LocalDateTime(allow_none=True)


class ApiTokenPageSchema(Schema):
    items = fields.List(fields.Nested(ApiTokenInfoSchema))


class RevokedSchema(Schema):
    revoked = fields.Integer()


class UserListArgsSchema(ListArgsSchema):
    role = fields.Enum(Role, by_value=True)
    pending = fields.Boolean(metadata={"description": "only grants waiting for the court's approval"})


class UserPageSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    total = fields.Integer()
