"""Archive step input and the archivist's queue."""

from marshmallow import Schema, fields, validate

from ancillary.custody.schemas import ScanResultSchema  # noqa: F401  (one shape for custody answers)
from ancillary.schemas import LocalDateTime


class StepArgsSchema(Schema):
    step = fields.String(required=True, validate=validate.OneOf(["count", "bind", "archive"]),
                         metadata={"description": "digitise is a multipart upload to .../archive/scan"})
    material_count = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000))
    archive_location = fields.String(validate=validate.Length(min=1, max=100))


class ArchiveRecordSchema(Schema):
    dossier_id = fields.Integer()
    archivist_id = fields.Integer(allow_none=True)
    material_count = fields.Integer(allow_none=True)
    counted_at = LocalDateTime(allow_none=True)
    bound_at = LocalDateTime(allow_none=True)
    scan_sha256 = fields.String(allow_none=True)
    scan_bytes = fields.Integer(allow_none=True)
    digitised_at = LocalDateTime(allow_none=True)
    archive_location = fields.String(allow_none=True)
    archived_at = LocalDateTime(allow_none=True)


class QueueCaseSchema(Schema):
    task_id = fields.Integer()
    case_id = fields.Integer()
    case_number = fields.String()
    closed_at = LocalDateTime()
    due_at = LocalDateTime()
    days_left = fields.Integer()
    overdue = fields.Boolean()
    volumes = fields.Integer()
    volumes_archived = fields.Integer()
    assignee_id = fields.Integer(allow_none=True)


class BacklogFileSchema(Schema):
    id = fields.Integer()
    case_number = fields.String()
    closed_on = fields.Date()
    volumes = fields.Integer()
    location = fields.String(allow_none=True)
    cause = fields.String(allow_none=True)
    material_count = fields.Integer(allow_none=True)
    archive_location = fields.String(allow_none=True)
    archived_at = LocalDateTime(allow_none=True)


class QueueSchema(Schema):
    cases = fields.List(fields.Nested(QueueCaseSchema))
    backlog = fields.List(fields.Nested(BacklogFileSchema))
    backlog_total = fields.Integer()


class QueueArgsSchema(Schema):
    backlog_limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class BacklogArchiveArgsSchema(Schema):
    archive_location = fields.String(required=True, validate=validate.Length(min=1, max=100))
    material_count = fields.Integer(strict=True, validate=validate.Range(min=1, max=100_000))
