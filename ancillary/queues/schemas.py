from marshmallow import Schema, fields, validate

from ancillary.queues.models import Queue, SlaState, TaskKind, TaskStatus
from ancillary.schemas import Id, ListArgsSchema, LocalDateTime


class TaskListArgsSchema(ListArgsSchema):
    queue = fields.Enum(Queue, by_value=True)
    status = fields.Enum(TaskStatus, by_value=True)
    kind = fields.Enum(TaskKind, by_value=True)
    case_id = Id()
    assignee_id = Id()
    mine = fields.Boolean(metadata={"description": "only tasks the caller holds"})
    overdue = fields.Boolean(metadata={"description": "only open or claimed tasks past their due time"})


class TaskSchema(Schema):
    id = fields.Integer()
    queue = fields.Enum(Queue, by_value=True)
    kind = fields.Enum(TaskKind, by_value=True)
    case_id = fields.Integer()
    case_number = fields.String(attribute="case.number")
    case_kind = fields.String(attribute="case.kind")
    party_id = fields.Integer(allow_none=True)
    priority = fields.Integer()
    status = fields.Enum(TaskStatus, by_value=True)
    assignee_id = fields.Integer(allow_none=True)
    created_at = LocalDateTime()
    due_at = LocalDateTime()
    claimed_at = LocalDateTime(allow_none=True)
    completed_at = LocalDateTime(allow_none=True)
    sla = fields.Enum(SlaState, by_value=True,
                      metadata={"description": "open, due_soon, overdue (met/missed once done)"})
    note = fields.String(allow_none=True)


class TaskPageSchema(Schema):
    items = fields.List(fields.Nested(TaskSchema))
    total = fields.Integer()


class CompleteArgsSchema(Schema):
    note = fields.String(validate=validate.Length(max=500))


class FollowUpPostArgsSchema(Schema):
    user_id = Id(required=True)
    officer_ids = fields.List(Id(), required=True)
    group = fields.String(validate=validate.OneOf(["trial", "enforcement"]))


class FollowUpPostSchema(Schema):
    id = fields.Integer()
    user_id = fields.Integer()
    group = fields.String(attribute="group.code")
    officer_ids = fields.Method("get_officer_ids")
    created_at = LocalDateTime()

    def get_officer_ids(self, post):
        return [p.officer_id for p in post.pairings]


class PostListArgsSchema(ListArgsSchema):
    group = fields.String(validate=validate.OneOf(["pre_trial", "trial", "enforcement", "archive"]))
    kind = fields.String(validate=validate.Length(max=32))


class PostSchema(Schema):
    """A contractor post and its workload right now."""

    id = fields.Integer()
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    group = fields.String()
    kind = fields.String()
    officer_ids = fields.List(fields.Integer())
    tasks_held = fields.Integer(metadata={"description": "claimed tasks not yet done"})
    tasks_overdue = fields.Integer(metadata={"description": "claimed tasks past their due time"})
