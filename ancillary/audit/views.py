"""The audit trail and the party-data access log, for the management office."""

from flask.views import MethodView
from sqlalchemy import select

from ancillary.audit.models import AccessLogEntry, AuditEntry
from ancillary.audit.schemas import AccessListArgsSchema, AccessPageSchema, AuditListArgsSchema, AuditPageSchema
from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.openapi import Blueprint
from ancillary.schemas import paged
from ancillary.web import roles

blp = Blueprint("Audit", __name__, url_prefix="/api/v1/audit", description="Audit trail and access log")

AUDIT_EXAMPLE = {"id": 120, "at": "2027-01-04T09:31:02+08:00", "actor_id": 5, "action": "task.claim",
                 "object_type": "tasks", "object_id": 9, "case_id": 1, "before": {"status": "open"},
                 "after": {"status": "claimed", "assignee_id": 5}}
ACCESS_EXAMPLE = {"id": 77, "at": "2027-01-04T10:02:11+08:00", "user_id": 12, "case_id": 1, "party_ids": [1, 2],
                  "purpose": "GET /api/v1/cases/1"}


def _page(model, args, filters, time_column):
    query = select(model)
    for name in filters:
        if name in args:
            query = query.where(getattr(model, name) == args[name])
    if "since" in args:
        query = query.where(time_column >= args["since"])
    if "until" in args:
        query = query.where(time_column <= args["until"])
    page, total = paged(db.session, query.order_by(model.id.desc()), args)
    items = db.session.scalars(page).all()
    return {"items": items, "total": total}


@blp.route("/entries")
class AuditEntriesView(MethodView):
    @roles(Role.court_admin)
    @blp.arguments(AuditListArgsSchema, location="query")
    @blp.response(200, AuditPageSchema, example={"items": [AUDIT_EXAMPLE], "total": 1})
    def get(self, args):
        """Every state change: who, what, before and after, when (newest first)."""
        return _page(AuditEntry, args, ("case_id", "actor_id", "action", "object_type", "object_id"), AuditEntry.at)


@blp.route("/access-log")
class AccessLogView(MethodView):
    @roles(Role.court_admin)
    @blp.arguments(AccessListArgsSchema, location="query")
    @blp.response(200, AccessPageSchema, example={"items": [ACCESS_EXAMPLE], "total": 1})
    def get(self, args):
        """Every read of party data: who, which case and parties, through what (newest first)."""
        return _page(AccessLogEntry, args, ("case_id", "user_id"), AccessLogEntry.at)
