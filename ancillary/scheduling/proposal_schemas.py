"""What the scheduling sweep's proposals look like over HTTP (``proposal_views``)."""

from marshmallow import Schema, fields, validate

from ancillary.schemas import ListArgsSchema, LocalDateTime


class ProposalListArgsSchema(ListArgsSchema):
    status = fields.String(load_default="proposed",
                           validate=validate.OneOf(["proposed", "accepted", "rejected", "withdrawn", "all"]),
                           metadata={"description": "which proposals: open ones (default), decided ones, or all"})


class ProposalRejectArgsSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class ProposalTakenSchema(Schema):
    hearing_id = fields.Integer()
    case_number = fields.String()
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()


class ProposalSchema(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String(attribute="case.number")
    kind = fields.String(attribute="case.kind.value")
    judge_id = fields.Integer()
    courtroom_id = fields.Integer()
    courtroom_name = fields.String(attribute="courtroom.name")
    venue = fields.String(attribute="courtroom.venue")
    starts_at = LocalDateTime()
    ends_at = LocalDateTime()
    overlap = fields.Boolean(attribute="is_overlap")
    status = fields.String(attribute="status.value")
    created_at = LocalDateTime()
    decided_at = LocalDateTime(allow_none=True)
    hearing_id = fields.Integer(allow_none=True)
    reason = fields.String(allow_none=True, metadata={
        "description": "a scheduler's reason for rejecting, or why the sweep withdrew it: case_booked_or_closed, "
                       "slot_passed, slot_taken"})
    taken_by = fields.Nested(ProposalTakenSchema, allow_none=True, metadata={
        "description": "an open proposal whose room or judge was booked meanwhile: the hearing in the way"})


class ProposalPageSchema(Schema):
    items = fields.List(fields.Nested(ProposalSchema))
    total = fields.Integer()
