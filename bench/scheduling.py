"""Scheduling benchmark: auto-scheduling a month, and booking under 16 racing clients.

    scripts/with-postgres.sh .venv/bin/python bench/scheduling.py [--cases 1300] [--rounds 40]

Part 1 (SQLite file, and PostgreSQL when ANCILLARY_TEST_POSTGRES_URL is set): a court
of the seed's size (12 rooms: 6 at the main court, 2 at each of 3 tribunals; 30
judges, 10 enforcement officers) with a month's intake pending (default 1,300 cases,
the demo's mix of kinds and venues, filed in the week before the window), then
auto-scheduling of the next month. Reports seconds, utilisation, the ratio of booked
minutes to the upper bound sum over venues of min(demand, capacity), and speedy cases
inside their 7 days. Then the same with twice the intake (demand above capacity).

Part 2 (PostgreSQL only): 16 threads, each a scheduler with its own token and cases,
book through the HTTP layer (Flask's test client, in process); clients c and c+12
aim at the same room and minute, so races are real. Reports bookings/s, latency
p50/p99, refusals, and checks the database for double bookings (must be zero).

Prints progress and results; writes bench/out/scheduling.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time as clock
import uuid
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import postgres_database  # noqa: E402
from scheduling_bound import stretch_bound, with_speedy_rule  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

from ancillary import create_app  # noqa: E402
from ancillary.config import Settings  # noqa: E402

TZ_NAME = "Asia/Shanghai"
TRIBUNALS = ["张村人民法庭", "孙家疃人民法庭", "温泉人民法庭"]
KIND_WEIGHTS = {"speedy": 30, "summary": 35, "ordinary": 15, "enforcement": 20}
NOW = datetime(2027, 2, 26, 17, 0, tzinfo=UTC)  # Saturday 27 Feb 01:00 local: after the week's filings
WINDOW = (date(2027, 3, 1), date(2027, 3, 31))


def log(message: str) -> None:
    print(message, flush=True)


def settings_for(url: str, tmp: Path) -> Settings:
    return Settings.from_env({
        "ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench", "ANCILLARY_QR_KEYS": "K1:bench-secret-0123456789",
        "ANCILLARY_STORAGE_DIR": str(tmp / "storage"), "ANCILLARY_TIMEZONE": TZ_NAME}, testing=True)


def new_database(kind: str, tmp: Path) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / (uuid.uuid4().hex + '.sqlite3')}", lambda: None
    return postgres_database()


def build_court(session, settings, n_cases: int, seed: int = 136):
    """Rooms, officers, a scheduler, the calendar, and ``n_cases`` pending cases."""
    from ancillary.auth.models import Role, User
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.scheduling.calendar import load_official
    from ancillary.scheduling.services import create_courtroom

    rng = random.Random(seed)
    tz = settings.timezone

    def user(name, role, phone=None):
        account = User(username=name, display_name=name, role=role, phone=phone, is_active=True, is_president=False,
                       created_at=NOW)
        session.add(account)
        return account

    judges = [user(f"judge{i:02d}", Role.judge, f"+86138000{i:05d}") for i in range(30)]
    officers = [user(f"officer{i:02d}", Role.enforcement_officer, f"+86139000{i:05d}") for i in range(10)]
    intake = user("intake", Role.intake_clerk)
    scheduler = user("scheduler", Role.scheduler)
    session.flush()
    for n in range(1, 7):
        create_courtroom(session, name=f"第{n}法庭", venue="main", opens=time(8, 30), closes=time(17, 30), actor=None,
                         now=NOW)
    for tribunal in TRIBUNALS:
        for n in (1, 2):
            create_courtroom(session, name=f"第{n}法庭", venue=tribunal, opens=time(8, 30), closes=time(17, 0),
                             actor=None, now=NOW)
    load_official(session, [2027], now=NOW)
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    filing_days = [date(2027, 2, 22) + timedelta(days=d) for d in range(5)]  # Mon-Fri before the window
    for index in range(n_cases):
        kind = rng.choices(kinds, weights)[0]
        day = filing_days[index * len(filing_days) // n_cases]
        filed_at = datetime.combine(day, time(8, 30), tz) + timedelta(minutes=rng.randrange(0, 8 * 60))
        venue = "main" if rng.random() < 0.6 else rng.choice(TRIBUNALS)
        officer = rng.choice(officers if kind == "enforcement" else judges)
        file_case(session, CaseIn(number=f"(2027)鲁1002{'执' if kind == 'enforcement' else '民初'}{index + 1}号",
                                  kind=kind, venue=venue, filed_at=filed_at, judge_id=officer.id,
                                  parties=[PartyIn(role="plaintiff", name="原告"), PartyIn(role="defendant", name="被告")]),
                  actor=intake, now=filed_at, settings=settings)
        if (index + 1) % 500 == 0:
            log(f"    filed {index + 1}/{n_cases}")
    session.commit()
    return scheduler


def bound_and_use(session, settings, hearings_ids=None) -> dict:
    """Demand and capacity per venue in the window; the bound is the sum of their minima."""
    from ancillary.cases.models import Case
    from ancillary.scheduling.queries import utilization
    from ancillary.scheduling.rules import hearing_minutes

    report = utilization(session, *WINDOW, settings)
    capacity: dict[str, int] = {}
    for room in report["rooms"]:
        capacity[room["venue"]] = capacity.get(room["venue"], 0) + room["open_minutes"]
    demand: dict[str, int] = {}
    for case in session.scalars(select(Case)):
        demand[case.venue] = demand.get(case.venue, 0) + hearing_minutes(case, settings)
    bound = sum(min(demand.get(v, 0), capacity.get(v, 0)) for v in capacity)
    return {"demand_minutes": sum(demand.values()), "capacity_minutes": sum(capacity.values()),
            "bound_minutes": bound, "booked_minutes": report["booked_minutes"],
            "utilization": report["utilization"], "ratio_to_bound": round(report["booked_minutes"] / bound, 4),
            "by_venue": {v: {"demand": demand.get(v, 0), "capacity": capacity[v]} for v in capacity}}


def auto_month(kind: str, n_cases: int, tmp: Path) -> dict:
    from flask_migrate import upgrade

    from ancillary.cases.models import Case
    from ancillary.extensions import db
    from ancillary.scheduling import auto
    from ancillary.scheduling.models import Hearing, HearingStatus
    from ancillary.scheduling.rules import speedy_limit

    url, drop = new_database(kind, tmp)
    app = create_app(settings_for(url, tmp))
    settings = app.config["SETTINGS"]
    try:
        with app.app_context():
            upgrade()
            log(f"  [{kind}] building a court with {n_cases} pending cases")
            scheduler = build_court(db.session, settings, n_cases)
            started = clock.perf_counter()
            plan, placements = auto.plan(db.session, *WINDOW, now=NOW, settings=settings)
            planned = clock.perf_counter() - started
            db.session.rollback()
            started = clock.perf_counter()
            result = auto.run(db.session, *WINDOW, actor=db.session.merge(scheduler), now=NOW, settings=settings)
            db.session.commit()
            seconds = clock.perf_counter() - started
            log(f"  [{kind}] planned in {planned:.2f} s; planned and booked {len(result['scheduled'])} in {seconds:.2f} s")
            figures = bound_and_use(db.session, settings)
            speedy_total = speedy_in = 0
            heard = dict(db.session.execute(select(Hearing.case_id, Hearing.ends_at).where(
                Hearing.status == HearingStatus.booked)).all())
            for case in db.session.scalars(select(Case).where(Case.kind == "speedy")):
                speedy_total += 1
                speedy_in += case.id in heard and heard[case.id] <= speedy_limit(case, settings)
            reasons: dict[str, int] = {}
            for item in result["unscheduled"]:
                reasons[item["reason"]] = reasons.get(item["reason"], 0) + 1
            double = db.session.scalar(text(
                "SELECT count(*) FROM hearings a JOIN hearings b ON a.id < b.id AND a.status = 'booked' AND "
                "b.status = 'booked' AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at AND "
                "(a.courtroom_id = b.courtroom_id OR a.judge_id = b.judge_id)"))
        return {"database": kind, "cases": n_cases, "window": [d.isoformat() for d in WINDOW],
                "plan_seconds": round(planned, 3), "plan_and_book_seconds": round(seconds, 3),
                "scheduled": len(result["scheduled"]), "unscheduled": len(result["unscheduled"]),
                "unscheduled_reasons": reasons, "speedy_cases": speedy_total,
                "speedy_heard_within_7_days": speedy_in, "overlapping_pairs": double, **figures}
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()


DENSE_LENGTHS = {"speedy": 30, "summary": 60, "ordinary": 120, "enforcement": 60}
DENSE_NOW = datetime(2027, 2, 25, 9, 0, tzinfo=UTC)  # Thursday 17:00 local: every notice ends by 1 March


def dense_court(session, settings, first: date, last: date, seed: int, overload: float = 1.05):
    """2 rooms at the main court, 6 judges, and pending cases worth ``overload`` x the rooms' open minutes."""
    from ancillary.auth.models import Role, User
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.scheduling.calendar import load_official
    from ancillary.scheduling.rules import Ledger
    from ancillary.scheduling.services import create_courtroom

    rng = random.Random(seed)
    tz = settings.timezone
    judges = [User(username=f"j{i}", display_name=f"j{i}", role=Role.judge, phone=f"+8613800{i:06d}",
                   is_active=True, is_president=False, created_at=NOW) for i in range(6)]
    intake = User(username="intake", display_name="i", role=Role.intake_clerk, is_active=True, is_president=False,
                  created_at=NOW)
    session.add_all([*judges, intake])
    session.flush()
    for n in (1, 2):
        create_courtroom(session, name=f"第{n}法庭", venue="main", opens=time(8, 30), closes=time(17, 30), actor=None,
                         now=NOW)
    load_official(session, [2027], now=NOW)
    ledger = Ledger.load(session, first, last, tz=tz)
    capacity = sum(ledger.open_minutes(r, d) for r in ledger.rooms for d in ledger.working.between(first, last))
    kinds, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    demand, index = 0, 0
    while demand < capacity * overload:
        kind = rng.choices(kinds, weights)[0]
        # Filed in the week before the window (speedy limits fall in its first week).
        filed_at = datetime.combine(date(2027, 2, 22) + timedelta(days=rng.randrange(4)), time(9), tz)
        file_case(session, CaseIn(number=f"D{seed}-{index}", kind=kind, venue="main", filed_at=filed_at,
                                  judge_id=rng.choice(judges).id, parties=[PartyIn(role="plaintiff", name="甲")]),
                  actor=intake, now=filed_at, settings=settings)
        demand += DENSE_LENGTHS[kind]  # the lengths by kind (SPEC 2); no track is set
        index += 1
    session.commit()
    return capacity, demand, index


def dense(first: date, last: date, seeds: int, tmp: Path) -> dict:
    """Plan dense windows with the packer and, as the reference, plain earliest-fit; booked minutes of the optimum."""
    from flask_migrate import upgrade

    from ancillary.extensions import db
    from ancillary.scheduling import auto, repair
    from ancillary.scheduling.queries import earliest_start
    from ancillary.scheduling.rules import Ledger, Need

    rows = []
    for seed in range(seeds):
        url, drop = new_database("sqlite", tmp)
        app = create_app(settings_for(url, tmp))
        settings = app.config["SETTINGS"]
        try:
            with app.app_context():
                upgrade()
                capacity, demand, cases = dense_court(db.session, settings, first, last, seed)
                # The packing's quality: this window is the whole world, with no speedy case still to come,
                # so the reserve kept for them is off here and measured on its own below.
                started = clock.perf_counter()
                plan, placements = auto.plan(db.session, first, last, now=DENSE_NOW,
                                             settings=settings.with_overrides(speedy_reserve_percent=0))
                seconds = clock.perf_counter() - started
                packed = sum(n.minutes for n, *_ in placements)
                _, kept = auto.plan(db.session, first, last, now=DENSE_NOW,
                                    settings=settings.with_overrides(speedy_reserve_percent=150))
                packed_with_reserve = sum(n.minutes for n, *_ in kept)
                speedy_left = sum(1 for u in plan.unscheduled if u["reason"] == "no_slot_before_speedy_limit")
                # Reference: each case, in the same order, at its earliest feasible slot.
                needs = sorted((Need.of(db.session, c, settings) for c in auto.pending_cases(db.session, DENSE_NOW)),
                               key=lambda n: (n.kind != "speedy", n.latest, n.filed_at, n.case_id))
                ledger = Ledger.load(db.session, first, last, tz=settings.timezone)
                days = ledger.working.between(first, last)
                not_before = {n.case_id: earliest_start(n, DENSE_NOW, settings) for n in needs}
                bound = stretch_bound(needs, not_before, ledger, days, settings.timezone)
                speedy = [n for n in needs if n.kind == "speedy"]
                speedy_bound = stretch_bound(speedy, not_before, ledger, days, settings.timezone) // 30
                earliest_fit = 0
                for need in needs:
                    found = repair.earliest(ledger, need, days, not_before[need.case_id])
                    if found is not None:
                        repair.add(ledger, found)
                        earliest_fit += need.minutes
            heard = sum(1 for n, *_ in placements if n.kind == "speedy")
            if heard == speedy_bound:  # every schedule that keeps the 7-day rule hears this many
                bound = with_speedy_rule(bound, needs, heard)
            optimum = min(capacity, demand, bound)
            rows.append({"seed": seed, "cases": cases, "capacity_minutes": capacity, "demand_minutes": demand,
                         "optimum_bound_minutes": optimum, "packed_minutes": packed,
                         "packed_of_optimum": round(packed / optimum, 4),
                         "earliest_fit_of_optimum": round(earliest_fit / optimum, 4),
                         "with_speedy_reserve_of_optimum": round(packed_with_reserve / optimum, 4),
                         "speedy_without_slot": speedy_left,
                         "speedy_placed": heard, "speedy_placeable_at_most": speedy_bound,
                         "plan_seconds": round(seconds, 3)})
            log(f"  [dense {first}..{last} seed {seed}] {json.dumps(rows[-1])}")
        finally:
            with app.app_context():
                db.engine.dispose()
            drop()
    return {"window": [first.isoformat(), last.isoformat()], "runs": rows,
            "packed_of_optimum_min": min(r["packed_of_optimum"] for r in rows),
            "earliest_fit_of_optimum_min": min(r["earliest_fit_of_optimum"] for r in rows),
            "with_speedy_reserve_of_optimum_min": min(r["with_speedy_reserve_of_optimum"] for r in rows)}


def race(rounds: int, tmp: Path, clients: int = 16) -> dict:
    """``clients`` racing clients (16; 1 measures a booking alone) booking through the API on PostgreSQL."""
    from flask_migrate import upgrade

    from ancillary.auth.models import Role, User
    from ancillary.auth.services import issue_token
    from ancillary.cases.services import CaseIn, PartyIn, file_case
    from ancillary.extensions import db
    from ancillary.scheduling.calendar import load_official
    from ancillary.scheduling.services import create_courtroom

    url, drop = new_database("postgresql", tmp)
    app = create_app(settings_for(url, tmp))
    settings = app.config["SETTINGS"]
    app.config["CLOCK"] = lambda: NOW
    try:
        with app.app_context():
            upgrade()
            session = db.session
            rooms = [create_courtroom(session, name=f"第{n}法庭", venue="main", opens=time(8, 30), closes=time(17, 30),
                                      actor=None, now=NOW).id for n in range(1, 13)]
            load_official(session, [2027], now=NOW)
            intake = User(username="intake", display_name="intake", role=Role.intake_clerk, is_active=True,
                          is_president=False, created_at=NOW)
            session.add(intake)
            work = []
            for c in range(clients):
                scheduler = User(username=f"sched{c}", display_name="s", role=Role.scheduler, is_active=True,
                                 is_president=False, created_at=NOW)
                judge = User(username=f"judge{c}", display_name="j", role=Role.judge, phone=f"+861380000{c:04d}",
                             is_active=True, is_president=False, created_at=NOW)
                session.add_all([scheduler, judge])
                session.flush()
                token, _ = issue_token(session, scheduler, now=NOW, lifetime=timedelta(days=1))
                jobs = []
                for r in range(rounds):
                    case = file_case(session, CaseIn(number=f"R{c}-{r}", kind="ordinary", venue="main",
                                                     filed_at=NOW - timedelta(hours=1), judge_id=judge.id,
                                                     parties=[PartyIn(role="plaintiff", name="甲")]),
                                     actor=intake, now=NOW - timedelta(hours=1), settings=settings)
                    # Round r: a working day in March, an hour from 08:30; clients c and c+12 share a room.
                    day = date(2027, 3, 1) + timedelta(days=(r // 8) + 2 * ((r // 8) // 5))
                    starts = datetime.combine(day, time(8, 30), settings.timezone) + timedelta(hours=r % 8)
                    jobs.append({"case_id": case.id, "courtroom_id": rooms[c % 12],
                                 "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()})
                work.append((token, jobs))
            session.commit()
        log(f"  [race] {clients} clients x {rounds} bookings each")
        barrier = threading.Barrier(clients)
        latencies: list[float] = []
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def client(token, jobs):
            test_client = app.test_client()
            barrier.wait()
            for body in jobs:
                t0 = clock.perf_counter()
                response = test_client.post("/api/v1/hearings", json=body, headers={"Authorization": f"Bearer {token}"})
                elapsed = clock.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        threads = [threading.Thread(target=client, args=w) for w in work]
        started = clock.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = clock.perf_counter() - started
        with app.app_context():
            double = db.session.scalar(text(
                "SELECT count(*) FROM hearings a JOIN hearings b ON a.id < b.id AND a.status = 'booked' AND "
                "b.status = 'booked' AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at AND "
                "(a.courtroom_id = b.courtroom_id OR a.judge_id = b.judge_id)"))
            booked = db.session.scalar(text("SELECT count(*) FROM hearings"))
        latencies.sort()

        def pct(p):
            return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 1)

        return {"clients": clients, "requests": len(latencies), "seconds": round(seconds, 3),
                "statuses": {str(k): v for k, v in sorted(statuses.items())}, "bookings": booked,
                "bookings_per_second": round(booked / seconds, 1),
                "requests_per_second": round(len(latencies) / seconds, 1),
                "latency_ms_p50": pct(0.5), "latency_ms_p99": pct(0.99), "double_bookings": double,
                "expected_bookings": clients * rounds - max(0, clients - 12) * rounds}
    finally:
        with app.app_context():
            db.engine.dispose()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1300)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=5, help="dense weeks and months to plan")
    parser.add_argument("--only", choices=["dense", "auto", "race"], help="run one part only")
    args = parser.parse_args()
    out: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}, "auto": [], "race": None}
    databases = ["sqlite"] + (["postgresql"] if os.environ.get("ANCILLARY_TEST_POSTGRES_URL") else [])
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if args.only in (None, "dense"):
            out["dense"] = []
            for first, last in ((date(2027, 3, 1), date(2027, 3, 5)), WINDOW):
                log(f"==> dense window {first}..{last}: 2 rooms, 6 judges, demand 5% over capacity, {args.seeds} seeds")
                out["dense"].append(dense(first, last, args.seeds, tmp))
        for kind in databases if args.only in (None, "auto") else []:
            for n in (args.cases, args.cases * 2):
                log(f"==> auto-scheduling {WINDOW[0]}..{WINDOW[1]} with {n} pending cases on {kind}")
                figures = auto_month(kind, n, tmp)
                out["auto"].append(figures)
                log(json.dumps({k: v for k, v in figures.items() if k != "by_venue"}, ensure_ascii=False))
        if "postgresql" in databases and args.only in (None, "race"):
            log("==> booking race on PostgreSQL")
            out["race"] = race(args.rounds, tmp)
            log(json.dumps(out["race"]))
        elif args.only in (None, "race"):
            log("(no ANCILLARY_TEST_POSTGRES_URL: run under scripts/with-postgres.sh for the PostgreSQL race)")
    target = ROOT / "bench" / "out" / "scheduling.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(out, indent=2, ensure_ascii=False))
    log(f"written {target}")


if __name__ == "__main__":
    main()
