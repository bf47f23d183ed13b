"""Scheduling KPIs for GET /api/v1/reports/kpis: turnaround, utilisation, speedy within 7 days
(of all speedy cases, and of those the court calendar lets be heard in time).

A provider of ``reports.kpis``: each figure reads its rows once over the period and counts
them for the period and each of its parts (``ancillary.spans``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ancillary.cases.models import Case, CaseKind, CaseStatus
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.scheduling.queries import utilization
from ancillary.scheduling.rules import hearing_minutes
from ancillary.spans import Spans
from ancillary.timeutil import period_end_days


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


def scheduling_kpis(session: Session, spans: Spans, settings) -> list[dict]:
    """Of cases filed in each span: filing-to-first-booking minutes (p50, p95, share within the
    3-hour task window), speedy cases heard within 7 days; courtroom utilisation of the span."""
    turnaround = _turnaround(session, spans)
    speedy = _speedy(session, spans, settings)
    rooms = _room_use(session, spans, settings)
    waiting = _waiting_demand(session, spans, settings)
    window = settings.scheduling_task_hours * 60
    bodies = []
    for minutes, (speedy_in_time, speedy_total, *placeable), use, asked in zip(turnaround, speedy, rooms, waiting,
                                                                               strict=True):
        within = sum(m <= window for m in minutes)
        demand = {venue: use["booked_by_venue"].get(venue, 0) + asked.get(venue, 0) for venue in use["capacity"]}
        bound = sum(min(demand[venue], minutes) for venue, minutes in use["capacity"].items())
        bodies.append({
            "scheduling_turnaround_minutes_p50": _percentile(minutes, 0.5),
            "scheduling_turnaround_minutes_p95": _percentile(minutes, 0.95),
            "scheduled_within_3_hours_rate": (within / len(minutes)) if minutes else None,
            "cases_scheduled": len(minutes),
            "courtroom_utilization": round(use["booked"] / use["open"], 4) if use["open"] else None,
            "speedy_heard_within_7_days_rate": (speedy_in_time / speedy_total) if speedy_total else None,
            "speedy_placeable_heard_within_7_days_rate": (placeable[0] / placeable[1]) if placeable[1] else None,
            "speedy_unplaceable": speedy_total - placeable[1],
            "courtroom_utilization_of_bound": round(use["booked"] / bound, 4) if bound else None,
            "courtroom_bound_minutes": bound,
            "courtroom_demand_minutes": sum(demand.values()),
            "rate_counts": {"scheduled_within_3_hours_rate": [within, len(minutes)],
                            "courtroom_utilization": [use["booked"], use["open"]],
                            "courtroom_utilization_of_bound": [use["booked"], bound],
                            "speedy_heard_within_7_days_rate": [speedy_in_time, speedy_total],
                            "speedy_placeable_heard_within_7_days_rate": placeable},
        })
    return bodies


def _filed_in(spans: Spans):
    return Case.filed_at >= spans.start, Case.filed_at < spans.end


def _turnaround(session: Session, spans: Spans) -> list[list[float]]:
    """Minutes from filing to the first booking, of the booked cases filed in each span.

    One join grouped by case: whatever the planner guesses of a table it has not analyzed yet
    (hearings booked since its last ANALYZE), each case finds its hearings through their index.
    A grouped subquery joined back to the cases was planned as a nested loop over both on such
    guesses: 1.2 s for 3,329 cases, against 3 ms once analyzed.
    """
    rows = session.execute(select(Case.filed_at, func.min(Hearing.created_at).label("booked_at"))
                           .join(Hearing, Hearing.case_id == Case.id).where(*_filed_in(spans))
                           .group_by(Case.id, Case.filed_at))
    return [[max(0.0, (booked - filed).total_seconds() / 60) for filed, booked in part]
            for part in spans.split(rows, lambda row: row.filed_at)]


def _speedy(session: Session, spans: Spans, settings) -> list[tuple[int, int, int, int]]:
    """(heard within 7 days, counted, of those placeable: heard, counted) of the speedy cases filed in
    each span; a case still inside its 7 days at the span's end and not yet booked is not counted.

    Placeable: the court calendar has a working day between the first day the summons allows
    (``speedy_notice_days`` after filing) and the 7th day; a case filed just before a closure
    longer than that has none, and no schedule can hear it in time.
    """
    tz = settings.timezone
    speedy_here = select(Case.id).where(Case.kind == CaseKind.speedy, *_filed_in(spans))
    heard = dict(session.execute(
        select(Hearing.case_id, func.min(Hearing.starts_at)).where(
            Hearing.status == HearingStatus.booked, Hearing.case_id.in_(speedy_here)).group_by(Hearing.case_id)).all())
    working = WorkingDays.load(session, spans.start.astimezone(tz).date(),
                               spans.end.astimezone(tz).date() + timedelta(days=settings.speedy_hearing_days))
    rows = [(filed_at, period_end_days(filed_at, settings.speedy_hearing_days, settings.timezone), heard.get(case_id))
            for case_id, filed_at in session.execute(select(Case.id, Case.filed_at).where(
                Case.kind == CaseKind.speedy, *_filed_in(spans)))]
    counts = []
    for (_, end), part in zip(spans.bounds, spans.split(rows, lambda row: row[0]), strict=True):
        total = in_time = placeable = placeable_in_time = 0
        for filed_at, limit, starts in part:
            if starts is None and limit >= end:
                continue
            total += 1
            met = starts is not None and starts <= limit
            in_time += met
            if _placeable(working, filed_at, limit, settings):
                placeable += 1
                placeable_in_time += met
        counts.append((in_time, total, placeable_in_time, placeable))
    return counts


def _placeable(working: WorkingDays, filed_at: datetime, limit: datetime, settings) -> bool:
    """Whether a working day lies between the summons' first allowed day and the 7-day limit."""
    tz = settings.timezone
    first = filed_at.astimezone(tz).date() + timedelta(days=settings.speedy_notice_days)
    return bool(working.between(first, limit.astimezone(tz).date()))


def _room_use(session: Session, spans: Spans, settings) -> list[dict]:
    """Booked and open room minutes of each span's working days, in total and per venue
    (``utilization`` read once for the whole period; an overlap pair counts once)."""
    tz = settings.timezone
    use = utilization(session, spans.start.astimezone(tz).date(),
                      (spans.end - timedelta(seconds=1)).astimezone(tz).date(), settings)
    out = [{"booked": 0, "open": 0, "capacity": defaultdict(int), "booked_by_venue": defaultdict(int)}
           for _ in spans.bounds]
    where: dict[str, list[int]] = {}
    for room in use["rooms"]:
        for day in room["days"]:
            if day["date"] not in where:
                where[day["date"]] = spans.at(datetime.combine(date.fromisoformat(day["date"]), time(0), tz))
            open_minutes = max(day["open_minutes"], 0)
            for index in where[day["date"]]:
                entry = out[index]
                entry["booked"] += day["booked_minutes"]
                entry["open"] += open_minutes
                entry["capacity"][room["venue"]] += open_minutes
                entry["booked_by_venue"][room["venue"]] += day["booked_minutes"]
    return out


def _waiting_demand(session: Session, spans: Spans, settings) -> list[dict[str, int]]:
    """Per span and venue, the hearing minutes of open cases filed before the span's end still
    waiting for a hearing: with the minutes booked, what the rooms could have been asked for."""
    booked = select(Hearing.case_id).where(Hearing.status == HearingStatus.booked)
    rows = session.execute(select(Case.venue, Case.kind, Case.track, Case.hearing_minutes, Case.filed_at)
                           .where(Case.status == CaseStatus.open, Case.filed_at < spans.end, Case.id.not_in(booked)))
    by_venue: dict[str, tuple[list[datetime], list[int]]] = {}
    for row in sorted(rows, key=lambda row: row.filed_at):
        filed, sums = by_venue.setdefault(row.venue, ([], [0]))
        filed.append(row.filed_at)
        sums.append(sums[-1] + hearing_minutes(row, settings))
    return [{venue: sums[bisect_left(filed, end)] for venue, (filed, sums) in by_venue.items()}
            for _, end in spans.bounds]
