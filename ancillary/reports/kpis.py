"""KPI providers: each context contributes figures for a window of local dates.

A provider is ``fn(session, start, end, settings) -> dict`` where ``start`` and
``end`` are aware UTC instants bounding the window [start, end). Every rate is a
fraction in [0, 1], or None when there is nothing to divide by.
"""

from __future__ import annotations

import importlib
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

# Dotted paths of providers, merged in this order. Contexts append theirs.
PROVIDERS: list[str] = [
    "ancillary.reports.kpis.case_kpis",
    "ancillary.archive.services.archive_kpis",
    "ancillary.scheduling.kpis.scheduling_kpis",
    "ancillary.service.queries.service_kpis",
    "ancillary.reminders.kpis.reminder_kpis",
    "ancillary.reports.figures.seed_figures",
]


def window(start: date, end: date, tz) -> tuple[datetime, datetime]:
    """Local dates, both included, as a half-open UTC interval."""
    return datetime.combine(start, time(0), tz), datetime.combine(end + timedelta(days=1), time(0), tz)


def rate(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


def case_kpis(session: Session, start: datetime, end: datetime, settings) -> dict:
    """Filed and closed counts; share of closed cases closed within the statutory limit."""
    from ancillary.cases.models import Case

    filed = session.scalar(select(func.count()).where(Case.filed_at >= start, Case.filed_at < end))
    closed = select(Case).where(Case.closed_at >= start, Case.closed_at < end)
    closed_total = session.scalar(select(func.count()).select_from(closed.subquery()))
    closed_in_time = session.scalar(
        select(func.count()).select_from(closed.where(Case.closed_at <= Case.deadline_at).subquery())
    )
    return {
        "cases_filed": filed,
        "cases_closed": closed_total,
        "closed_within_limit_rate": rate(closed_in_time, closed_total),
    }


def collect(session: Session, start_day: date, end_day: date, settings) -> dict:
    start, end = window(start_day, end_day, settings.timezone)
    body: dict = {"from": start_day.isoformat(), "to": end_day.isoformat()}
    for path in PROVIDERS:
        module, _, name = path.rpartition(".")
        body.update(getattr(importlib.import_module(module), name)(session, start, end, settings))
    return body
