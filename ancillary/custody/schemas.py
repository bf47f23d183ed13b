"""Scan input, and the custody shapes: no party data is ever in them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from ancillary.custody.models import CustodyAction
from ancillary.fastargs import is_text, plain_fields
from ancillary.schemas import Id, ListArgsSchema, LocalDateTime

MAX_CODE = 4096  # longer than any QR payload: surely not a scan


class ScanArgsSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CODE),
                         metadata={"description": "the label's text as the scanner typed it (CR/LF are fine)"})
    action = fields.String(required=True, validate=validate.OneOf(["receive", "store"]))
    location = fields.String(validate=validate.Length(min=1, max=100), allow_none=True)
    client_scan_id = fields.String(validate=validate.Length(min=1, max=64), allow_none=True,
                                   metadata={"description": "the device's id for this scan; a replay answers 200"})
    scanned_at = LocalDateTime(allow_none=True, metadata={"description": "device time of an offline scan"})
    typed = fields.Boolean(load_default=False, metadata={
        "description": "code is the dossier code printed under a torn label's QR (DS0000123-01), typed by hand; "
                       "marked so in the chain"})


_SCAN_CHECKS = {
    "code": lambda v: is_text(v, 1, MAX_CODE),
    "action": lambda v: type(v) is str and v in ("receive", "store"),
    "location": lambda v: v is None or is_text(v, 1, 100),
    "client_scan_id": lambda v: v is None or is_text(v, 1, 64),
    "scanned_at": lambda v: v is None,  # a device time is left to the schema
    "typed": lambda v: type(v) is bool,
}
_SCAN_REQUIRED = frozenset(("code", "action"))


def scan_args(body) -> dict | None:
    """``ScanArgsSchema().load(body)`` for a plain well-formed scan, else None (the schema decides)."""
    if not plain_fields(body, _SCAN_CHECKS, _SCAN_REQUIRED):
        return None
    return {"typed": False, **body}


class LookupArgsSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=MAX_CODE),
                         metadata={"description": "a scanned label, or the printed dossier code with typed=true"})
    typed = fields.Boolean(load_default=False)


class ScanFormSchema(ScanArgsSchema):
    """The multipart variant: an ``image`` file part instead of ``code``."""

    code = fields.String(validate=validate.Length(min=1, max=MAX_CODE))


class UserRefSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()


class ScanResultSchema(Schema):
    dossier_id = fields.Integer()
    code = fields.String()
    case_number = fields.String()
    volume = fields.Integer()
    action = fields.String()
    holder = fields.Nested(UserRefSchema, allow_none=True)
    location = fields.String(allow_none=True)
    seq = fields.Integer(metadata={"description": "this event's place in the chain: the chain's length after it"})
    hash = fields.String()
    conflict = fields.Boolean()
    scanned_at = LocalDateTime(allow_none=True)
    recorded_at = LocalDateTime()
    typed = fields.Boolean(metadata={"description": "the code was typed by hand, not scanned"})


class DossierPlaceSchema(Schema):
    """Which dossier, and who holds it where: what a lookup and a custody chain both begin with."""

    dossier_id = fields.Integer()
    code = fields.String()
    case_number = fields.String()
    volume = fields.Integer()
    holder = fields.Nested(UserRefSchema, allow_none=True)
    location = fields.String(allow_none=True)


class LookupSchema(DossierPlaceSchema):
    last_action = fields.String(allow_none=True, metadata={"description": "receive, store, or an archiving step"})
    last_moved_at = LocalDateTime(allow_none=True)
    chain_length = fields.Integer()


class DecodeResultSchema(Schema):
    codes = fields.List(fields.String())


class EventSchema(Schema):
    id = fields.Integer()
    seq = fields.Integer()
    action = fields.Enum(CustodyAction, by_value=True)
    from_holder = fields.Nested(UserRefSchema, allow_none=True)
    to_holder = fields.Nested(UserRefSchema, allow_none=True)
    location = fields.String(allow_none=True)
    scanned_at = LocalDateTime(attribute="device_at", allow_none=True)
    recorded_at = LocalDateTime(attribute="server_at")
    happened_at = LocalDateTime(attribute="effective_at")
    actor = fields.Nested(UserRefSchema)
    client_scan_id = fields.String(allow_none=True)
    details = fields.Dict(allow_none=True)
    conflict = fields.Boolean()
    prev_hash = fields.String()
    hash = fields.String()


class BadEventSchema(Schema):
    id = fields.Integer(allow_none=True)
    dossier_id = fields.Integer(allow_none=True)
    seq = fields.Integer(allow_none=True)
    reason = fields.String(metadata={"description": "content_altered, broken_link, missing_event, sequence_broken, "
                                                    "chain_truncated, head_mismatch; against the signed checkpoint: "
                                                    "chain_rewritten, chain_deleted, holder_mismatch, "
                                                    "checkpoint_signature_invalid, checkpoint_wrong_key, "
                                                    "checkpoint_leaves_missing, checkpoint_leaves_altered, "
                                                    "checkpoint_missing, checkpoint_copies_disagree, "
                                                    "checkpoint_log_broken"})
    source = fields.String(metadata={"description": "for a checkpoint_* finding: which copy of the checkpoints, "
                                                    "local (the checkpoint folder) or object_store"})
    checkpoint = fields.Integer(metadata={"description": "for a checkpoint_* finding: the checkpoint's number"})
    detail = fields.String(metadata={"description": "e.g. which key signed a checkpoint signed by another key"})


class CustodySchema(DossierPlaceSchema):
    events = fields.List(fields.Nested(EventSchema))
    verified = fields.Boolean()
    first_bad_event = fields.Nested(BadEventSchema, allow_none=True)


class CheckpointRefSchema(Schema):
    number = fields.Integer()
    made_at = fields.String(metadata={"description": "when the checkpoint was signed (ISO 8601)"})
    root = fields.String(metadata={"description": "the Merkle root over every chain head, hex"})


class VerifySchema(Schema):
    ok = fields.Boolean()
    events_checked = fields.Integer()
    first_bad_event = fields.Nested(BadEventSchema, allow_none=True)
    checkpoint = fields.Nested(CheckpointRefSchema, allow_none=True, metadata={
        "description": "the latest signed checkpoint the chains were checked against; null before the first"})
    message = fields.String(allow_none=True, metadata={"description": "the first bad event in a sentence"})


class RecentScansArgsSchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class WhereArgsSchema(ListArgsSchema):
    holder_id = Id()
    location = fields.String(validate=validate.Length(min=1, max=100))
    idle_days = fields.Integer(validate=validate.Range(min=1, max=3650),
                               metadata={"description": "dossiers not moved for at least this many days"})
    closed_with_contractor = fields.Boolean(
        metadata={"description": "dossiers of closed cases still held by contractor staff (other than archivists)"})


class DossierWhereSchema(Schema):
    dossier_id = fields.Integer(attribute="id")
    code = fields.String()
    case_id = fields.Integer()
    case_number = fields.String(attribute="case.number")
    case_status = fields.String(attribute="case.status")
    volume = fields.Integer()
    holder_id = fields.Integer(allow_none=True)
    location = fields.String(allow_none=True)
    last_moved_at = LocalDateTime(allow_none=True)


class DossierWherePageSchema(Schema):
    items = fields.List(fields.Nested(DossierWhereSchema))
    total = fields.Integer()
