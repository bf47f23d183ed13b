"""The management dashboard: the seed's figures against their targets, a weekly trend, and
workload and overdue work per person, group and post.

Every figure comes from ``reports.kpis.collect_periods`` — the same code as GET /reports/kpis —
so the dashboard and the API cannot disagree; the period and all its weeks are counted in one
pass of each provider, so a year's trend costs about what the year's figures do. Nothing here reads party data: the
contractor manager sees exactly what the management office sees.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ancillary.auth.models import User
from ancillary.display_names import N_, label
from ancillary.errors import Invalid
from ancillary.queues.models import Group, Post, Queue, Task, TaskStatus
from ancillary.reports.figures import FIGURES
from ancillary.reports.kpis import collect_periods

LAYER_LABELS = {"electronic": N_("Service: phone, SMS, e-mail"), "direct": N_("Service: in person"),
                "mail_and_posting": N_("Service: by post, or posting at the address"),
                "public_notice": N_("Service: by public notice")}
SERVICE_TARGET = 0.882


def check_period(first: date, last: date, settings) -> None:
    """Refuse a reversed period or one longer than the dashboard reports at once."""
    if last < first:
        raise Invalid("period_reversed", "the period ends before it starts", field="to")
    if (last - first).days + 1 > settings.dashboard_max_days:
        raise Invalid("period_too_long", "the dashboard reports at most {days} days at a time", field="to",
                      days=settings.dashboard_max_days)


def _row(key: str, label: str, kpis: dict, target: float | None, source: str) -> dict:
    value = _value(kpis, key)
    numerator, denominator = kpis["rate_counts"].get(key, [None, None])
    met = None if value is None or target is None else value >= target
    return {"key": key, "label": label, "value": value, "numerator": numerator, "denominator": denominator,
            "target": target, "target_source": source, "met": met}


def _value(kpis: dict, key: str):
    if "." in key:
        outer, inner = key.split(".", 1)
        return (kpis.get(outer) or {}).get(inner)
    return kpis.get(key)


def figures(kpis: dict) -> list[dict]:
    """The seed's figures with their targets, numerators and denominators, in display order."""
    rows = [_row(f.key, f.label, kpis, f.target, f.source) for f in FIGURES]
    for layer, name in LAYER_LABELS.items():
        rows.append(_row(f"service_success_by_layer.{layer}", name, kpis, None, "seed"))
    return rows


def weeks(first: date, last: date) -> list[tuple[date, date]]:
    """Monday-to-Sunday weeks over the period, the first and last clipped to it."""
    spans = []
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=6 - start.weekday()))
        spans.append((start, end))
        start = end + timedelta(days=1)
    return spans


TREND_KEYS = tuple(f.key for f in FIGURES)


def period_and_weeks(session: Session, first: date, last: date, settings, providers) -> tuple[dict, list[dict]]:
    """The period's KPI body and its weekly trend, from one pass of each provider."""
    spans = weeks(first, last)
    period, *parts = collect_periods(session, [(first, last), *spans], settings, providers)
    return period, [{"from": start.isoformat(), "to": end.isoformat(),
                     "values": {key: kpis.get(key) for key in TREND_KEYS}}
                    for (start, end), kpis in zip(spans, parts, strict=True)]


def trend(session: Session, first: date, last: date, settings, providers) -> list[dict]:
    """The figures week by week, from the same ``collect_periods``."""
    return period_and_weeks(session, first, last, settings, providers)[1]


def workload(session: Session, now: datetime) -> dict:
    """Tasks held and overdue per person (by name), per group and per post; open tasks nobody holds."""
    held = Task.status == TaskStatus.claimed
    overdue = case((Task.due_at < now, 1), else_=0)
    people = [
        {"user_id": r.id, "name": r.display_name, "role": r.role.value, "post": r.kind, "group": r.group,
         "held": r.held, "overdue": int(r.overdue or 0)}
        for r in session.execute(
            select(User.id, User.display_name, User.role, Post.kind, Group.name.label("group"),
                   func.count(Task.id).label("held"), func.sum(overdue).label("overdue"))
            .join(Task, Task.assignee_id == User.id).where(held)
            .outerjoin(Post, Post.user_id == User.id).outerjoin(Group, Group.id == Post.group_id)
            .group_by(User.id, User.display_name, User.role, Post.kind, Group.name))
    ]
    people.sort(key=lambda p: (-p["overdue"], -p["held"], p["name"]))
    queues = {r.queue: {"queue": r.queue.value, "open": r.open, "held": r.held, "overdue": int(r.overdue or 0)}
              for r in session.execute(
                  select(Task.queue, func.sum(case((Task.status == TaskStatus.open, 1), else_=0)).label("open"),
                         func.sum(case((held, 1), else_=0)).label("held"), func.sum(overdue).label("overdue"))
                  .where(Task.status.in_([TaskStatus.open, TaskStatus.claimed])).group_by(Task.queue))}
    posts: dict[str, dict] = {}
    for person in people:
        entry = posts.setdefault(person["post"] or person["role"], {"post": person["post"] or person["role"],
                                                                      "people": 0, "held": 0, "overdue": 0})
        entry["people"] += 1
        entry["held"] += person["held"]
        entry["overdue"] += person["overdue"]
    return {"people": people, "queues": [queues[q] for q in Queue if q in queues],
            "posts": sorted(posts.values(), key=lambda p: -p["overdue"])}


def dashboard(session: Session, first: date, last: date, *, now: datetime, settings, providers,
              with_trend: bool = True) -> dict:
    """Everything the dashboard shows for local dates ``first``..``last``, both included."""
    check_period(first, last, settings)
    if with_trend:
        kpis, by_week = period_and_weeks(session, first, last, settings, providers)
    else:
        kpis, by_week = collect_periods(session, [(first, last)], settings, providers)[0], []
    return {"from": first.isoformat(), "to": last.isoformat(), "figures": figures(kpis), "trend": by_week,
            "workload": workload(session, now), "kpis": kpis}


def to_csv(body: dict, translate) -> str:
    """The dashboard's table as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read Chinese)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([translate(N_("Figure")), translate(N_("Value")), translate(N_("Numerator")),
                     translate(N_("Denominator")), translate(N_("Target")), translate(N_("Met")), translate(N_("From")),
                     translate(N_("To"))])
    for row in body["figures"]:
        writer.writerow([translate(row["label"]), _percent(row["value"]), _blank(row["numerator"]),
                         _blank(row["denominator"]), _percent(row["target"]),
                         "" if row["met"] is None else translate(N_("yes")) if row["met"] else translate(N_("no")),
                         body["from"], body["to"]])
    writer.writerow([])
    writer.writerow([translate(N_("Person")), translate(N_("Post")), translate(N_("Tasks held")),
                     translate(N_("Overdue"))])
    for person in body["workload"]["people"]:
        writer.writerow([person["name"], label(person["post"] or person["role"]), person["held"],
                         person["overdue"]])
    return out.getvalue()


def _percent(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _blank(value) -> str:
    return "" if value is None else str(value)
