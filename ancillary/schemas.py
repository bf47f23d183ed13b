"""Field types shared by every context's schemas."""

from __future__ import annotations

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import func, select

MAX_LIMIT = 1000


class LocalDateTime(fields.AwareDateTime):
    """ISO 8601 with an offset on the way in (naive is refused); shown in court time."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "iso")
        super().__init__(default_timezone=None, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(current_app.config["SETTINGS"].timezone).isoformat()

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 2000 <= result.year <= 2100:
            raise ValidationError("Date out of range (2000-2100).")
        return result


class LocalDate(fields.Date):
    """A calendar date (YYYY-MM-DD) in a sane range, so no year 1 or 9999 reaches a query."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not 2000 <= result.year <= 2100:
            raise ValidationError("Date out of range (2000-2100).")
        return result


class Id(fields.Integer):
    """A database id: a positive integer that fits the column.

    JSON must send a number (not 5.5, not true, not "5"); a query string sends digits.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=2**31 - 1))
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit())
        ):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class ErrorSchema(Schema):
    """Every error answer: the HTTP status, a stable code for programs, a sentence for people,
    and the field at fault when there is one."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status", "example": 404})
    status = fields.String(required=True, metadata={"description": "HTTP reason phrase", "example": "Not Found"})
    error = fields.String(required=True, metadata={"description": "stable code for programs", "example": "not_found"})
    message = fields.String(required=True, metadata={"description": "a sentence in the caller's language"})
    field = fields.String(metadata={"description": "the field at fault, dotted for nested fields"})
    errors = fields.Dict(metadata={"description": "messages per field, nested as the input is"})
    conflict = fields.Dict(metadata={"description": "what the request conflicts with (409)"})
    conflicts = fields.List(fields.Dict(), metadata={"description": "every conflict found (409)"})
    assignee_id = fields.Integer(metadata={"description": "who holds the task already (409)"})
    retry_after = fields.Integer(metadata={"description": "seconds to wait before trying again (429), as the "
                                                          "Retry-After header says"})


class ListArgsSchema(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_LIMIT))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000))


def paged(session, query, args):
    """The page of ``query`` that ``limit`` and ``offset`` ask for, and the whole query's count."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return query.limit(args["limit"]).offset(args["offset"]), total


RETRY_AFTER_HEADER = {"Retry-After": {
    "description": "seconds to wait before trying again (RFC 9110 section 10.2.3); the same as `retry_after`",
    "schema": {"type": "integer", "minimum": 1}, "example": 45}}


def retry_later(blp, description: str, example: dict):
    """Document a 429 answer with its Retry-After header and an example on a view (the error body,
    with ``retry_after``), in place of the bare 429 that ``errors(429)`` would list."""
    return blp.alt_response(429, schema=ErrorSchema, description=description, example=example,
                            headers=RETRY_AFTER_HEADER)
