"""KPI providers: each context contributes figures for a period and its parts (weeks).

A provider is ``fn(session, spans, settings) -> list[dict]``: one dict per span of
``ancillary.spans.Spans`` (the period first, then its parts), each computed from the
rows the provider read once over the period. Every rate is a fraction in [0, 1], or None
when there is nothing to divide by. A provider also returns ``rate_counts``: for each
rate, its ``[numerator, denominator]``, so a reader can check it; ``collect`` merges them
and adds the seed's ``figures`` (``reports.figures``), built from those same counts.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.cases.models import Case
from ancillary.reports.figures import seed_figures
from ancillary.spans import Spans, local_window


def window(start: date, end: date, tz) -> tuple[datetime, datetime]:
    """Local dates, both included, as a half-open UTC interval."""
    return local_window(start, end, tz)


def rate(numerator: int, denominator: int) -> float | None:
    return None if not denominator else numerator / denominator


def case_kpis(session: Session, spans: Spans, settings) -> list[dict]:
    """Filed and closed counts; share of closed cases closed within the statutory limit."""
    filed = spans.split(session.scalars(select(Case.filed_at).where(Case.filed_at >= spans.start,
                                                                    Case.filed_at < spans.end)), lambda at: at)
    in_time_here = (Case.closed_at <= Case.deadline_at).label("in_time")
    closed = spans.split(session.execute(select(Case.closed_at, in_time_here).where(
        Case.closed_at >= spans.start, Case.closed_at < spans.end)), lambda row: row.closed_at)
    bodies = []
    for filed_here, closed_here in zip(filed, closed, strict=True):
        in_time = sum(bool(row.in_time) for row in closed_here)
        bodies.append({"cases_filed": len(filed_here), "cases_closed": len(closed_here),
                       "closed_within_limit_rate": rate(in_time, len(closed_here)),
                       "rate_counts": {"closed_within_limit_rate": [in_time, len(closed_here)]}})
    return bodies


def collect_periods(session: Session, periods: list[tuple[date, date]], settings, providers) -> list[dict]:
    """Every provider's figures for a period of local dates and its parts, in one pass per provider.

    ``periods`` is the period first, then disjoint parts inside it in order (the weeks);
    the answer has one body per entry, each what GET /reports/kpis answers for its dates.
    """
    spans = Spans.of_days(periods, settings.timezone)
    bodies: list[dict] = [{"from": first.isoformat(), "to": last.isoformat()} for first, last in periods]
    counts: list[dict] = [{} for _ in periods]
    for provider in providers:
        for body, tally, figures in zip(bodies, counts, provider(session, spans, settings), strict=True):
            tally.update(figures.pop("rate_counts", {}))
            body.update(figures)
    for body, tally, (start, end) in zip(bodies, counts, spans.bounds, strict=True):
        body["rate_counts"] = tally
        body["figures"] = seed_figures(body, start, end)
    return bodies


def collect(session: Session, start_day: date, end_day: date, settings, providers) -> dict:
    """Every provider's figures for the local dates, merged in the order given."""
    return collect_periods(session, [(start_day, end_day)], settings, providers)[0]
