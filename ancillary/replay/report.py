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
from markupsafe import Markup

from ancillary.replay import actions
from ancillary.replay.court import ReplaySettings
from ancillary.timeutil import add_months

ROOT = Path(__file__).resolve().parent
LABELS = {
    "cases": ("收案数", "cases filed"),
    "scheduled_within_3h_rate": ("立案后3小时内排期", "scheduled within 3 h of filing"),
    "courtroom_utilization": ("法庭利用率", "courtroom utilisation"),
    "courtroom_utilization_of_bound": ("法庭利用率（占需求上限）", "courtroom use of what demand allows"),
    "speedy_heard_within_7_days_rate": ("速裁案件7日内开庭", "speedy cases heard within 7 days"),
    "service_success_rate": ("送达成功率", "service success"),
    "archived_within_30_days_rate": ("结案后30日内归档", "archived within 30 days of closing"),
    "closed_within_limit_rate": ("法定审限内结案率", "closed within the statutory limit"),
}
POSTS = {"intake_clerk": "立案录入 intake", "scheduler": "排期 scheduling", "service_clerk": "送达 service",
         "file_clerk": "卷宗流转 files", "archivist": "归档 archive", "contractor_manager": "外包主管 manager",
         "follow_up": "跟案 follow-up"}
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
        "title": "一年法院辅助事务回放 — a year at the seed court, replayed through the product",
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
        "assumptions": assumptions(rs),
    }


def assumptions(rs: ReplaySettings) -> list[str]:
    m, r = rs.minutes, rs.rates
    return [
        f"案件在工作日08:30-17:00随机到达，年量{rs.cases_per_year}×{rs.volume}；"
        "类型比例 速裁30% 简易35% 普通15% 执行20%。"
        f" Cases arrive on working days 08:30-17:00 (Poisson), {rs.cases_per_year}×{rs.volume} a year;"
        " mix 30/35/15/20.",
        f"外包人员按岗位工作（{', '.join(f'{k}={v}' for k, v in sorted(rs.staff.items()))}），"
        f"工作时间 08:30-12:00, 13:30-17:30。 Staff per post as listed, working those hours on court working days.",
        f"每项操作用时（分钟）：录入{m.file_case}，人工排期{m.schedule_by_hand}，自动排期每次{m.schedule_auto_run}+每案"
        f"{m.schedule_auto_case}，电子送达{m.electronic}，直接送达{m.visit}，邮寄{m.mail}，张贴{m.posting}，每卷归档"
        f"{m.archive_volume}。 Minutes per action as stated.",
        f"送达结果比例（来自 bench/service_year.py）：律所电子送达{r.law_firm_delivered}，电话接通{r.phone_reached}，"
        f"同意电子送达{r.consent_when_reached}，短信送达{r.sms_delivered}，每次直接送达成功{r.personal_served}，"
        f"邮件签收{r.mail_signed}、无人领取{r.mail_unclaimed}。 Party outcome rates as stated (service-year bench).",
        f"重复被告{r.repeat_defendant}，其中{r.stale_address}起诉地址已过时（真实地址只有已确认的地址能找到）。"
        " Repeat defendants and stale filing addresses: only an address confirmed in an earlier case finds them.",
        f"法官在开庭后按案件类型的通常期限报结（天）：{rs.close_days}；{r.late_close}超审限。"
        " Judges report cases closed within their kind's usual time after the hearing; a small share late.",
        f"结案后{rs.take_back_days}天卷宗交归档岗；提醒在{rs.ack_hours}小时内确认，{r.late_ack}超过24小时。"
        " Files reach the archive post days after closing; reminders are acknowledged after a delay.",
        f"定时任务（与 ancillary tick 相同）每天运行于 {', '.join(t.strftime('%H:%M') for t in rs.ticks)}。"
        " The sweeps run through the same function as `ancillary tick`, at those times each day.",
        "未模拟：二次开庭、延期、卷宗中途流转扫描、跟案岗的人工提醒。"
        " Not modelled: second hearings, adjournments, hand-over scans between posts,"
        " follow-up posts' manual reminders.",
    ]


# --- HTML ---------------------------------------------------------------------------------


def line_chart(series: dict[str, list], *, width=640, height=180, y_max=None, target=None, labels=None) -> Markup:
    """Lines over a shared x axis; an optional dashed target line; all inline SVG."""
    values = [v for s in series.values() for v in s if v is not None]
    top = y_max if y_max is not None else max(values + [1])
    n = max((len(s) for s in series.values()), default=1)
    pad = 30

    def x(i):
        return pad + (width - pad - 10) * (i / max(1, n - 1))

    def y(v):
        return height - pad + 0 - (height - pad - 10) * (v / top if top else 0)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">',
             f'<line x1="{pad}" y1="{height - pad}" x2="{width - 10}" y2="{height - pad}" stroke="#999"/>',
             f'<text x="2" y="14" font-size="10">{_fmt(top)}</text>',
             f'<text x="2" y="{height - pad}" font-size="10">0</text>']
    if target is not None and top:
        parts.append(f'<line x1="{pad}" y1="{y(target):.1f}" x2="{width - 10}" y2="{y(target):.1f}" '
                     'stroke="#c0392b" stroke-dasharray="4 3"/>')
    for index, (name, points) in enumerate(series.items()):
        path = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(points) if v is not None)
        color = COLORS[index % len(COLORS)]
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{path}"/>')
        parts.append(f'<text x="{pad + 5 + 110 * index}" y="{height - 8}" font-size="10" fill="{color}">'
                     f'{(labels or {}).get(name, name)}</text>')
    if labels and "_x" in labels:
        parts.append(f'<text x="{width - 120}" y="{height - 18}" font-size="9">{labels["_x"]}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: list[tuple[str, float | None]], *, width=640, target=None) -> Markup:
    """Horizontal bars of shares in [0, 1], with the target as a dashed line."""
    row, label_w = 22, 220
    height = row * len(items) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" class="chart">']
    span = width - label_w - 60
    for i, (label, value) in enumerate(items):
        top = 5 + i * row
        parts.append(f'<text x="0" y="{top + 14}" font-size="11">{label}</text>')
        if value is not None:
            parts.append(f'<rect x="{label_w}" y="{top + 3}" width="{span * min(value, 1):.1f}" height="14" '
                         f'fill="#1f6fb2"/><text x="{label_w + span * min(value, 1) + 4:.1f}" y="{top + 14}" '
                         f'font-size="11">{value * 100:.1f}%</text>')
    if target is not None:
        parts.append(f'<line x1="{label_w + span * target:.1f}" y1="0" x2="{label_w + span * target:.1f}" '
                     f'y2="{height}" stroke="#c0392b" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _fmt(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def render_html(report: dict) -> str:
    env = Environment(loader=FileSystemLoader(ROOT / "templates"), autoescape=select_autoescape(["html"]))
    months = report["by_month"]
    monthly = {name: line_chart({name: [m["figures"][name]["value"] for m in months]}, y_max=1.0,
                                target=report["figures"][name]["target"], labels={name: LABELS[name][0]})
               for name in LABELS if name != "cases"}
    series = report["series"]
    waiting = line_chart({k.split(".", 1)[1]: v for k, v in series.items() if k.startswith("waiting.")},
                         labels={k: POSTS.get(k, k) for k in POSTS})
    overdue = line_chart({k.split(".", 1)[1]: v for k, v in series.items() if k.startswith("overdue.")})
    layers = bar_chart([(k, v) for k, v in report["kpis"].get("service_success_by_layer", {}).items()])
    staff = bar_chart([(POSTS.get(k, k) + f" ×{v['people']}", v["utilisation"]) for k, v in report["staff"].items()
                       if k not in ("follow_up", "contractor_manager", "file_clerk")])
    rooms = line_chart({"use": [m["figures"]["courtroom_utilization"]["value"] for m in months],
                        "of_bound": [m["figures"]["courtroom_utilization_of_bound"]["value"] for m in months]},
                       y_max=1.0, target=0.9, labels={"use": "利用率 use", "of_bound": "占需求上限 of bound"})
    return env.get_template("report.html").render(
        report=report, labels=LABELS, monthly=monthly, waiting=waiting, overdue=overdue, layers=layers,
        staff=staff, rooms=rooms, fmt=_fmt)


def write(out: Path, report: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True, default=str)
                                     + "\n", encoding="utf-8")
    (out / "report.html").write_text(render_html(report), encoding="utf-8")


def month_days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
