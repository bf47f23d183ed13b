"""KPIs for the management office and the contractor's manager."""

from flask import current_app
from flask.views import MethodView

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.openapi import Blueprint
from ancillary.reports.kpis import collect
from ancillary.reports.schemas import KpiArgsSchema, KpiSchema
from ancillary.web import roles
from ancillary.wiring import wiring_of

blp = Blueprint("Reports", __name__, url_prefix="/api/v1/reports", description="KPIs and reports")


@blp.route("/kpis")
class KpisView(MethodView):
    @roles(Role.court_admin, Role.contractor_manager)
    @blp.arguments(KpiArgsSchema, location="query")
    @blp.response(200, KpiSchema, example={"from": "2027-01-01", "to": "2027-01-31", "closed_within_limit_rate": 0.998})
    def get(self, args):
        """KPIs over local dates ``from``..``to``, both included; every rate a fraction in [0, 1]."""
        return collect(db.session, args["from_"], args["to"], current_app.config["SETTINGS"],
                       wiring_of(current_app).kpi_providers)
