"""GET /healthz (the process answers) and GET /readyz (it can do its work)."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from ancillary.extensions import db
from ancillary.openapi import Blueprint
from ancillary.ops import queries
from ancillary.ops.schemas import HEALTH_EXAMPLE, READY_EXAMPLE, HealthSchema, ReadySchema
from ancillary.timeutil import utcnow
from ancillary.web import public

blp = Blueprint("Ops", __name__, url_prefix="/", description="Health and readiness, for load balancers and people")


@blp.route("/healthz")
class HealthView(MethodView):
    @public
    @blp.response(200, HealthSchema, example=HEALTH_EXAMPLE)
    def get(self):
        """Say the process is up (nothing else is checked)."""
        return {"ok": True}


@blp.route("/readyz")
class ReadyView(MethodView):
    @public
    @blp.response(200, ReadySchema, example={**READY_EXAMPLE, "ready": True})
    @blp.alt_response(503, schema=ReadySchema, example=READY_EXAMPLE, description="not ready: the checks say why")
    def get(self):
        """Check the database, its schema and the scheduler's heartbeat; 503 naming what is wrong."""
        settings = current_app.config["SETTINGS"]
        # The heartbeat is written with the wall clock, so it is read against the wall clock.
        body = queries.readiness(db.session, utcnow(), settings.heartbeat_seconds)
        return body, 200 if body["ready"] else 503
