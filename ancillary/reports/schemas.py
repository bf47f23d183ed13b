from marshmallow import INCLUDE, Schema, ValidationError, fields, post_dump, validates_schema

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


def _rate(**kw):
    return fields.Float(allow_none=True, **kw)


class OfficerReminderSchema(Schema):
    """One officer's (or one post's) reminder figures."""

    officer_id = fields.Integer(allow_none=True)
    post_id = fields.Integer()
    officer_ids = fields.List(fields.Integer())
    reminders = fields.Integer()
    sent = fields.Integer()
    delivered = fields.Integer()
    failed = fields.Integer()
    acknowledged = fields.Integer()
    acknowledged_rate = _rate()
    ack_minutes_p50 = _rate()
    escalated = fields.Integer()
    escalated_to_president = fields.Integer()


class KpiSchema(Schema):
    """Every figure of the window; a rate is a fraction in [0, 1], null when nothing to divide by.

    Open: a context wired in later adds its own figures, which are answered as they are."""

    class Meta:
        unknown = INCLUDE

    @post_dump(pass_original=True)
    def keep_every_figure(self, data, original, **kwargs):
        return {**original, **data}

    from_ = fields.String(data_key="from", attribute="from")
    to = fields.String()
    cases_filed = fields.Integer()
    cases_closed = fields.Integer()
    closed_within_limit_rate = _rate()
    archived_within_30_days_rate = _rate()
    cases_archived = fields.Integer()
    cases_awaiting_archive = fields.Integer()
    scheduling_turnaround_minutes_p50 = _rate()
    scheduling_turnaround_minutes_p95 = _rate()
    scheduled_within_3_hours_rate = _rate()
    cases_scheduled = fields.Integer()
    courtroom_utilization = _rate()
    speedy_heard_within_7_days_rate = _rate()
    speedy_placeable_heard_within_7_days_rate = _rate(metadata={"description": (
        "of the speedy cases the court calendar let be heard in time (a working day between the "
        "summons' first day and the 7th day after filing), the share heard within 7 days")})
    speedy_unplaceable = fields.Integer(metadata={
        "description": "speedy cases counted with no working day inside their 7 days (filed before a closure)"})
    service_orders_opened = fields.Integer()
    service_orders_decided = fields.Integer()
    service_success_rate = _rate()
    service_success_by_layer = fields.Dict(keys=fields.String(), values=_rate())
    service_time_to_serve_days_p50 = _rate()
    service_time_to_serve_days_p95 = _rate()
    service_electronic_share = _rate()
    reminders_sent = fields.Integer()
    reminders_delivered = fields.Integer()
    reminders_failed = fields.Integer()
    reminders_acknowledged = fields.Integer()
    reminders_acknowledged_rate = _rate()
    reminders_ack_minutes_p50 = _rate()
    reminders_escalated = fields.Integer()
    reminders_escalated_to_president = fields.Integer()
    reminders_by_officer = fields.List(fields.Nested(OfficerReminderSchema))
    reminders_by_post = fields.List(fields.Nested(OfficerReminderSchema))
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


def _number():
    return fields.Float(allow_none=True)


class FigureSchema(Schema):
    key = fields.String(required=True)
    label = fields.String(required=True)
    value = _number()
    numerator = fields.Integer(allow_none=True)
    denominator = fields.Integer(allow_none=True)
    target = _number()
    target_source = fields.String(allow_none=True)
    met = fields.Boolean(allow_none=True)


class TrendSchema(Schema):
    from_ = fields.String(data_key="from", attribute="from", required=True)
    to = fields.String(required=True)
    values = fields.Dict(keys=fields.String(), values=_number())


class PersonLoadSchema(Schema):
    user_id = fields.Integer(required=True)
    name = fields.String(allow_none=True)
    role = fields.String(required=True)
    post = fields.String(allow_none=True)
    group = fields.String(allow_none=True)
    held = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class QueueLoadSchema(Schema):
    queue = fields.String(required=True)
    open = fields.Integer(required=True)
    held = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class PostLoadSchema(Schema):
    post = fields.String(allow_none=True)
    people = fields.Integer(required=True)
    held = fields.Integer(required=True)
    overdue = fields.Integer(required=True)


class WorkloadSchema(Schema):
    people = fields.List(fields.Nested(PersonLoadSchema), required=True)
    queues = fields.List(fields.Nested(QueueLoadSchema), required=True)
    posts = fields.List(fields.Nested(PostLoadSchema), required=True)


class DashboardSchema(Schema):
    """The seed's figures against their targets, the weekly trend, tasks held per person, queue, post."""

    from_ = fields.String(data_key="from", attribute="from", required=True)
    to = fields.String(required=True)
    figures = fields.List(fields.Nested(FigureSchema), required=True)
    trend = fields.List(fields.Nested(TrendSchema))
    workload = fields.Nested(WorkloadSchema, required=True)
    kpis = fields.Nested(KpiSchema, required=True, metadata={"description": "every figure, as /reports/kpis"})
