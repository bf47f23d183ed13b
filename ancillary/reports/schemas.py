from marshmallow import Schema, ValidationError, validates_schema

from ancillary.schemas import LocalDate


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


class DashboardArgsSchema(Schema):
    """A period of local dates, both included; its order and length are checked by the dashboard."""

    from_ = LocalDate(required=True, data_key="from", metadata={"example": "2027-01-01"})
    to = LocalDate(required=True, metadata={"example": "2027-03-31"})
