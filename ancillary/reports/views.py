"""KPIs and release patterns for the management office and the contractor's manager."""

from datetime import timedelta

from flask import Response, current_app
from flask.views import MethodView
from flask_babel import gettext

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.openapi import Blueprint
from ancillary.reports import dashboard
from ancillary.reports.kpis import collect
from ancillary.reports.release_patterns import release_patterns
from ancillary.reports.schemas import (
    DashboardArgsSchema,
    DashboardSchema,
    KpiArgsSchema,
    KpiSchema,
    ReleasePatternArgsSchema,
    ReleasePatternPageSchema,
)
from ancillary.timeutil import local_day_start
from ancillary.web import now, roles
from ancillary.wiring import wiring_of

blp = Blueprint("Reports", __name__, url_prefix="/api/v1/reports", description="KPIs and reports")


@blp.route("/kpis")
class KpisView(MethodView):
    @roles(Role.court_admin, Role.contractor_manager)
    @blp.arguments(KpiArgsSchema, location="query")
    @blp.response(200, KpiSchema, example={"from": "2027-01-01", "to": "2027-01-31", "closed_within_limit_rate": 0.998,
                                           "speedy_heard_within_7_days_rate": 0.95,
                                           "speedy_placeable_heard_within_7_days_rate": 1.0,
                                           "speedy_unplaceable": 16})
    def get(self, args):
        """KPIs over local dates ``from``..``to``, both included; every rate a fraction in [0, 1]."""
        return collect(db.session, args["from_"], args["to"], current_app.config["SETTINGS"],
                       wiring_of(current_app).kpi_providers)


RELEASE_EXAMPLE = {"from": "2027-01-04", "to": "2027-01-10", "items": [{
    "user_id": 12, "username": "serve03", "display_name": "王芳", "claims": 14, "releases": 9, "unusual": True,
    "reasons": ["在阅读受送达人联系方式后 60 分钟内退回 6 个任务，且未记录送达"],
    "quick_releases": [{"task_id": 301, "case_number": "(2027)鲁1002民初123号",
                        "claimed_at": "2027-01-05T09:02:00+08:00", "read_at": "2027-01-05T09:03:00+08:00",
                        "released_at": "2027-01-05T09:05:00+08:00"}]}]}


@blp.route("/release-patterns")
class ReleasePatternsView(MethodView):
    @roles(Role.court_admin, Role.contractor_manager)
    @blp.arguments(ReleasePatternArgsSchema, location="query")
    @blp.response(200, ReleasePatternPageSchema, example=RELEASE_EXAMPLE)
    def get(self, args):
        """How service clerks claimed and released serve tasks over local dates ``from``..``to`` (the last
        7 days by default): unusual patterns first (releases soon after reading contacts, many releases)."""
        settings = current_app.config["SETTINGS"]
        to = args.get("to") or now().astimezone(settings.timezone).date()
        start = args.get("from_") or to - timedelta(days=6)
        if to < start:
            start = to
        items = release_patterns(db.session, start=local_day_start(start, settings.timezone),
                                 end=local_day_start(to + timedelta(days=1), settings.timezone), settings=settings)
        return {"from_": start, "to": to, "items": items}


DASHBOARD_EXAMPLE = {
    "from": "2027-01-04", "to": "2027-01-10",
    "figures": [{"key": "service_success_rate", "label": "Service of process succeeded", "value": 0.9,
                 "numerator": 9, "denominator": 10, "target": 0.882, "target_source": "seed", "met": True}],
    "trend": [{"from": "2027-01-04", "to": "2027-01-10", "values": {"service_success_rate": 0.9}}],
    "workload": {"people": [{"user_id": 31, "name": "王芳", "role": "service_clerk", "post": "service_clerk",
                             "group": "审判辅助组", "held": 35, "overdue": 12}],
                 "queues": [{"queue": "service", "open": 4, "held": 35, "overdue": 12}],
                 "posts": [{"post": "service_clerk", "people": 1, "held": 35, "overdue": 12}]},
    "kpis": {"service_success_rate": 0.9, "rate_counts": {"service_success_rate": [9, 10]}},
}


def _dashboard(args, with_trend=True) -> dict:
    return dashboard.dashboard(db.session, args["from_"], args["to"], now=now(),
                               settings=current_app.config["SETTINGS"],
                               providers=wiring_of(current_app).kpi_providers, with_trend=with_trend)


@blp.route("/dashboard")
class DashboardView(MethodView):
    @roles(Role.court_admin, Role.contractor_manager)
    @blp.arguments(DashboardArgsSchema, location="query")
    @blp.response(200, DashboardSchema, example=DASHBOARD_EXAMPLE)
    def get(self, args):
        """The seed's figures against their targets (with numerator and denominator), the weekly trend, and
        tasks held and overdue per person, queue and post; at most 366 days; no party data."""
        return _dashboard(args)


@blp.route("/dashboard.csv")
class DashboardCsvView(MethodView):
    @roles(Role.court_admin, Role.contractor_manager)
    @blp.arguments(DashboardArgsSchema, location="query")
    @blp.response(200, content_type="text/csv", example="\ufeff指标,数值,分子,分母,目标,达标,起,止\r\n")
    def get(self, args):
        """The dashboard's table as CSV, for a spreadsheet."""
        text = dashboard.to_csv(_dashboard(args, with_trend=False), gettext)
        name = f"dashboard-{args['from_']}-{args['to']}.csv"
        return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})
