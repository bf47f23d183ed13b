"""The replay's report: report.json (figures with their counts, by month, queues, staff) and report.html.

The figures are GET /api/v1/reports/kpis's, read on the replay's database through the
same function, so the report and the dashboard cannot disagree. The HTML draws its
charts as inline SVG written here: it opens offline, from a file, with no script at all.
"""

from __future__ import annotations

import json
import subprocess
from datetime import date, timedelta
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from ancillary.replay import actions, wording
from ancillary.replay.court import ReplaySettings, derive_rooms
from ancillary.timeutil import add_months

ROOT = Path(__file__).resolve().parent
COLORS = ["#1f6fb2", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"]


def commit_id() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def build(session, rs: ReplaySettings, settings, result: dict) -> dict:
    """Everything report.json holds; nothing in it depends on the wall clock."""
    last = add_months(rs.start, rs.months) - timedelta(days=1)
    kpis = actions.kpis(session, rs.start, last, settings)
    months = []
    first = rs.start
    while first <= last:
        month_last = add_months(first, 1) - timedelta(days=1)
        body = actions.kpis(session, first, month_last, settings)
        months.append({"month": first.strftime("%Y-%m"), "figures": body["figures"]})
        first = add_months(first, 1)
    return {
        "title": wording.text(wording.TITLE),
        "commit": commit_id(),
        "window": {"from": rs.start.isoformat(), "to": last.isoformat()},
        "figures": kpis["figures"],
        "kpis": {k: v for k, v in kpis.items() if k != "figures"},
        "by_month": months,
        "staff": result["staff"],
        "counts": result["counts"],
        "refusals": result["refusals"],
        "series": result["series"],
        "settings": rs.describe(),
        "assumptions": wording.assumptions(rs, derive_rooms(rs, settings.hearing_minutes)),
    }


# --- HTML ---------------------------------------------------------------------------------


def line_chart(series: dict[str, list], *, width=640, height=180, y_max=None, target=None, labels=None,
               ticks: list[tuple[int, str]] = ()) -> Markup:
    """Lines over a shared x axis; an optional dashed target line; ``ticks`` (index, text) label the x axis.

    All inline SVG; text sizes are in the drawing's units, so that at a phone's width (the
    drawing scaled to about 60 %) a label still reads at some 8 px.
    """
    values = [v for s in series.values() for v in s if v is not None]
    top = y_max if y_max is not None else max(values + [1])
    n = max((len(s) for s in series.values()), default=1)
    pad, base = 34, height - 24  # left margin for the y labels; the x axis, its ticks below

    def x(i):
        return pad + (width - pad - 10) * (i / max(1, n - 1))

    def y(v):
        return base - (base - 10) * (v / top if top else 0)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">',
             f'<line x1="{pad}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>',
             f'<text x="2" y="16" font-size="13">{_fmt(top)}</text>',
             f'<text x="2" y="{base}" font-size="13">0</text>']
    for index, text in ticks:
        parts.append(f'<line x1="{x(index):.1f}" y1="{base}" x2="{x(index):.1f}" y2="{base + 4}" stroke="#999"/>'
                     f'<text x="{x(index):.1f}" y="{base + 17}" font-size="12" text-anchor="middle">'
                     f'{escape(text)}</text>')
    if target is not None and top:
        parts.append(f'<line x1="{pad}" y1="{y(target):.1f}" x2="{width - 10}" y2="{y(target):.1f}" '
                     'stroke="#c0392b" stroke-dasharray="4 3"/>')
    for index, points in enumerate(series.values()):
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(points) if v is not None)
        color = COLORS[index % len(COLORS)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
    parts.append("</svg>")
    if len(series) > 1:  # a key beneath, wrapping at any width; one line is named by the chart's heading
        names = [escape((labels or {}).get(name, name)) for name in series]
        keys = (f'<li><span style="background:{COLORS[i % len(COLORS)]}"></span>{name}</li>'
                for i, name in enumerate(names))
        parts.append(f'<ul class="key">{"".join(keys)}</ul>')
    return Markup("".join(parts))


def month_ticks(months: list[str]) -> list[tuple[int, str]]:
    """Each month of a by-month series ("2026-03") as its tick: 3月."""
    return [(i, f"{int(month[5:7])}月") for i, month in enumerate(months)]


def day_ticks(days: list[str]) -> list[tuple[int, str]]:
    """The first day of each month of a by-day series ("2026-03-01"), as its tick: 3月."""
    return [(i, f"{int(day[5:7])}月") for i, day in enumerate(days) if day.endswith("-01")]


def percent(value: float | None, target: float | None = None) -> str:
    """A share as a percentage with one decimal, more when one would show a missed figure as its target."""
    if value is None:
        return "—"
    for digits in (1, 2, 3):
        shown = f"{value * 100:.{digits}f}"
        if target is None or value >= target or float(shown) < target * 100:
            return f"{shown}%"
    return f"{value * 100:.4f}%"


def bar_chart(items: list[tuple[str, float | None]], *, width=640, target=None) -> Markup:
    """Horizontal bars of shares in [0, 1], with the target as a dashed line."""
    row, label_w = 22, 220
    height = row * len(items) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">']
    span = width - label_w - 60
    for i, (label, value) in enumerate(items):
        top = 5 + i * row
        parts.append(f'<text x="0" y="{top + 14}" font-size="13">{escape(label)}</text>')
        if value is not None:
            parts.append(f'<rect x="{label_w}" y="{top + 3}" width="{span * min(value, 1):.1f}" height="14" '
                         f'fill="#1f6fb2"/><text x="{label_w + span * min(value, 1) + 4:.1f}" y="{top + 14}" '
                         f'font-size="13">{value * 100:.1f}%</text>')
    if target is not None:
        parts.append(f'<line x1="{label_w + span * target:.1f}" y1="0" x2="{label_w + span * target:.1f}" '
                     f'y2="{height}" stroke="#c0392b" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def render_html(report: dict) -> str:
    """The page, in the court's language with English beneath (needs the app context for the catalogues)."""
    env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape(["html"]))
    months = report["by_month"]
    by_month = month_ticks([m["month"] for m in months])
    by_day = day_ticks(report["series"]["days"])
    short = {name: wording.pair(label)[0] for name, label in wording.FIGURE_LABELS.items()}
    monthly = {name: line_chart({name: [m["figures"][name]["value"] for m in months]}, y_max=1.0,
                                target=report["figures"][name]["target"], labels=short, ticks=by_month)
               for name in wording.FIGURE_LABELS if name != "cases"}
    series = report["series"]
    posts = {name: wording.post(name) for name in report["staff"]}
    waiting = line_chart({k.split(".", 1)[1]: v for k, v in series.items() if k.startswith("waiting.")},
                         labels=posts, ticks=by_day)
    overdue = line_chart({k.split(".", 1)[1]: v for k, v in series.items() if k.startswith("overdue.")},
                         labels={k.split(".", 1)[1]: wording.post(k.split(".", 1)[1]) for k in series if "." in k},
                         ticks=by_day)
    layers = bar_chart([(wording.pair(wording.LAYER_LABELS.get(k, k))[0], v)
                        for k, v in report["kpis"].get("service_success_by_layer", {}).items()])
    staff = bar_chart([(f"{posts[k]} ×{v['people']}", v["utilisation"]) for k, v in report["staff"].items()
                       if k not in ("follow_up", "contractor_manager", "file_clerk")])
    rooms = line_chart({"use": [m["figures"]["courtroom_utilization"]["value"] for m in months],
                        "of_bound": [m["figures"]["courtroom_utilization_of_bound"]["value"] for m in months]},
                       y_max=1.0, target=0.9, labels={"use": short["courtroom_utilization"],
                                                      "of_bound": short["courtroom_utilization_of_bound"]},
                       ticks=by_month)
    return env.get_template("report.html").render(
        report=report, labels=wording.FIGURE_LABELS, monthly=monthly, waiting=waiting, overdue=overdue,
        layers=layers, staff=staff, rooms=rooms, percent=percent, _=wording.html)


def write(out: Path, report: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True, default=str)
                                     + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_html(report), encoding="utf-8")


def month_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
