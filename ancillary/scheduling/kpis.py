"""Scheduling KPIs for GET /api/v1/reports/kpis: turnaround, utilisation, speedy within 7 days."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary.scheduling.models import Hearing, HearingStatus


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def scheduling_kpis(session: Session, start: datetime, end: datetime, settings) -> dict:
    """Of cases filed in [start, end): filing-to-first-booking minutes (p50, p95, share within
    the 3-hour task window), speedy cases heard within 7 days; courtroom utilisation of the window."""
    from ancillary.cases.models import Case
    from ancillary.scheduling.queries import utilization
    from ancillary.scheduling.rules import speedy_limit

    # Only the window's cases: the dashboard asks once per week, so no query scans every hearing.
    filed_here = select(Case.id).where(Case.filed_at >= start, Case.filed_at < end)
    first_booked = (select(Hearing.case_id, func.min(Hearing.created_at).label("booked_at"))
                    .where(Hearing.case_id.in_(filed_here)).group_by(Hearing.case_id).subquery())
    rows = session.execute(select(Case.filed_at, first_booked.c.booked_at)
                           .join(first_booked, first_booked.c.case_id == Case.id)
                           .where(Case.filed_at >= start, Case.filed_at < end)).all()
    minutes = [max(0.0, (booked - filed).total_seconds() / 60) for filed, booked in rows]
    window = settings.scheduling_task_hours * 60
    speedy_total = speedy_in_time = 0
    speedy = session.scalars(select(Case).where(Case.kind == "speedy", Case.filed_at >= start, Case.filed_at < end))
    heard = {case_id: starts for case_id, starts in session.execute(
        select(Hearing.case_id, func.min(Hearing.starts_at)).where(
            Hearing.status == HearingStatus.booked,
            Hearing.case_id.in_(filed_here.where(Case.kind == "speedy"))).group_by(Hearing.case_id))}
    for case in speedy:
        limit = speedy_limit(case, settings)
        starts = heard.get(case.id)
        if starts is None and limit >= end:
            continue  # still inside its 7 days at the window's end, and not yet booked: not counted
        speedy_total += 1
        speedy_in_time += starts is not None and starts <= limit
    tz = settings.timezone
    last_day = (end - timedelta(seconds=1)).astimezone(tz).date()
    use = utilization(session, start.astimezone(tz).date(), last_day, settings)
    within = sum(m <= window for m in minutes)
    bound = _demand_bound(session, use, end, settings)
    return {
        "scheduling_turnaround_minutes_p50": _percentile(minutes, 0.5),
        "scheduling_turnaround_minutes_p95": _percentile(minutes, 0.95),
        "scheduled_within_3_hours_rate": (within / len(minutes)) if minutes else None,
        "cases_scheduled": len(minutes),
        "courtroom_utilization": use["utilization"],
        "speedy_heard_within_7_days_rate": (speedy_in_time / speedy_total) if speedy_total else None,
        "courtroom_utilization_of_bound": round(use["booked_minutes"] / bound, 4) if bound else None,
        "courtroom_bound_minutes": bound,
        "rate_counts": {"scheduled_within_3_hours_rate": [within, len(minutes)],
                        "courtroom_utilization": [use["booked_minutes"], use["open_minutes"]],
                        "courtroom_utilization_of_bound": [use["booked_minutes"], bound],
                        "speedy_heard_within_7_days_rate": [speedy_in_time, speedy_total]},
    }


def _demand_bound(session: Session, use: dict, end: datetime, settings) -> int:
    """The most the rooms could have been used given the demand: per venue, the lesser of the
    open minutes and the minutes asked for (hearings booked in the window, plus the hearings
    of cases filed before its end still waiting for one)."""
    from ancillary.cases.models import Case, CaseStatus
    from ancillary.scheduling.rules import hearing_minutes

    capacity: dict[str, int] = {}
    demand: dict[str, int] = {}
    for room in use["rooms"]:
        capacity[room["venue"]] = capacity.get(room["venue"], 0) + room["open_minutes"]
        demand[room["venue"]] = demand.get(room["venue"], 0) + room["booked_minutes"]
    booked = select(Hearing.case_id).where(Hearing.status == HearingStatus.booked)
    for case in session.scalars(select(Case).where(Case.status == CaseStatus.open, Case.filed_at < end,
                                                   Case.id.not_in(booked))):
        demand[case.venue] = demand.get(case.venue, 0) + hearing_minutes(case, settings)
    return sum(min(demand.get(venue, 0), minutes) for venue, minutes in capacity.items())
