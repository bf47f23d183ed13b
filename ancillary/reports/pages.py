"""``/dashboard``: the seed's figures against their targets for a chosen period, the weekly
trend, and workload and overdue work per person, queue and post — for the management office
and the contractor manager, from the same code as GET /api/v1/reports/dashboard."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext
from markupsafe import Markup

from ancillary.auth.models import Role
from ancillary.display_names import label
from ancillary.errors import DomainError
from ancillary.extensions import db
from ancillary.pages import page
from ancillary.reports import dashboard
from ancillary.reports.charts import trend_svg
from ancillary.reports.release_patterns import release_patterns
from ancillary.timeutil import local_day_start
from ancillary.web import error_message, now
from ancillary.wiring import wiring_of

bp = Blueprint("reports_pages", __name__)
DEFAULT_DAYS = 28


def _period(today: date) -> tuple[date | None, date | None, str | None]:
    try:
        first = date.fromisoformat(request.args["from"]) if request.args.get("from") else today - timedelta(
            days=DEFAULT_DAYS - 1)
        last = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
    except ValueError:
        return None, None, gettext("Give the dates as year-month-day, e.g. 2027-01-31.")
    return first, last, None


def _charts(trend: list[dict]) -> list[dict]:
    charts = []
    for figure in dashboard.FIGURES:
        points = [(week["from"][5:], week["values"].get(figure.key)) for week in trend]
        charts.append({"title": gettext(figure.label),
                       "svg": Markup(trend_svg(gettext(figure.label), points, figure.target))})
    return charts


def _checked_period(settings, moment):
    first, last, error = _period(moment.astimezone(settings.timezone).date())
    if error is None:
        try:
            dashboard.check_period(first, last, settings)
        except DomainError as refused:
            error = error_message(refused)
    return first, last, error


@bp.get("/dashboard")
@page(Role.court_admin, Role.contractor_manager)
def dashboard_page():
    """The figures, green when they meet their target and red when not, with their counts.

    The weekly charts and the service clerks' release patterns come in further requests
    (``/dashboard/trend``, ``/dashboard/release-patterns``): the table does not wait for them.
    """
    settings = current_app.config["SETTINGS"]
    moment = now()
    first, last, error = _checked_period(settings, moment)
    body = None if error else dashboard.dashboard(db.session, first, last, now=moment, settings=settings,
                                                   providers=wiring_of(current_app).kpi_providers, with_trend=False)
    context = {"first": first, "last": last, "error": error, "body": body, "label": label}
    if body is not None:
        query = f"from={first.isoformat()}&to={last.isoformat()}"
        context.update(csv=f"/api/v1/reports/dashboard.csv?{query}", trend_url=f"/dashboard/trend?{query}",
                       releases_url=f"/dashboard/release-patterns?{query}")
    return render_template("dashboard.html", **context), (200 if error is None else 422)


@bp.get("/dashboard/trend")
@page(Role.court_admin, Role.contractor_manager)
def dashboard_trend():
    """The week-by-week charts of the period, as a fragment the dashboard page puts in place."""
    settings = current_app.config["SETTINGS"]
    first, last, error = _checked_period(settings, now())
    if error:
        return render_template("dashboard_trend.html", charts=[], error=error), 422
    trend = dashboard.trend(db.session, first, last, settings, wiring_of(current_app).kpi_providers)
    return render_template("dashboard_trend.html", charts=_charts(trend), error=None)


@bp.get("/dashboard/release-patterns")
@page(Role.court_admin, Role.contractor_manager)
def dashboard_releases():
    """Each service clerk's claims and releases of serve tasks in the period, unusual ones said in a sentence;
    names and counts only (GET /api/v1/reports/release-patterns gives the tasks behind a flag)."""
    settings = current_app.config["SETTINGS"]
    first, last, error = _checked_period(settings, now())
    if error:
        return render_template("dashboard_releases.html", rows=[], error=error), 422
    rows = release_patterns(db.session, start=local_day_start(first, settings.timezone),
                            end=local_day_start(last + timedelta(days=1), settings.timezone), settings=settings)
    return render_template("dashboard_releases.html", rows=rows, error=None)
