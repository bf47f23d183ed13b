"""Service orders, attempts (JSON or multipart with a photo), the proof PDF, the carrier webhook."""

from __future__ import annotations

import io

from flask import current_app, jsonify, request, send_file
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError
from sqlalchemy import select

from ancillary.audit.services import log_access
from ancillary.auth.models import Role, User
from ancillary.cases.services import get_case
from ancillary.errors import Forbidden, Invalid
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.schemas import paged
from ancillary.service import attempts, queries, services
from ancillary.service.evidence import TooLarge
from ancillary.service.models import ServiceOrder
from ancillary.service.queries import OrderLevel
from ancillary.service.schemas import (
    CarrierWebhookArgsSchema,
    CarrierWebhookResultSchema,
    ServiceAttemptArgsSchema,
    ServiceOrderArgsSchema,
    ServiceOrderListArgsSchema,
    ServiceOrderPageSchema,
    ServiceOrderSchema,
    dump_order,
)
from ancillary.web import current_user, now, public, roles

blp = Blueprint("Service", __name__, url_prefix="/api/v1", description="Service of process")

SIGNATURE_HEADER = "X-Carrier-Signature"
ATTEMPT_EXAMPLE = {"channel": "personal", "outcome": "no_answer", "attempted_at": "2027-01-08T10:15:00+08:00",
                   "address": "山东省威海市环翠区统一路2号", "notes": "敲门无人应答",
                   "client_id": "c1f3e0a2-7d4b-4f7e-9a51-0b6d2e8c4a10"}
WEBHOOK_EXAMPLE = {"events": [{"tracking_number": "EA123456785CN", "event_at": "2027-01-20T15:02:00+08:00",
                               "code": "signed", "location": "威海环翠投递部", "signed_by": "李四"}]}


def settings():
    return current_app.config["SETTINGS"]


def _visible_order(order_id: int) -> tuple[ServiceOrder, OrderLevel]:
    order = services.get_order(db.session, order_id)
    return order, queries.order_level(db.session, current_user(), order)


def _log(order: ServiceOrder, level: OrderLevel, purpose: str) -> None:
    if level == OrderLevel.full:
        log_access(db.session, current_user(), order.case_id, [order.recipient_party_id], purpose, now())


def _answer(order: ServiceOrder, level: OrderLevel, status=200):
    _log(order, level, f"{request.method} {request.path}")
    response = jsonify(dump_order(order, level))
    response.status_code = status
    return response


@blp.route("/service-orders")
class ServiceOrdersView(MethodView):
    @roles(*queries.READERS)
    @blp.arguments(ServiceOrderListArgsSchema, location="query")
    @blp.response(200, ServiceOrderPageSchema, example={"items": [{
        "id": 7, "case_id": 3, "recipient_party_id": 9, "status": "in_progress", "layer": 2,
        "next_step": {"channel": "personal", "due_at": "2027-01-15T23:59:59+08:00"}, "attempts": []}], "total": 1})
    def get(self, args):
        """Service orders the caller may see (shaped by role), oldest first."""
        user = current_user()
        query = queries.visible_orders(db.session, user, select(ServiceOrder))
        for name in ("case_id", "status", "layer"):
            if name in args:
                query = query.where(getattr(ServiceOrder, name) == args[name])
        page, total = paged(db.session, query.order_by(ServiceOrder.id), args)
        orders = db.session.scalars(page).all()
        items = []
        for order in orders:
            level = queries.order_level(db.session, user, order)
            _log(order, level, f"{request.method} {request.path}")
            items.append(dump_order(order, level))
        return jsonify({"items": items, "total": total})

    @roles(Role.judge, Role.enforcement_officer, Role.court_admin)
    @blp.arguments(ServiceOrderArgsSchema, example={"case_id": 3, "party_id": 8, "documents": "判决书"})
    @blp.response(201, ServiceOrderSchema, example={
        "id": 12, "case_id": 3, "recipient_party_id": 8, "documents": "判决书", "status": "pending", "layer": 1,
        "next_step": {"channel": "sms", "due_at": "2027-01-07T23:59:59+08:00"},
        "attempts": [{"seq": 1, "channel": "address_reuse", "outcome": "failed"}]})
    def post(self, args):
        """Open an order for another party or later documents; a serve task opens with it."""
        from ancillary.auth.policy import case_view
        from ancillary.cases.models import Party

        case = get_case(db.session, args["case_id"])
        case_view(db.session, current_user(), case)  # judges: own cases only
        party = db.session.get(Party, args["party_id"])
        if party is None:
            raise Invalid("unknown_party", "there is no such party: choose one of the case's parties",
                          field="party_id", id=args["party_id"])
        order = services.open_on_demand(db.session, case, party, documents=args["documents"], actor=current_user(),
                                        now=now(), settings=settings())
        return _answer(order, OrderLevel.full, 201)


@blp.route("/service-orders/<int:order_id>")
class ServiceOrderView(MethodView):
    @roles(*queries.READERS)
    @blp.response(200, ServiceOrderSchema, example={
        "id": 7, "case_id": 3, "recipient_party_id": 9, "status": "served", "layer": 2,
        "served_at": "2027-01-08T10:15:00+08:00", "legal_service_date": "2027-01-08", "next_step": None,
        "attempts": [{"seq": 1, "channel": "address_reuse", "outcome": "delivered"},
                     {"seq": 2, "channel": "personal", "outcome": "served", "latitude": 37.51, "longitude": 122.12}]})
    def get(self, order_id):
        """One order: in full for its clerk, the case's judge and the office; the outcome for others."""
        order, level = _visible_order(order_id)
        return _answer(order, level)


def _attempt_input(limit: int):
    """The attempt as JSON, or as a multipart form with a ``photo`` file; 413 early when too big."""
    if request.content_length is not None and request.content_length > limit + 256 * 1024:
        raise TooLarge("photo_too_large", "the photo is larger than {limit} MB", field="photo",
                       limit=limit // (1024 * 1024))
    photo = None
    if request.mimetype == "multipart/form-data":
        raw, location = request.form.to_dict(), "form"
        upload = request.files.get("photo")
        if upload is not None:
            photo = upload.stream.read(limit + 1)
            if len(photo) > limit:
                raise TooLarge("photo_too_large", "the photo is larger than {limit} MB", field="photo",
                               limit=limit // (1024 * 1024))
        elif "photo" in raw:
            raise Invalid("photo_not_a_file", "send the photo as a file part", field="photo")
    elif request.is_json:
        raw, location = request.get_json(silent=True), "json"
        if not isinstance(raw, dict):
            abort(400, messages={"json": {"_schema": ["The body is not a JSON object."]}})
    else:
        abort(415)
    try:
        data = ServiceAttemptArgsSchema().load(raw)
    except ValidationError as error:
        abort(422, messages={location: error.messages})
    return data, photo


@blp.route("/service-orders/<int:order_id>/attempts")
class AttemptsView(MethodView):
    @roles(Role.service_clerk, Role.judge, Role.enforcement_officer, Role.court_admin)
    @blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": ServiceAttemptArgsSchema, "example": ATTEMPT_EXAMPLE},
        "multipart/form-data": {
            "schema": {"allOf": [{"$ref": "#/components/schemas/ServiceAttemptArgs"},
                                 {"type": "object", "properties": {"photo": {"type": "string", "format": "binary"}}}]},
            "example": {"channel": "posting", "attempted_at": "2027-02-01T10:00:00+08:00",
                        "notes": "邮件退回后张贴送达"}},
    }})
    @blp.response(201, ServiceOrderSchema, example={"id": 7, "status": "served", "layer": 3, "next_step": None})
    @blp.alt_response(200, schema=ServiceOrderSchema, example={"id": 7, "status": "served", "layer": 3},
                      description="a resend with the same client_id: nothing recorded, the order as it is")
    @errors(400, 409, 422)
    def post(self, order_id):
        """Record an attempt (the clerk holding the task; the judge orders public notice); answers the order.

        With ``client_id``, a resend of an attempt already recorded answers 200 and records nothing.
        """
        order, level = _visible_order(order_id)
        if level != OrderLevel.full:
            raise Forbidden("not_your_order", "you may not record attempts on this order")
        data, photo = _attempt_input(settings().photo_max_bytes)
        if attempts.replayed_attempt(db.session, order, data.client_id) is not None:
            return _answer(order, level, 200)  # a resend of a recorded attempt: nothing changes
        attempts.record_attempt(db.session, order, data, photo=photo, actor=current_user(), now=now(),
                                settings=settings())
        db.session.flush()  # the answer shows the attempt with its id
        return _answer(order, level, 201)


@blp.route("/service-orders/<int:order_id>/proof.pdf")
class ProofView(MethodView):
    @roles(Role.service_clerk, Role.judge, Role.enforcement_officer, Role.court_admin)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="the proof of service, with every attempt, its photos and their SHA-256",
                  example="%PDF-1.4 ...")
    def get(self, order_id):
        """Proof of service as PDF: every attempt with time, place, person, channel, outcome, photos."""
        from ancillary.service.proof import render_proof

        order, level = _visible_order(order_id)
        if level != OrderLevel.full:
            raise Forbidden("not_your_order", "the proof of service shows contact data you may not see")
        actor_ids = {a.actor_id for a in order.attempts if a.actor_id}
        users = {u.id: u.display_name for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
        pdf = render_proof(order, settings=settings(), now=now(), users=users)
        _log(order, level, f"{request.method} {request.path}")
        return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=f"proof-{order.id}.pdf")


@blp.route("/webhooks/carrier")
class CarrierWebhookView(MethodView):
    @public
    @blp.doc(security=[], requestBody={"required": True, "content": {"application/json": {
        "schema": CarrierWebhookArgsSchema, "example": WEBHOOK_EXAMPLE}}},
        parameters=[{"in": "header", "name": SIGNATURE_HEADER, "required": True,
                     "schema": {"type": "string"}, "description": "sha256=<hex HMAC-SHA256 of the body>"}])
    @blp.response(200, CarrierWebhookResultSchema, example={"applied": 1, "duplicates": 0, "unknown": []})
    @errors(403)
    @errors(422)
    def post(self):
        """Carrier tracking events, signed with the shared secret; 403 when the signature fails."""
        from ancillary.service.carrier import CarrierEventIn  # noqa: F401  (the events' type)
        from notifications.webhooks import check_body_signature

        body = request.get_data(cache=True)
        if not check_body_signature(settings().carrier_secret, body, request.headers.get(SIGNATURE_HEADER)):
            raise Forbidden("bad_signature", "the carrier signature is missing or wrong")
        raw = request.get_json(silent=True)
        if not isinstance(raw, dict):
            abort(400, messages={"json": {"_schema": ["The body is not a JSON object."]}})
        try:
            data = CarrierWebhookArgsSchema().load(raw)
        except ValidationError as error:
            abort(422, messages={"json": error.messages})
        result = {"applied": 0, "duplicates": 0, "unknown": []}
        from ancillary.errors import NotFound

        for index, event in enumerate(data["events"]):
            try:
                outcome = services.apply_carrier_event(db.session, event, source="webhook", now=now(),
                                                       settings=settings())
            except NotFound:
                result["unknown"].append(event.tracking_number)
                continue
            except Invalid as error:
                error.field = f"events.{index}.{error.field}"
                raise
            result["applied" if outcome == "applied" else "duplicates"] += 1
        return result
