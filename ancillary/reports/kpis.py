"""KPI providers: each context contributes figures for a window of local dates.

A provider is ``fn(session, start, end, settings) -> dict`` where ``start`` and
``end`` are aware UTC instants bounding the window [start, end). Every rate is a
fraction in [0, 1], or None when there is nothing to divide by. A provider also
returns ``rate_counts``: for each rate, its ``[numerator, denominator]``, so a reader
can check it; ``collect`` merges them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session


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
        "rate_counts": {"closed_within_limit_rate": [closed_in_time, closed_total]},
    }


def collect(session: Session, start_day: date, end_day: date, settings, providers) -> dict:
    """Every provider's figures for the local dates, merged in the order given."""
    start, end = window(start_day, end_day, settings.timezone)
    body: dict = {"from": start_day.isoformat(), "to": end_day.isoformat()}
    counts: dict = {}
    for provider in providers:
        figures = provider(session, start, end, settings)
        counts.update(figures.pop("rate_counts", {}))
        body.update(figures)
    body["rate_counts"] = counts
    return body
