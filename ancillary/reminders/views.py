"""Notifications, acknowledgements, Twilio webhooks, enforcement nodes, follow-up queues."""

from __future__ import annotations

import functools

from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy import select
from twilio.twiml.messaging_response import MessagingResponse

from ancillary.audit.services import log_access
from ancillary.auth.models import Role
from ancillary.auth.policy import case_view
from ancillary.errors import Forbidden
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.outbox import Notification, apply_provider_status, get_notification
from ancillary.reminders import queries, services
from ancillary.reminders.models import EnforcementRecord
from ancillary.reminders.schemas import (
    NOTIFICATION_EXAMPLE,
    EnforcementNodesArgsSchema,
    EnforcementNodesSchema,
    InboundSmsSchema,
    NotificationListArgsSchema,
    NotificationPageSchema,
    NotificationSchema,
    NotificationStatusSchema,
    QueueArgsSchema,
    QueuePageSchema,
    RemindArgsSchema,
    StatusCallbackSchema,
)
from ancillary.schemas import paged
from ancillary.web import current_user, now, public, roles
from notifications.webhooks import check_twilio_signature

blp = Blueprint("Reminders", __name__, url_prefix="/api/v1", description="Notifications, reminders, webhooks")

EVERYONE = tuple(Role)
NODE_EDITORS = (Role.enforcement_officer, Role.judge, Role.follow_up, Role.court_admin)


def settings():
    return current_app.config["SETTINGS"]


def twilio_signed(func_):
    """Refuse (403) a webhook whose X-Twilio-Signature is not Twilio's for the public URL."""

    @functools.wraps(func_)
    def wrapper(*args, **kwargs):
        s = settings()
        if not check_twilio_signature(s.twilio_auth_token, s.public_url, request.full_path,
                                      request.form, request.headers.get("X-Twilio-Signature")):
            raise Forbidden("bad_signature", "the X-Twilio-Signature header does not match this request")
        return func_(*args, **kwargs)

    return wrapper


@blp.route("/notifications")
class NotificationsView(MethodView):
    @roles(*EVERYONE)
    @blp.arguments(NotificationListArgsSchema, location="query")
    @blp.response(200, NotificationPageSchema, example={"items": [NOTIFICATION_EXAMPLE], "total": 1})
    def get(self, args):
        """Messages the caller may see, newest first (a judge: their own; the management office: all)."""
        user = current_user()
        query = queries.visible_notifications(db.session, user, select(Notification))
        for name in ("status", "kind", "recipient_id", "case_id"):
            if name in args:
                query = query.where(getattr(Notification, name) == args[name])
        if args.get("unacked"):
            query = query.where(Notification.needs_ack.is_(True), Notification.acked_at.is_(None))
        page, total = paged(db.session, query.order_by(Notification.created_at.desc(), Notification.id.desc()), args)
        rows = db.session.scalars(page).all()
        items = [queries.project(user, n) for n in rows]
        for row, item in zip(rows, items, strict=True):
            # Someone else's message (a service SMS names the party and their phone) is party data.
            if row.recipient_id != user.id and (item["body"] or item["to_address"]):
                log_access(db.session, user, row.case_id, [], "notifications.list", now(),
                           object_type="notifications", object_id=row.id)
        return {"items": items, "total": total}


@blp.route("/notifications/<int:notification_id>/ack")
class NotificationAckView(MethodView):
    @roles(*EVERYONE)
    @blp.response(200, NotificationSchema, example=NOTIFICATION_EXAMPLE)
    def post(self, notification_id):
        """Acknowledge one of one's own messages: an action reminder's loop closes (403 for others')."""
        user = current_user()
        row = get_notification(db.session, notification_id)
        services.acknowledge(db.session, row, actor=user, now=now(), via="api")
        return queries.project(user, row)


@blp.route("/webhooks/twilio/status")
class TwilioStatusView(MethodView):
    @public
    @twilio_signed
    @blp.arguments(StatusCallbackSchema, location="form",
                   example={"MessageSid": "SM0123456789abcdef0123456789abcdef", "MessageStatus": "delivered"})
    @blp.response(200, NotificationStatusSchema, example={"id": 17, "status": "delivered"})
    @errors(403, 404)
    def post(self, args):
        """Twilio's delivery status callback (signed; 403 otherwise; 404 for a message we did not send)."""
        notification_id = request.args.get("notification", type=int)
        row = apply_provider_status(db.session, provider_id=args["MessageSid"], status=args["MessageStatus"],
                                             now=now(), error_code=args.get("ErrorCode"),
                                             notification_id=notification_id)
        return row


@blp.route("/webhooks/twilio/inbound")
class TwilioInboundView(MethodView):
    @public
    @twilio_signed
    @blp.arguments(InboundSmsSchema, location="form", example={"From": "+8613800000012", "Body": "OK 4821"})
    @blp.response(200, description="TwiML: a <Message> reply, or an empty <Response/>")
    @errors(403)
    def post(self, args):
        """An SMS reply: OK [code] acknowledges; STOP / START for contractor staff and parties."""
        reply = services.handle_inbound(db.session, from_number=args["From"], body=args.get("Body", ""), now=now())
        twiml = MessagingResponse()
        if reply:
            twiml.message(reply)
        return Response(twiml.to_xml(), status=200, mimetype="application/xml")


def _enforcement_case(case_id):
    from ancillary.cases.services import get_case

    case = get_case(db.session, case_id)
    user = current_user()
    case_view(db.session, user, case)  # officers: their own; follow-up: paired officers' cases
    return case


def _nodes_body(case, row):
    body = {"case_id": case.id, "updated_at": None, "updated_by_id": None}
    for name in services.NODE_FIELDS:
        body[name] = getattr(row, name) if row else None
    if row:
        body["updated_at"], body["updated_by_id"] = row.updated_at, row.updated_by_id
    return body


NODES_EXAMPLE = {"case_id": 57, "property_search_started_at": "2027-01-05T10:00:00+08:00",
                 "fully_seized_at": "2027-01-20T15:00:00+08:00", "auction_at": None, "auction_measures_at": None,
                 "payment_received_at": None, "payment_released_at": None,
                 "updated_at": "2027-01-20T15:02:11+08:00", "updated_by_id": 34}


@blp.route("/cases/<int:case_id>/enforcement-nodes")
class EnforcementNodesView(MethodView):
    @roles(*NODE_EDITORS, Role.contractor_manager)
    @blp.response(200, EnforcementNodesSchema, example=NODES_EXAMPLE)
    def get(self, case_id):
        """The node dates of an enforcement case."""
        case = _enforcement_case(case_id)
        return _nodes_body(case, db.session.get(EnforcementRecord, case.id))

    @roles(*NODE_EDITORS)
    @blp.arguments(EnforcementNodesArgsSchema,
                   example={"property_search_started_at": "2027-01-05T10:00:00+08:00",
                            "fully_seized_at": "2027-01-20T15:00:00+08:00"})
    @blp.response(200, EnforcementNodesSchema, example=NODES_EXAMPLE)
    def put(self, args, case_id):
        """Record node dates (property search, full seizure, auction, measures, payment received/released)."""
        case = _enforcement_case(case_id)
        row = services.record_enforcement_nodes(db.session, case, args, actor=current_user(), now=now())
        return _nodes_body(case, row)


@blp.route("/follow-up-posts/<int:post_id>/queue")
class PostQueueView(MethodView):
    @roles(Role.follow_up, Role.court_admin, Role.contractor_manager)
    @blp.arguments(QueueArgsSchema, location="query")
    @blp.response(200, QueuePageSchema, example={"items": [{
        "officer_id": 12, "case_id": 3, "case_number": "(2027)鲁1002执301号", "node": "property_search",
        "due_at": "2027-01-11T23:59:59+08:00", "state": "overdue", "last_reminded_at": "2027-01-12T08:00:00+08:00"}],
        "total": 1})
    def get(self, args, post_id):
        """The post's officers' due-soon and overdue nodes, overdue first."""
        post = queries.get_post(db.session, post_id)
        queries.check_post_reader(current_user(), post)
        items = queries.post_queue(db.session, post, now(), settings(), officer_id=args.get("officer_id"),
                                   horizon_days=args["horizon_days"])
        return {"items": items, "total": len(items)}


@blp.route("/follow-up-posts/<int:post_id>/remind")
class PostRemindView(MethodView):
    @roles(Role.follow_up)
    @blp.arguments(RemindArgsSchema, example={"officer_id": 12})
    @blp.response(201, NotificationSchema, example=NOTIFICATION_EXAMPLE)
    @errors(409)
    def post(self, args, post_id):
        """Remind an officer now of their due and overdue nodes, through the outbox (quiet hours apply)."""
        user = current_user()
        post = queries.get_post(db.session, post_id)
        if post.user_id != user.id:
            raise Forbidden("not_your_post", "this follow-up post is not yours", id=post_id)
        row = services.remind_now(db.session, post, officer_id=args["officer_id"], case_id=args.get("case_id"),
                                  actor=user, now=now(), settings=settings())
        return queries.project(user, row)
