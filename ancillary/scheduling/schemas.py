from datetime import time

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ancillary.fastargs import aware_datetime, is_id, plain_fields
from ancillary.schemas import Id, ListArgsSchema, LocalDate, LocalDateTime


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
    lunch_starts = ClockTime(allow_none=True, metadata={
        "description": "start of the lunch break; left out: 12:00 when the room is open then; null: no break"})
    lunch_ends = ClockTime(allow_none=True, metadata={"description": "end of the lunch break (13:30 by default)"})

    @validates_schema
    def opens_before_closes(self, data, **kwargs):
        if "opens" in data and "closes" in data and data["opens"] >= data["closes"]:
            raise ValidationError("Must be later than opens.", "closes")
        _lunch_pair(data)


def _lunch_pair(data) -> None:
    """Both ends of the lunch break given (or both null), or neither."""
    if ("lunch_starts" in data) != ("lunch_ends" in data):
        raise ValidationError("Give lunch_starts and lunch_ends together.",
                              "lunch_ends" if "lunch_starts" in data else "lunch_starts")
    if (data.get("lunch_starts") is None) != (data.get("lunch_ends") is None):
        raise ValidationError("Give both ends of the lunch break, or null for both.", "lunch_ends")


class LunchBreakArgsSchema(Schema):
    lunch_starts = ClockTime(required=True, allow_none=True, metadata={"description": "null: no lunch break"})
    lunch_ends = ClockTime(required=True, allow_none=True)

    @validates_schema
    def paired(self, data, **kwargs):
        _lunch_pair(data)


class CourtroomSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    venue = fields.String()
    opens = ClockTime()
    closes = ClockTime()
    capacity = fields.Integer()
    has_video = fields.Boolean()
    lunch_starts = ClockTime(allow_none=True)
    lunch_ends = ClockTime(allow_none=True)
    is_active = fields.Boolean()
    created_at = LocalDateTime()


class CourtroomListArgsSchema(ListArgsSchema):
    venue = fields.String(validate=validate.Length(max=100))


# --- court calendar and blockings -------------------------------------------------


class CourtDayArgsSchema(Schema):
    is_working = fields.Boolean(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class CourtDaySchema(Schema):
    day = LocalDate()
    is_working = fields.Boolean()
    name = fields.String()
    source = fields.String(metadata={"description": "official, provisional (before the State Council notice) or admin"})


class CourtDayListArgsSchema(Schema):
    from_ = LocalDate(required=True, data_key="from")
    to = LocalDate(required=True)

    @validates_schema
    def bounded(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("Must not be before from.", "to")
            if (data["to"] - data["from_"]).days > 800:
                raise ValidationError("The window may span at most 800 days.", "to")


class WorkingDaySchema(Schema):
    day = LocalDate()
    is_working = fields.Boolean()
    name = fields.String(allow_none=True)


class BlockingArgsSchema(Schema):
    courtroom_id = Id()
    user_id = Id(metadata={"description": "a judge or enforcement officer on leave"})
    starts_at = LocalDateTime(required=True)
    ends_at = LocalDateTime(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))

    @validates_schema
    def one_subject_and_order(self, data, **kwargs):
        if ("courtroom_id" in data) == ("user_id" in data):
            raise ValidationError("Give either courtroom_id or user_id.", "courtroom_id")
        if "starts_at" in data and "ends_at" in data and data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be later than starts_at.", "ends_at")


class BlockingSchema(Schema):
    id = fields.Integer()
    courtroom_id = fields.Integer(allow_none=True)
    user_id = fields.Integer(allow_none=True)
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    reason = fields.String()


class BlockingListArgsSchema(ListArgsSchema):
    from_ = LocalDateTime(data_key="from")
    to = LocalDateTime()
    courtroom_id = Id()
    user_id = Id()


# --- hearings -----------------------------------------------------------------------


def _check_period(data, max_minutes=480, min_minutes=10):
    if "starts_at" in data and "ends_at" in data:
        if data["ends_at"] <= data["starts_at"]:
            raise ValidationError("Must be later than starts_at.", "ends_at")
        minutes = (data["ends_at"] - data["starts_at"]).total_seconds() / 60
        if not min_minutes <= minutes <= max_minutes:
            raise ValidationError("A hearing lasts 10 to 480 minutes.", "ends_at")


class HearingArgsSchema(Schema):
    case_id = Id(required=True)
    courtroom_id = Id(required=True)
    starts_at = LocalDateTime(required=True)
    ends_at = LocalDateTime(required=True)

    @validates_schema
    def period(self, data, **kwargs):
        _check_period(data)


_HEARING_CHECKS = {"case_id": is_id, "courtroom_id": is_id, "starts_at": lambda v: type(v) is str,
                   "ends_at": lambda v: type(v) is str}
_HEARING_REQUIRED = frozenset(_HEARING_CHECKS)


def hearing_args(body) -> dict | None:
    """``HearingArgsSchema().load(body)`` for a plain well-formed booking, else None (the schema decides)."""
    if not plain_fields(body, _HEARING_CHECKS, _HEARING_REQUIRED):
        return None
    starts_at, ends_at = aware_datetime(body["starts_at"]), aware_datetime(body["ends_at"])
    if starts_at is None or ends_at is None or not 10 <= (ends_at - starts_at).total_seconds() / 60 <= 480:
        return None
    return {"case_id": body["case_id"], "courtroom_id": body["courtroom_id"], "starts_at": starts_at,
            "ends_at": ends_at}


class HearingMoveArgsSchema(Schema):
    courtroom_id = Id()
    starts_at = LocalDateTime(required=True)
    ends_at = LocalDateTime(required=True)

    @validates_schema
    def period(self, data, **kwargs):
        _check_period(data)


class HearingCancelArgsSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class HearingListArgsSchema(ListArgsSchema):
    from_ = LocalDateTime(data_key="from", metadata={"example": "2027-01-04T00:00:00+08:00"})
    to = LocalDateTime(metadata={"example": "2027-01-11T00:00:00+08:00"})
    courtroom_id = Id()
    judge_id = Id()
    case_id = Id()
    day = LocalDate(metadata={"description": "one local date, instead of from/to"})
    status = fields.String(validate=validate.OneOf(["booked", "cancelled"]))

    @validates_schema
    def ordered(self, data, **kwargs):
        if "from_" in data and "to" in data and data["to"] <= data["from_"]:
            raise ValidationError("Must be later than from.", "to")


class PartyNameSchema(Schema):
    role = fields.String()
    name = fields.String()


class HearingCaseSchema(Schema):
    number = fields.String()
    kind = fields.String()
    track = fields.String(allow_none=True)
    venue = fields.String()
    mediation_likely = fields.Boolean()
    parties = fields.List(fields.Nested(PartyNameSchema),
                          metadata={"description": "names and roles only; shown to schedulers, judges, the office"})


class HearingSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    courtroom_id = fields.Integer()
    judge_id = fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    overlap = fields.Boolean(metadata={"description": "shares its room and time with another (overlap booking)"})
    status = fields.String()
    lane = fields.Integer()
    sequence = fields.Integer()
    courtroom_name = fields.String(attribute="courtroom.name")
    judge_name = fields.String(attribute="judge.display_name")
    venue = fields.String(attribute="courtroom.venue")
    case = fields.Nested(HearingCaseSchema)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()
    cancel_reason = fields.String(allow_none=True)


class HearingPageSchema(Schema):
    items = fields.List(fields.Nested(HearingSchema))
    total = fields.Integer()


class SuggestionArgsSchema(Schema):
    case_id = Id(required=True)
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class SuggestionSchema(Schema):
    courtroom_id = fields.Integer()
    courtroom_name = fields.String()
    venue = fields.String()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    overlap = fields.Boolean()


class SuggestionReasonSchema(Schema):
    code = fields.String(metadata={"description": "no_courtroom, past_speedy_limit, past_deadline, "
                                                  "no_slot_before_speedy_limit or no_free_slot"})
    message = fields.String(metadata={"description": "the reason for people, in the caller's locale"})
    limit = fields.String(allow_none=True, metadata={
        "description": "local ISO 8601 time the search ran up to: the 7-day limit, the statutory deadline "
                       "or the end of the search horizon"})


class ExplainedSuggestionsSchema(Schema):
    case_id = fields.Integer()
    slots = fields.List(fields.Nested(SuggestionSchema), metadata={"description": "as /hearings/suggestions"})
    reason = fields.Nested(SuggestionReasonSchema, allow_none=True,
                           metadata={"description": "why there is no slot; null when slots were found"})


class AutoArgsSchema(Schema):
    from_ = LocalDate(required=True, data_key="from", metadata={"example": "2027-01-11"})
    to = LocalDate(required=True, metadata={"example": "2027-01-15"})
    venue = fields.String(validate=validate.Length(min=1, max=100))
    dry_run = fields.Boolean(load_default=False)

    @validates_schema
    def bounded(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("Must not be before from.", "to")
            if (data["to"] - data["from_"]).days > 31:
                raise ValidationError("Auto-scheduling plans at most 31 days at a time.", "to")


class AutoScheduledSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    courtroom_id = fields.Integer()
    courtroom_name = fields.String()
    judge_id = fields.Integer()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    overlap = fields.Boolean()


class UnscheduledSchema(Schema):
    case_id = fields.Integer()
    case_number = fields.String()
    reason = fields.String()
    detail = fields.String()


class AutoResultSchema(Schema):
    from_ = LocalDate(data_key="from")
    to = LocalDate()
    dry_run = fields.Boolean()
    scheduled = fields.List(fields.Nested(AutoScheduledSchema))
    unscheduled = fields.List(fields.Nested(UnscheduledSchema))


class FeedTokenSchema(Schema):
    url = fields.String()
    token = fields.String()


class CalendarArgsSchema(Schema):
    token = fields.String(validate=validate.Length(max=100),
                          metadata={"description": "the judge's feed token, for phone calendars that cannot "
                                                   "send headers"})


class UtilizationArgsSchema(Schema):
    from_ = LocalDate(required=True, data_key="from", metadata={"example": "2027-01-04"})
    to = LocalDate(required=True, metadata={"example": "2027-01-08"})
    venue = fields.String(validate=validate.Length(max=100))

    @validates_schema
    def bounded(self, data, **kwargs):
        if "from_" in data and "to" in data:
            if data["to"] < data["from_"]:
                raise ValidationError("Must not be before from.", "to")
            if (data["to"] - data["from_"]).days > 366:
                raise ValidationError("The window may span at most a year.", "to")


class RoomDayUseSchema(Schema):
    date = fields.String(required=True)
    booked_minutes = fields.Integer(required=True)
    open_minutes = fields.Integer(required=True)
    utilization = fields.Float(allow_none=True, required=True)


class RoomUseSchema(Schema):
    courtroom_id = fields.Integer(required=True)
    name = fields.String(required=True)
    venue = fields.String(required=True)
    days = fields.List(fields.Nested(RoomDayUseSchema), required=True)
    booked_minutes = fields.Integer(required=True)
    open_minutes = fields.Integer(required=True)
    utilization = fields.Float(allow_none=True, required=True)


class UtilizationSchema(Schema):
    """Booked over open minutes per room and working day; null when a room was never open."""

    from_ = fields.String(data_key="from", attribute="from", required=True)
    to = fields.String(required=True)
    working_days = fields.Integer(required=True)
    booked_minutes = fields.Integer(required=True)
    open_minutes = fields.Integer(required=True)
    utilization = fields.Float(allow_none=True, required=True)
    rooms = fields.List(fields.Nested(RoomUseSchema), required=True)


UTILIZATION_EXAMPLE = {
    "from": "2027-01-04", "to": "2027-01-08", "working_days": 5, "booked_minutes": 2457, "open_minutes": 2700,
    "utilization": 0.91,
    "rooms": [{"courtroom_id": 3, "name": "第一法庭", "venue": "main", "booked_minutes": 2457, "open_minutes": 2700,
               "utilization": 0.91,
               "days": [{"date": "2027-01-04", "booked_minutes": 510, "open_minutes": 540, "utilization": 0.9444}]}],
}
