"""Case input, and the per-role projections of a case (need-to-know).

Which projection a caller gets is decided by ``ancillary.auth.policy.case_view``.
"""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, post_load, pre_load, validate, validates_schema

from ancillary.cases.models import CaseKind, CaseStatus, CaseTrack, PartyRole
from ancillary.cases.services import AddressIn, CaseIn, PartyIn
from ancillary.schemas import Id, ListArgsSchema, LocalDateTime

_name = validate.Length(min=1, max=200)


class AddressArgsSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=2, max=500))
    latitude = fields.Float(validate=validate.Range(min=-90, max=90), allow_none=True, allow_nan=False)
    longitude = fields.Float(validate=validate.Range(min=-180, max=180), allow_none=True, allow_nan=False)

    @pre_load
    def from_string(self, data, **kwargs):
        return {"text": data} if isinstance(data, str) else data

    @validates_schema
    def both_or_neither(self, data, **kwargs):
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError("Give latitude and longitude together.", "latitude")

    @post_load
    def make(self, data, **kwargs):
        return AddressIn(**data)


class PartyArgsSchema(Schema):
    role = fields.Enum(PartyRole, by_value=True, required=True)
    name = fields.String(required=True, validate=_name)
    id_number = fields.String(validate=validate.Length(min=5, max=32), allow_none=True)
    phones = fields.List(fields.String(validate=validate.Length(min=5, max=20)), validate=validate.Length(max=10),
                         load_default=list)
    emails = fields.List(fields.Email(validate=validate.Length(max=254)), validate=validate.Length(max=10),
                         load_default=list)
    addresses = fields.List(fields.Nested(AddressArgsSchema), validate=validate.Length(max=10), load_default=list)
    law_firm_id = Id(allow_none=True)

    @post_load
    def make(self, data, **kwargs):
        data["role"] = data["role"].value
        return PartyIn(**data)


class CaseArgsSchema(Schema):
    number = fields.String(required=True, validate=validate.Length(min=3, max=64))
    kind = fields.Enum(CaseKind, by_value=True, required=True)
    venue = fields.String(required=True, validate=validate.Length(min=1, max=100))
    filed_at = LocalDateTime(required=True)
    judge_id = Id(required=True)
    volumes = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=200))
    cause = fields.String(validate=validate.Length(max=200), allow_none=True)
    parties = fields.List(fields.Nested(PartyArgsSchema), required=True, validate=validate.Length(min=1, max=50))

    @post_load
    def make(self, data, **kwargs):
        data["kind"] = data["kind"].value
        return CaseIn(**data)


class CaseUpdateArgsSchema(Schema):
    judge_id = Id()
    track = fields.Enum(CaseTrack, by_value=True)
    mediation_likely = fields.Boolean()
    hearing_minutes = fields.Integer(strict=True, validate=validate.Range(min=10, max=480))


class CloseArgsSchema(Schema):
    closed_at = LocalDateTime(required=True)
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CaseListArgsSchema(ListArgsSchema):
    status = fields.Enum(CaseStatus, by_value=True)
    kind = fields.Enum(CaseKind, by_value=True)
    judge_id = Id()
    venue = fields.String(validate=validate.Length(max=100))
    number = fields.String(validate=validate.Length(max=64))
    filed_from = LocalDateTime()
    filed_to = LocalDateTime()


class LawFirmArgsSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    email = fields.Email(required=True)
    e_service_agreement = fields.Boolean(required=True)


class LawFirmSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    e_service_agreement = fields.Boolean()
    agreement_signed_at = LocalDateTime(allow_none=True)


# --- projections -------------------------------------------------------------------


class DossierSchema(Schema):
    """A dossier as file handlers see it: code, volume, holder, location, token."""

    id = fields.Integer()
    code = fields.String()
    volume = fields.Integer()
    qr_token = fields.String()
    holder_id = fields.Integer(allow_none=True)
    location = fields.String(allow_none=True)


class AddressSchema(Schema):
    text = fields.String(attribute="value")
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    source = fields.String()


class PartyNameSchema(Schema):
    """A party as the scheduler sees it: who, not how to reach them."""

    id = fields.Integer()
    role = fields.Enum(PartyRole, by_value=True)
    name = fields.String()


class PartyFullSchema(PartyNameSchema):
    id_number = fields.String(allow_none=True)
    person_id = fields.Integer(allow_none=True)
    phones = fields.Method("get_phones")
    emails = fields.Method("get_emails")
    addresses = fields.Method("get_addresses")
    law_firm_id = fields.Integer(allow_none=True)
    law_firm = fields.Nested(LawFirmSchema, allow_none=True)

    def get_phones(self, party):
        return party.values("phone")

    def get_emails(self, party):
        return party.values("email")

    def get_addresses(self, party):
        return AddressSchema(many=True).dump([c for c in party.contacts if c.kind == "address"])


class CaseMetaSchema(Schema):
    """What everyone allowed to see a case sees: no party data, no dossiers."""

    id = fields.Integer()
    number = fields.String()
    kind = fields.Enum(CaseKind, by_value=True)
    track = fields.Enum(CaseTrack, by_value=True, allow_none=True)
    venue = fields.String()
    filed_at = LocalDateTime()
    judge_id = fields.Integer()
    volumes = fields.Integer()
    status = fields.Enum(CaseStatus, by_value=True)
    deadline = LocalDateTime(attribute="deadline_at")
    closed_at = LocalDateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    mediation_likely = fields.Boolean()
    hearing_minutes = fields.Integer(allow_none=True)


def dump_case(case, view, parties=None) -> dict:
    """Project ``case`` for a caller at ``view`` (see auth.policy.CaseView)."""
    from ancillary.auth.policy import CaseLevel

    body = CaseMetaSchema().dump(case)
    if view.show_dossiers or view.level == CaseLevel.files:
        dossiers = DossierSchema(many=True, exclude=() if view.show_tokens else ("qr_token",)).dump(case.dossiers)
        body["dossiers"] = dossiers
    if view.level == CaseLevel.full:
        body["parties"] = PartyFullSchema(many=True).dump(case.parties)
        body["cause"] = case.cause
    elif view.level == CaseLevel.names:
        body["parties"] = PartyNameSchema(many=True).dump(case.parties)
        body["cause"] = case.cause
    elif view.level == CaseLevel.recipients:
        shown = [p for p in case.parties if p.id in (view.party_ids or ())]
        body["parties"] = PartyFullSchema(many=True, exclude=("id_number", "person_id")).dump(shown)
    return body


# Documented shapes for the OpenAPI description (the real body is built by dump_case).
class CaseDocSchema(CaseMetaSchema):
    cause = fields.String(allow_none=True)
    dossiers = fields.List(fields.Nested(DossierSchema))
    parties = fields.List(fields.Nested(PartyFullSchema), metadata={"description": "shaped by the caller's role"})


class CasePageSchema(Schema):
    items = fields.List(fields.Nested(CaseMetaSchema))
    total = fields.Integer()
