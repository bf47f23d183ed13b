"""Scans (JSON code or a photo), labels, custody chains, verification, where-is."""

from __future__ import annotations

import threading
from datetime import timedelta

from flask import Response, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError
from sqlalchemy import func, select

from ancillary.auth.models import CONTRACTOR_ROLES, Role, User
from ancillary.auth.policy import TOKEN_ROLES
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.custody import answers, queries, services
from ancillary.custody.models import CustodyEvent, CustodyHead
from ancillary.custody.schemas import (
    CustodySchema,
    DecodeResultSchema,
    DossierWherePageSchema,
    LookupArgsSchema,
    LookupSchema,
    RecentScansArgsSchema,
    ScanArgsSchema,
    ScanFormSchema,
    ScanResultSchema,
    WhereArgsSchema,
    scan_args,
)
from ancillary.custody.timeline_pdf import render_timeline
from ancillary.display_names import N_
from ancillary.errors import DomainError, Invalid
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.schemas import paged
from ancillary.web import current_user, now, pause_transaction, roles

blp = Blueprint("Custody", __name__, url_prefix="/api/v1",
                description="QR labels, scans, custody chains and their verification")

SCAN_EXAMPLE = {
    "code": "ANC1.K1.DS0000123-01.ABCDEFGHIJKLMNOPQRSTUVWX",
    "action": "receive",
    "location": "审判组 3楼 卷宗柜A",
    "client_scan_id": "7f9c2d1e-0b7a-4c55-9a3e-2f1d9c0e8b11",
}
SCAN_RESULT_EXAMPLE = {
    "dossier_id": 123, "code": "DS0000123-01", "case_number": "(2027)鲁1002民初123号", "volume": 1,
    "action": "receive", "holder": {"id": 7, "username": "file01", "display_name": "王芳"},
    "location": "审判组 3楼 卷宗柜A", "seq": 4, "hash": "9b1c…(64 hex)", "conflict": False,
    "scanned_at": None, "recorded_at": "2027-01-04T09:30:00+08:00",
}
EVENT_EXAMPLE = {
    "id": 812, "seq": 4, "action": "receive", "from_holder": {"id": 5, "username": "intake01", "display_name": "李娜"},
    "to_holder": {"id": 7, "username": "file01", "display_name": "王芳"}, "location": "审判组 3楼 卷宗柜A",
    "scanned_at": "2027-01-04T09:29:58+08:00", "recorded_at": "2027-01-04T09:30:00+08:00",
    "happened_at": "2027-01-04T09:29:58+08:00", "actor": {"id": 7, "username": "file01", "display_name": "王芳"},
    "client_scan_id": "phone-7-000123", "details": None, "conflict": False, "prev_hash": "3f0a…(64 hex)",
    "hash": "9b1c…(64 hex)",
}
CUSTODY_EXAMPLE = {
    "dossier_id": 123, "code": "DS0000123-01", "case_number": "(2027)鲁1002民初123号", "volume": 1,
    "holder": {"id": 7, "username": "file01", "display_name": "王芳"}, "location": "审判组 3楼 卷宗柜A",
    "events": [EVENT_EXAMPLE], "verified": True, "first_bad_event": None,
}
WHERE_EXAMPLE = {"items": [{"dossier_id": 123, "code": "DS0000123-01", "case_id": 41,
                            "case_number": "(2027)鲁1002民初123号", "case_status": "open", "volume": 1, "holder_id": 7,
                            "location": "审判组 3楼 卷宗柜A", "last_moved_at": "2027-01-04T09:30:00+08:00"}],
                 "total": 1}
CHAIN_ROLES = tuple(services.CHAIN_READERS | services.OFFICER_ROLES)
IMAGE_ERROR_STATUS = {"too_large": 413, "not_an_image": 415, "busy": 503}
# At most two photos are decoded at once in a process (two cores; a decode may hold some
# 50 MB of pixels): a third upload waits its turn, and is told to retry if the wait is long.
DECODE_SLOTS = threading.BoundedSemaphore(2)
DECODE_WAIT_SECONDS = 10.0


# Made once: building a schema costs more than loading a scan with it.
_SCAN_ARGS, _SCAN_FORM = ScanArgsSchema(), ScanFormSchema()


def settings():
    return current_app.config["SETTINGS"]


def user_ref(session, user_id):
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def scan_body(session, event: CustodyEvent) -> dict:
    """The scan answer: derived from the stored event only, so a replay answers the same."""
    dossier = session.get(Dossier, event.dossier_id)
    return {
        "dossier_id": dossier.id, "code": dossier.code, "case_number": dossier.case.number,
        "volume": dossier.volume, "action": event.action.value, "holder": user_ref(session, event.to_holder_id),
        "location": event.location, "seq": event.seq, "hash": event.hash, "conflict": event.conflict,
        "scanned_at": event.device_at, "recorded_at": event.server_at,
        "typed": (event.details or {}).get("entry") == "typed",
    }


def _respond(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def _load(schema, data, location):
    try:
        return schema.load(data)
    except ValidationError as err:
        abort(422, messages={location: err.messages})


def read_image(field: str = "image") -> bytes:
    """The uploaded picture's bytes; 413 past the upload limit (werkzeug refuses early)."""
    upload = request.files.get(field)
    if upload is None:
        raise Invalid("image_required", "send the photo as the multipart file part 'image'", field=field)
    return upload.read()


def decode_upload(data: bytes) -> list[str]:
    """Every QR text in the picture, or a clear 4xx for a picture that cannot be read."""
    from scanners.decoding import ImageError, decode_image

    pause_transaction()  # the picture's decoding holds no database lock
    if not DECODE_SLOTS.acquire(timeout=DECODE_WAIT_SECONDS):
        raise _image_error("busy")
    try:
        return decode_image(data)
    except ImageError as exc:
        raise _image_error(exc.reason) from None
    finally:
        DECODE_SLOTS.release()


def _image_error(reason: str) -> DomainError:
    error = DomainError(f"image_{reason}", IMAGE_MESSAGES[reason], field="image")
    error.status = IMAGE_ERROR_STATUS.get(reason, 422)
    return error


IMAGE_MESSAGES = {
    "empty": N_("the image is empty"),
    "not_an_image": N_("the upload is not a picture in a known format"),
    "truncated": N_("the picture is incomplete (truncated upload)"),
    "too_large": N_("the picture is too large"),
    "unreadable": N_("the picture cannot be read"),
    "busy": N_("the server is reading other photos right now: try again in a moment"),
}


def pick_label(codes: list[str]) -> str:
    """The one dossier label in a photo: none, or several different ones, is a 422."""
    from scanners.tokens import TOKEN_RE

    if not codes:
        raise Invalid("no_code_found", "no QR code was found in the photo: hold the label flat and closer",
                      field="image")
    ours = [c for c in codes if TOKEN_RE.match(c)]
    if len(ours) > 1:
        raise Invalid("several_labels", "the photo shows {count} dossier labels: photograph one at a time",
                      field="image", count=len(ours))
    return ours[0] if ours else codes[0]


@blp.route("/scans")
class ScansView(MethodView):
    @roles(*services.SCAN_ROLES)
    @blp.doc(requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": ScanArgsSchema, "example": SCAN_EXAMPLE},
            "multipart/form-data": {"schema": {
                "type": "object", "required": ["image", "action"],
                "properties": {"image": {"type": "string", "format": "binary"},
                               "action": {"type": "string", "enum": ["receive", "store"]},
                               "location": {"type": "string"}, "client_scan_id": {"type": "string"},
                               "scanned_at": {"type": "string", "format": "date-time"}}}},
        },
    })
    @blp.response(201, ScanResultSchema, example=SCAN_RESULT_EXAMPLE,
                  description="recorded; a replay of the same client_scan_id answers 200 with the same body")
    @blp.alt_response(200, schema=ScanResultSchema, description="a replay: nothing changed",
                      example=SCAN_RESULT_EXAMPLE)
    @errors(400, 404, 409, 422, 503)
    def post(self):
        """Scan a dossier label: `receive` signs for it, `store` puts it into a location."""
        if request.mimetype == "multipart/form-data":
            args = _load(_SCAN_FORM, request.form.to_dict(), "form")
            if not args.get("code"):
                args["code"] = pick_label(decode_upload(read_image()))
        else:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                abort(400, messages={"json": {"_schema": ["the body is not a JSON object"]}})
            args = scan_args(body) or _load(_SCAN_ARGS, body, "json")
        result = services.scan(
            db.session, keyring=settings().qr_keyring, code=args["code"], action=args["action"],
            location=args.get("location"), client_scan_id=args.get("client_scan_id"),
            device_at=args.get("scanned_at"), actor=current_user(), now=now(), typed=args.get("typed", False),
        )
        tz = settings().timezone
        if result.replayed:
            return _respond(answers.shown(scan_body(db.session, result.event), tz), 200)
        return _respond(answers.recorded(result.recorded, tz), 201)


@blp.route("/dossiers/lookup")
class LookupView(MethodView):
    @roles(*services.SCAN_ROLES)
    @blp.arguments(LookupArgsSchema, location="query")
    @blp.response(200, LookupSchema, example={
        "dossier_id": 123, "code": "DS0000123-01", "case_number": "(2027)鲁1002民初123号", "volume": 1,
        "holder": {"id": 9, "username": "file01", "display_name": "王芳"}, "location": "档案室 A-3",
        "last_action": "store", "last_moved_at": "2027-01-05T10:00:00+08:00", "chain_length": 2})
    def get(self, args):
        """Where a dossier is and who holds it, from its label or its typed code; nothing is recorded."""
        dossier = services.dossier_to_read(db.session, settings().qr_keyring, args["code"], typed=args["typed"])
        services.check_scanner(current_user(), dossier.case)
        events = services.chain(db.session, dossier)
        last = events[-1] if events else None
        return {"dossier_id": dossier.id, "code": dossier.code, "case_number": dossier.case.number,
                "volume": dossier.volume, "holder": user_ref(db.session, dossier.holder_id),
                "location": dossier.location, "last_action": last.action.value if last else None,
                "last_moved_at": last.server_at if last else None, "chain_length": len(events)}


@blp.route("/scans/decode")
class DecodeView(MethodView):
    @roles(*services.SCAN_ROLES)
    @blp.doc(requestBody={"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["image"], "properties": {"image": {"type": "string", "format": "binary"}}}}}})
    @blp.response(200, DecodeResultSchema, example={"codes": ["ANC1.K1.DS0000123-01.ABCDEFGHIJKLMNOPQRSTUVWX"]})
    def post(self):
        """Read every QR code in a photo (nothing is recorded)."""
        return {"codes": decode_upload(read_image())}


@blp.route("/scans/mine")
class RecentScansView(MethodView):
    @roles(*services.SCAN_ROLES)
    @blp.arguments(RecentScansArgsSchema, location="query")
    @blp.response(200, ScanResultSchema(many=True), example=[SCAN_RESULT_EXAMPLE])
    def get(self, args):
        """The caller's latest scans, newest first (the scan station's list)."""
        return [scan_body(db.session, e) for e in services.recent_scans(db.session, current_user(), args["limit"])]


def _event_dict(session, event: CustodyEvent) -> dict:
    return {
        "id": event.id, "seq": event.seq, "action": event.action,
        "from_holder": user_ref(session, event.from_holder_id), "to_holder": user_ref(session, event.to_holder_id),
        "location": event.location, "device_at": event.device_at, "server_at": event.server_at,
        "effective_at": event.effective_at, "actor": user_ref(session, event.actor_id),
        "client_scan_id": event.client_scan_id, "details": event.details, "conflict": event.conflict,
        "prev_hash": event.prev_hash, "hash": event.hash,
    }


@blp.route("/dossiers/<int:dossier_id>/custody")
class CustodyView(MethodView):
    @roles(*CHAIN_ROLES)
    @blp.response(200, CustodySchema, example=CUSTODY_EXAMPLE)
    def get(self, dossier_id):
        """A dossier's custody chain in the order things happened, and whether it verifies."""
        dossier = services.get_dossier(db.session, dossier_id)
        services.check_chain_reader(current_user(), dossier.case)
        verification = services.verify_chains(db.session, dossier.id)
        return {
            "dossier_id": dossier.id, "code": dossier.code, "case_number": dossier.case.number,
            "volume": dossier.volume, "holder": user_ref(db.session, dossier.holder_id),
            "location": dossier.location,
            "events": [_event_dict(db.session, e) for e in services.chain(db.session, dossier)],
            "verified": verification.ok,
            "first_bad_event": verification.first_bad_event.as_dict() if verification.first_bad_event else None,
        }


@blp.route("/dossiers/<int:dossier_id>/custody.pdf")
class CustodyPdfView(MethodView):
    @roles(*CHAIN_ROLES)
    @blp.response(200, description="the dossier's custody timeline, A4 PDF with the CJK font embedded",
                  content_type="application/pdf")
    def get(self, dossier_id):
        """A dossier's custody timeline as a PDF: who, when, where, how, and whether the chain verifies."""
        dossier = services.get_dossier(db.session, dossier_id)
        services.check_chain_reader(current_user(), dossier.case)
        verification = services.verify_chains(db.session, dossier.id)
        tz = settings().timezone
        pdf = render_timeline(dossier, queries.timeline(db.session, dossier, tz), verified=verification.ok,
                              problem=queries.describe_bad(db.session, verification, tz), settings=settings(),
                              now=now())
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="custody-{dossier.code}.pdf"'})


@blp.route("/custody/dossiers")
class WhereView(MethodView):
    @roles(*services.CHAIN_READERS)
    @blp.arguments(WhereArgsSchema, location="query")
    @blp.response(200, DossierWherePageSchema, example=WHERE_EXAMPLE)
    def get(self, args):
        """Where are the dossiers: by holder, by location, idle for N days, with contractors after closing."""
        query = (select(Dossier, CustodyHead.last_at).join(Case, Case.id == Dossier.case_id)
                 .outerjoin(CustodyHead, CustodyHead.dossier_id == Dossier.id))
        if "holder_id" in args:
            query = query.where(Dossier.holder_id == args["holder_id"])
        if "location" in args:
            query = query.where(Dossier.location == args["location"])
        if "idle_days" in args:
            cutoff = now() - timedelta(days=args["idle_days"])
            moved = func.coalesce(CustodyHead.last_at, Dossier.created_at)
            query = query.where(moved <= cutoff, Case.status != CaseStatus.archived)
        if args.get("closed_with_contractor"):
            staff = select(User.id).where(User.role.in_(sorted(CONTRACTOR_ROLES - {Role.archivist})))
            query = query.where(Case.status == CaseStatus.closed, Dossier.holder_id.in_(staff))
        page, total = paged(db.session, query.order_by(Dossier.id), args)
        rows = db.session.execute(page).all()
        items = []
        for dossier, last_at in rows:
            dossier.last_moved_at = last_at
            items.append(dossier)
        return {"items": items, "total": total}


@blp.route("/dossiers/<int:dossier_id>/label.png")
class LabelView(MethodView):
    @roles(*TOKEN_ROLES)
    @blp.response(200, description="the dossier's QR label, PNG at 300 dpi (70 x 37 mm)",
                  content_type="image/png")
    def get(self, dossier_id):
        """The printable QR label of one dossier."""
        from scanners.labels import render_label_png

        dossier = services.get_dossier(db.session, dossier_id)
        png = render_label_png(label_info(dossier))
        return Response(png, mimetype="image/png",
                        headers={"Content-Disposition": f'inline; filename="{dossier.code}.png"'})


@blp.route("/cases/<int:case_id>/labels.pdf")
class CaseLabelSheetView(MethodView):
    @roles(*TOKEN_ROLES)
    @blp.response(200, description="an A4 sheet (3 x 8 labels a page) with one label per volume of the case",
                  content_type="application/pdf", example="%PDF-1.4 ...")
    def get(self, case_id):
        """The case's printable A4 label sheet: one QR label per dossier, in volume order."""
        from ancillary.cases.services import get_case
        from scanners.labels import render_label_sheet_pdf

        case = get_case(db.session, case_id)
        dossiers = sorted(case.dossiers, key=lambda d: d.volume)
        pdf = render_label_sheet_pdf([label_info(d) for d in dossiers])
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="labels-case-{case.id}.pdf"'})


def label_info(dossier: Dossier):
    from scanners.labels import LabelInfo

    return LabelInfo(token=dossier.qr_token, court_name=settings().court_name, case_number=dossier.case.number,
                     volume=dossier.volume, dossier_code=dossier.code)
