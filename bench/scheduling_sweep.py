"""Scheduling within 3 hours by itself: a seed-like day of filings with the scheduling sweep on.

    scripts/with-postgres.sh .venv/bin/python bench/scheduling_sweep.py [--backlog 300] [--filings 63]

A court of the seed's size (bench/scheduling.py's: 12 rooms, 30 judges, 10 enforcement
officers) whose calendar already holds the previous week's intake (``--backlog`` cases,
auto-scheduled into March), then one working day (Monday 1 March 2027) of ``--filings``
cases (the seed court's 15,663 a year is about 63 a working day), filed at random times
08:30-17:30 local. The sweep runs at every 5-minute tick from 08:00 to midnight, as
``ancillary tick`` would, in three modes side by side on the same filings:

- ``off``: the sweep switched off (the reference: no person in the loop books nothing);
- ``propose``: the default (a slot proposed for each case, nobody accepts);
- ``auto_book``: ANCILLARY_AUTO_BOOK=1 (the sweep books them itself).

Reports the share of the day's scheduling tasks done (or, for ``propose``, proposed) within
3 hours of filing, the turnaround p50/max in minutes, speedy cases inside 7 days, and the
sweep's seconds per tick (mean, max). On SQLite, and on PostgreSQL when
ANCILLARY_TEST_POSTGRES_URL is set. Writes bench/out/scheduling_sweep.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from scheduling import ROOT, TRIBUNALS, WINDOW, build_court, log, new_database, settings_for
from sqlalchemy import select

DAY = date(2027, 3, 1)  # a Monday
MODES = ("off", "propose", "auto_book")


def filings(settings, n: int, seed: int = 2027) -> list[dict]:
    rng = random.Random(seed)
    tz = settings.timezone
    out = []
    for index in range(n):
        kind = rng.choices(["speedy", "summary", "ordinary", "enforcement"], [30, 35, 15, 20])[0]
        at = datetime.combine(DAY, time(8, 30), tz) + timedelta(minutes=rng.randrange(0, 9 * 60))
        venue = "main" if rng.random() < 0.6 else rng.choice(TRIBUNALS)
        out.append({"index": index, "kind": kind, "venue": venue, "filed_at": at.astimezone(UTC)})
    return sorted(out, key=lambda f: f["filed_at"])


def file_one(session, settings, item, judges, officers, intake):
    from ancillary.cases.services import CaseIn, PartyIn, file_case

    rng = random.Random(item["index"])
    officer = rng.choice(officers if item["kind"] == "enforcement" else judges)
    file_case(session, CaseIn(number=f"(2027)鲁1002民初9{item['index']:04d}号", kind=item["kind"], venue=item["venue"],
                              filed_at=item["filed_at"], judge_id=officer,
                              parties=[PartyIn(role="plaintiff", name="原告"), PartyIn(role="defendant", name="被告")]),
              actor=intake, now=item["filed_at"], settings=settings)


def day_figures(session, settings, tick_seconds: list[float]) -> dict:
    from ancillary.cases.models import Case
    from ancillary.queues.models import Task, TaskKind
    from ancillary.scheduling.kpis import scheduling_kpis
    from ancillary.scheduling.models import HearingProposal

    start = datetime.combine(DAY, time(0), settings.timezone).astimezone(UTC)
    tasks = session.execute(select(Task.case_id, Task.created_at, Task.completed_at).join(Case, Case.id == Task.case_id)
                            .where(Task.kind == TaskKind.schedule_hearing, Case.filed_at >= start)).all()
    proposed = dict(session.execute(select(HearingProposal.case_id, HearingProposal.created_at)).all())
    window = timedelta(hours=settings.scheduling_task_hours)
    done = [(c - a).total_seconds() / 60 for _, a, c in tasks if c is not None]
    within = sum(c is not None and c - a <= window for _, a, c in tasks)
    offered = sum(cid in proposed and proposed[cid] - a <= window for cid, a, _ in tasks)
    kpis = scheduling_kpis(session, start, start + timedelta(days=31), settings)
    return {"tasks": len(tasks), "done_within_3h": within, "done_within_3h_rate": round(within / len(tasks), 4),
            "proposed_within_3h_rate": round(offered / len(tasks), 4),
            "turnaround_minutes_p50": statistics.median(done) if done else None,
            "turnaround_minutes_max": max(done) if done else None,
            "speedy_heard_within_7_days_rate": kpis.get("speedy_heard_within_7_days_rate"),
            "sweep_seconds_mean": round(statistics.mean(tick_seconds), 3) if tick_seconds else None,
            "sweep_seconds_max": round(max(tick_seconds), 3) if tick_seconds else None, "ticks": len(tick_seconds)}


def one_day(kind: str, mode: str, backlog: int, n: int, tmp: Path) -> dict:
    from flask_migrate import upgrade

    from ancillary import create_app
    from ancillary.auth.models import Role, User
    from ancillary.extensions import db
    from ancillary.scheduling import auto, jobs

    url, drop = new_database(kind, tmp)
    settings = settings_for(url, tmp).with_overrides(auto_schedule_sweep=mode != "off", auto_book=mode == "auto_book")
    app = create_app(settings)
    try:
        with app.app_context():
            upgrade()
            session = db.session
            scheduler = build_court(session, settings, backlog)
            auto.run(session, *WINDOW, actor=scheduler, now=datetime(2027, 2, 26, 17, 0, tzinfo=UTC), settings=settings)
            session.commit()
            judges = list(session.scalars(select(User.id).where(User.role == Role.judge)))
            officers = list(session.scalars(select(User.id).where(User.role == Role.enforcement_officer)))
            intake = session.scalar(select(User).where(User.role == Role.intake_clerk))
            queue = filings(settings, n)
            tick = datetime.combine(DAY, time(8, 0), settings.timezone).astimezone(UTC)
            end = tick + timedelta(hours=16)
            seconds = []
            while tick <= end:
                while queue and queue[0]["filed_at"] <= tick:
                    file_one(session, settings, queue.pop(0), judges, officers, intake)
                session.commit()
                started = clock.perf_counter()
                jobs.sweep(session, tick, settings)
                session.commit()
                seconds.append(clock.perf_counter() - started)
                tick += timedelta(minutes=5)
            figures = day_figures(session, settings, seconds if mode != "off" else [])
            db.session.remove()
            db.engine.dispose()
        return {"database": kind, "mode": mode, "backlog": backlog, "filings": n, **figures}
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=300)
    parser.add_argument("--filings", type=int, default=63)
    args = parser.parse_args()
    databases = ["sqlite"] + (["postgresql"] if os.environ.get("ANCILLARY_TEST_POSTGRES_URL") else [])
    load = os.getloadavg()
    out = {"machine": {"cpus": os.cpu_count(), "load_at_start": [round(x, 1) for x in load]}, "runs": []}
    with tempfile.TemporaryDirectory() as folder:
        for kind in databases:
            for mode in MODES:
                log(f"==> {kind}, sweep {mode}: {args.backlog} cases booked before, {args.filings} filed on {DAY}")
                figures = one_day(kind, mode, args.backlog, args.filings, Path(folder))
                out["runs"].append(figures)
                log("    " + json.dumps(figures, ensure_ascii=False))
    out["machine"]["load_at_end"] = [round(x, 1) for x in os.getloadavg()]
    target = ROOT / "bench" / "out" / "scheduling_sweep.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    log(f"written {target} (load {out['machine']['load_at_start']} -> {out['machine']['load_at_end']})")


if __name__ == "__main__":
    main()
