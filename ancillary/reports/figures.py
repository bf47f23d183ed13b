"""The seed's figures, each with its numerator, denominator and target (GET /reports/kpis ``figures``).

One table of the seed's figures serves every reader: the KPI endpoint's ``figures``
object (with the replay's names: report.json reads it), the dashboard's rows (with the
KPI endpoint's names) and the weekly trend. A figure is not computed here: it is read
from the ``rate_counts`` the contexts' KPI providers returned for the same span, so a
figure, its flat rate in the KPI answer and its row on the dashboard are one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ancillary.display_names import N_

SEED_CASES_PER_YEAR = 15663


@dataclass(frozen=True)
class Figure:
    """One seed figure: its name in report.json, its KPI key, what people call it, its target and
    where the target comes from ("seed": the court's reported result; "default": ours to tune)."""

    name: str
    key: str
    label: str
    target: float
    source: str


# The seed's figures (SPEC 2-3 and seed-case-136.md), in display order.
FIGURES: tuple[Figure, ...] = (
    Figure("scheduled_within_3h_rate", "scheduled_within_3_hours_rate",
           N_("Hearings scheduled within 3 hours of filing"), 0.9, "default"),
    Figure("courtroom_utilization", "courtroom_utilization", N_("Courtroom use on working days"), 0.9, "seed"),
    Figure("courtroom_utilization_of_bound", "courtroom_utilization_of_bound",
           N_("Courtroom use, of what the demand allows"), 0.9, "default"),
    Figure("speedy_heard_within_7_days_rate", "speedy_heard_within_7_days_rate",
           N_("Speedy cases heard within 7 days of filing"), 1.0, "seed"),
    Figure("speedy_placeable_heard_within_7_days_rate", "speedy_placeable_heard_within_7_days_rate",
           N_("Speedy cases heard within 7 days, of those the court calendar allowed"), 1.0, "seed"),
    Figure("service_success_rate", "service_success_rate", N_("Service of process succeeded"), 0.882, "seed"),
    Figure("archived_within_30_days_rate", "archived_within_30_days_rate",
           N_("Closed cases archived within 30 days"), 0.95, "default"),
    Figure("closed_within_limit_rate", "closed_within_limit_rate",
           N_("Cases closed within the statutory limit"), 0.998, "seed"),
)
TARGETS = {f.name: f.target for f in FIGURES}


def figure(numerator: int, denominator: int, target: float | None, *, count: bool = False) -> dict:
    """One figure: a count (``count``) or a rate numerator / denominator, None when nothing to divide."""
    rate = round(numerator / denominator, 4) if denominator else None
    value = numerator if count else rate
    met = None if value is None or target is None else value >= target
    return {"value": value, "numerator": numerator, "denominator": denominator, "target": target, "met": met}


def seed_figures(body: dict, start: datetime, end: datetime) -> dict:
    """Every seed figure of one span's merged KPI body, with its counts and target, by report.json name."""
    days = (end - start).total_seconds() / 86400
    figures = {"cases": figure(body.get("cases_filed") or 0, 1, round(SEED_CASES_PER_YEAR * days / 365),
                               count=True)}
    for f in FIGURES:
        numerator, denominator = body["rate_counts"].get(f.key, (0, 0))
        figures[f.name] = figure(numerator, denominator, f.target)
    return figures
