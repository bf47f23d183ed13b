from marshmallow import Schema, ValidationError, fields, validates_schema

from ancillary.schemas import LocalDate, LocalDateTime


class KpiArgsSchema(Schema):
    from_ = LocalDate(required=True, data_key="from", metadata={"example": "2027-01-01"})
    to = LocalDate(required=True, metadata={"example": "2027-01-31"})

    @validates_schema
    def ordered_and_bounded(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("Must not be before from.", "to")
            if (data["to"] - data["from_"]).days > 3660:
                raise ValidationError("The window may span at most ten years.", "to")


class ReleasePatternArgsSchema(Schema):
    from_ = LocalDate(data_key="from", metadata={"description": "first local date; default: 6 days before to"})
    to = LocalDate(metadata={"description": "last local date, included; default: today"})

    @validates_schema
    def ordered_and_bounded(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("Must not be before from.", "to")
            if (data["to"] - data["from_"]).days > 366:
                raise ValidationError("The window may span at most a year.", "to")


class QuickReleaseSchema(Schema):
    task_id = fields.Integer()
    case_number = fields.String()
    claimed_at = LocalDateTime()
    read_at = LocalDateTime(metadata={"description": "when the clerk first read the recipient's contacts"})
    released_at = LocalDateTime()


class ReleasePatternSchema(Schema):
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    claims = fields.Integer(metadata={"description": "serve tasks claimed in the window"})
    releases = fields.Integer(metadata={"description": "serve tasks released in the window"})
    unusual = fields.Boolean()
    reasons = fields.List(fields.String(), metadata={"description": "why the pattern is unusual, as sentences"})
    quick_releases = fields.List(fields.Nested(QuickReleaseSchema), metadata={
        "description": "released soon after reading the contacts, with no attempt recorded"})


class ReleasePatternPageSchema(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    items = fields.List(fields.Nested(ReleasePatternSchema))


class DashboardArgsSchema(Schema):
    """A period of local dates, both included; its order and length are checked by the dashboard."""

    from_ = LocalDate(required=True, data_key="from", metadata={"example": "2027-01-01"})
    to = LocalDate(required=True, metadata={"example": "2027-03-31"})
