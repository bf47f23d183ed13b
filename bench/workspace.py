"""Server time of the court's workspace pages at the seed court's scale.

    .venv/bin/python bench/workspace.py [--db sqlite|postgresql] [--cases 15000] [--repeat 5]

1. The dashboard for a whole year (goal: at most 1 s server time; the page's table, and
   separately the weekly charts it fetches after): a year of cases filed
   at the seed court's pace (15,000 by default), each heard once in one of 12 main-court
   rooms, served (88% of orders) or not, closed and archived as time allows, with the
   contractor's tasks open, held and overdue — bulk-inserted, then GET /dashboard and
   GET /api/v1/reports/dashboard over that year.
2. /schedule for a week with 12 rooms fully booked (goal: at most 300 ms server time): the
   page and the API calls its script makes on opening (me, courtrooms, the week's hearings,
   court days, the two scheduling queues). Filing runs at 2.5 times the pace in the two weeks
   before that week, and hearings are booked first come, first served from the third day after
   filing, so the week's every hour-long slot (7 a room-day around the lunch break) is taken.

Times are the median of --repeat requests through Flask's test client (no network).
Writes bench/out/workspace-<db>.json. Nothing here is asserted.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from zoneinfo import ZoneInfo

from common import fresh_database, make_app, write

TZ = ZoneInfo("Asia/Shanghai")
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
NOW = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)
WEEK = date(2026, 6, 8)  # a Monday, in the busy middle of the year
KINDS = (("speedy", 0.35, 1, 30), ("summary", 0.35, 3, 60), ("ordinary", 0.15, 6, 120), ("enforcement", 0.15, 6, 60))


def _working_days(session, first: date, last: date) -> list[date]:
    from ancillary.scheduling.calendar import WorkingDays

    working = WorkingDays.load(session, first, last)
    return working.between(first, last)


def _people(session):
    from ancillary.auth.services import create_user, issue_token
    from ancillary.scheduling.services import create_courtroom

    admin = create_user(session, username="admin", role="court_admin", actor=None, now=NOW, password="bench-pass-1")
    scheduler = create_user(session, username="sched", role="scheduler", actor=None, now=NOW, password="bench-pass-1")
    judges = [create_user(session, username=f"judge{i}", role="judge", display_name=f"法官{i}", actor=None, now=NOW)
              for i in range(30)]
    clerks = [create_user(session, username=f"serve{i}", role="service_clerk", display_name=f"送达员{i}", actor=None,
                          now=NOW) for i in range(5)]
    rooms = [create_courtroom(session, name=f"第{n}法庭", venue="main", opens=clock(8, 30), closes=clock(17, 30),
                              actor=None, now=NOW) for n in range(1, 13)]
    tokens = {u.username: issue_token(session, u, now=NOW, lifetime=timedelta(days=3650))[0] for u in (admin, scheduler)}
    return admin, scheduler, judges, clerks, rooms, tokens


STARTS = (clock(8, 30), clock(9, 30), clock(10, 30), clock(13, 30), clock(14, 30), clock(15, 30), clock(16, 30))


def _filing_days(days: list[date], n_cases: int) -> list[date]:
    """The filing day of each case, in order: the seed's even pace, two and a half times it in the two weeks
    before WEEK, so the backlog books WEEK's every slot in all 12 rooms."""
    weights = [2.5 if WEEK - timedelta(days=14) <= day < WEEK else 1.0 for day in days]
    total, running, out = sum(weights), 0.0, []
    for day, weight in zip(days, weights, strict=True):
        running += weight
        while len(out) < round(n_cases * running / total):
            out.append(day)
    return out


def _hearing_slots(days: list[date], filing: list[date], rooms: int) -> list[tuple[date, clock, int] | None]:
    """First come, first booked: each case the first free hour-long slot of any room from the third day
    after its filing (7 a room-day around the lunch break); None when the year has none left."""
    slots = [(day, start, room) for day in days for start in STARTS for room in range(rooms)]
    first_slot = {day: index * len(STARTS) * rooms for index, day in enumerate(days)}
    later = {day: next((d for d in days if d >= day + timedelta(days=3)), None) for day in set(filing)}
    cursor, out = 0, []
    for day in filing:
        earliest = first_slot[later[day]] if later[day] else len(slots)
        cursor = max(cursor, earliest)
        out.append(slots[cursor] if cursor < len(slots) else None)
        cursor += 1
    return out


def fill(session, n_cases: int) -> dict:
    from sqlalchemy import insert

    from ancillary.cases.models import Case, Dossier, Party
    from ancillary.queues.models import Task
    from ancillary.scheduling.calendar import load_official
    from ancillary.scheduling.models import Hearing
    from ancillary.service.models import ServiceOrder

    rng = random.Random(136)
    load_official(session, [2026, 2027], now=NOW)
    admin, scheduler, judges, clerks, rooms, tokens = _people(session)
    days = _working_days(session, *YEAR)
    filing = _filing_days(days, n_cases)
    slots = _hearing_slots(days, filing, len(rooms))
    cases, parties, dossiers, hearings, orders, tasks = [], [], [], [], [], []
    for i in range(n_cases):
        day = filing[i]
        filed = datetime.combine(day, clock(8, 30), TZ) + timedelta(minutes=rng.randrange(0, 480))
        kind, _, months, minutes = rng.choices(KINDS, weights=[k[1] for k in KINDS])[0]
        deadline = filed + timedelta(days=30 * months)
        closed = filed + timedelta(days=rng.randrange(10, 30 * months + 5)) if rng.random() < 0.9 else None
        status = "open" if closed is None or closed > NOW else ("archived" if rng.random() < 0.8 else "closed")
        cases.append({"id": i + 1, "number": f"(2026)鲁1002民初{i + 1}号", "kind": kind, "venue": "main",
                      "filed_at": filed, "judge_id": judges[i % 30].id, "volumes": 1, "status": status,
                      "deadline_at": deadline, "closed_at": closed if status != "open" else None,
                      "mediation_likely": False, "created_by_id": admin.id, "created_at": filed})
        parties.append({"id": i + 1, "case_id": i + 1, "role": "defendant", "name": f"当事人{i}"})
        dossiers.append({"id": i + 1, "case_id": i + 1, "volume": 1, "code": f"DS{i + 1:07d}-01",
                         "qr_token": f"bench-token-{i + 1}", "created_at": filed})
        if slots[i] is not None:
            slot_day, slot_start, room = slots[i]
            starts = datetime.combine(slot_day, slot_start, TZ)
            hearings.append({"case_id": i + 1, "courtroom_id": rooms[room].id, "judge_id": judges[i % 30].id,
                             "starts_at": starts, "ends_at": starts + timedelta(minutes=60), "status": "booked",
                             "lane": 0, "sequence": 0, "is_overlap_eligible": False,
                             "created_at": filed + timedelta(minutes=rng.randrange(20, 300)), "updated_at": filed})
        served = rng.random() < 0.882
        layer = rng.choice((1, 2, 3))
        orders.append({"case_id": i + 1, "recipient_party_id": i + 1, "documents": "传票", "layer": layer,
                       "status": "served" if served else "exhausted", "layer_entered_at": filed,
                       "served_at": filed + timedelta(days=5) if served else None,
                       "served_layer": layer if served else None, "served_channel": "personal" if served else None,
                       "created_at": filed})
        tasks.append({"queue": "trial", "kind": "schedule_hearing", "case_id": i + 1, "priority": 1, "status": "done",
                      "assignee_id": scheduler.id, "created_at": filed, "due_at": filed + timedelta(hours=3),
                      "completed_at": filed + timedelta(hours=2)})
        held = rng.random() < 0.012  # ~180 serve tasks still held, most of them overdue
        tasks.append({"queue": "service", "kind": "serve", "case_id": i + 1, "party_id": i + 1, "priority": 1,
                      "status": "claimed" if held else "done", "assignee_id": clerks[i % 5].id, "created_at": filed,
                      "due_at": filed + timedelta(days=10 if not held else 400),
                      "completed_at": None if held else filed + timedelta(days=5)})
    for model, rows in ((Case, cases), (Party, parties), (Dossier, dossiers), (Hearing, hearings),
                        (ServiceOrder, orders), (Task, tasks)):
        for start in range(0, len(rows), 2000):
            session.execute(insert(model), rows[start:start + 2000])
    _archive(session, cases)
    session.commit()
    week = [h for h in hearings if WEEK <= h["starts_at"].date() < WEEK + timedelta(days=7)]
    return {"cases": n_cases, "hearings": len(hearings), "rooms": 12, "hearings_in_week": len(week),
            "week_slots": 12 * len(STARTS) * len([d for d in days if WEEK <= d < WEEK + timedelta(days=7)]),
            "tokens": tokens}


def _archive(session, cases):
    from sqlalchemy import insert

    from ancillary.archive.models import ArchiveRecord

    rows = [{"dossier_id": c["id"], "archived_at": c["closed_at"] + timedelta(days=20), "archive_location": "档案库 A"}
            for c in cases if c["status"] == "archived"]
    for start in range(0, len(rows), 2000):
        session.execute(insert(ArchiveRecord), rows[start:start + 2000])


def timed(client, path, headers, repeat: int) -> dict:
    times, status = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        status = response.status_code
    return {"path": path, "status": status, "median_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1)}


def signed_in(app, username: str):
    """A cookie-session client signed in through the /login form, as a browser is."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": "bench-pass-1", "csrf_token": csrf, "next": "/"})
    return client


# What /schedule costs the server for one week: the page, and every call its script makes on opening.
SCHEDULE_CALLS = ("schedule_page", "schedule_me_api", "schedule_courtrooms_api", "schedule_week_hearings_api",
                  "schedule_week_court_days_api", "schedule_queue_api", "schedule_enforcement_queue_api")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--cases", type=int, default=15000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    app = make_app(fresh_database(args.db), public_url="https://court.example.cn")
    app.config["CLOCK"] = lambda: NOW
    from ancillary.extensions import db

    with app.app_context():
        started = time.perf_counter()
        figures = fill(db.session, args.cases)
        print(f"filled {args.cases} cases in {time.perf_counter() - started:.1f} s")
        if args.db == "postgresql":
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
    tokens = figures.pop("tokens")
    client = app.test_client()
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    sched = {"Authorization": f"Bearer {tokens['sched']}"}
    year = f"from={YEAR[0]}&to={YEAR[1]}"
    week_from = datetime.combine(WEEK, clock(0), TZ).isoformat().replace("+", "%2B")
    week_to = datetime.combine(WEEK + timedelta(days=7), clock(0), TZ).isoformat().replace("+", "%2B")
    admin_browser, sched_browser = signed_in(app, "admin"), signed_in(app, "sched")
    results = {
        "db": args.db, **figures,
        "dashboard_year_page": timed(admin_browser, f"/dashboard?{year}", {}, args.repeat),
        "dashboard_year_trend_fragment": timed(admin_browser, f"/dashboard/trend?{year}", {}, max(1, args.repeat // 2)),
        "schedule_page": timed(sched_browser, f"/schedule?week={WEEK}", {}, args.repeat),
        "dashboard_year_api_with_trend": timed(client, f"/api/v1/reports/dashboard?{year}", admin,
                                               max(1, args.repeat // 2)),
        "dashboard_year_csv": timed(client, f"/api/v1/reports/dashboard.csv?{year}", admin, args.repeat),
        "schedule_week_hearings_api": timed(
            client, f"/api/v1/hearings?from={week_from}&to={week_to}&status=booked&limit=1000", sched, args.repeat),
        "schedule_week_court_days_api": timed(
            client, f"/api/v1/court-days?from={WEEK}&to={WEEK + timedelta(days=6)}", sched, args.repeat),
        "schedule_queue_api": timed(client, "/api/v1/tasks?queue=trial&kind=schedule_hearing&limit=1000", sched,
                                    args.repeat),
        "schedule_enforcement_queue_api": timed(
            client, "/api/v1/tasks?queue=enforcement&kind=schedule_hearing&limit=1000", sched, args.repeat),
        "schedule_me_api": timed(client, "/api/v1/me", sched, args.repeat),
        "schedule_courtrooms_api": timed(client, "/api/v1/courtrooms?limit=1000", sched, args.repeat),
    }
    results["schedule_week_total_ms"] = round(sum(results[k]["median_ms"] for k in SCHEDULE_CALLS), 1)
    results["goals"] = {"dashboard_year_ms": 1000, "schedule_week_ms": 300}
    write(f"workspace-{args.db}", results)


if __name__ == "__main__":
    main()
