"""Why speedy cases missed their 7 days, read from a replay's database.

    .venv/bin/python bench/speedy_misses.py DIR/replay.sqlite3 [--from 2026-02-01 --to 2026-03-01]

For every speedy case filed in the window whose first hearing starts after the end of the
7th day after filing (or that has none), it says which of three it was:

- ``unplaceable``: no working day of the court calendar lies inside its 7 days after the
  notice day (the court was shut throughout);
- ``rooms_full``: working days existed, but from its filing on, every room-minute of its
  venue inside its 7 days that its judge could sit was already booked, by non-speedy
  hearings booked before it was filed (counted separately from speedy ones);
- ``earlier_speedy``: the one slot left after it was filed went to another speedy case
  whose 7 days end no later (same filing day, filed first: often already proposed to it
  when this one came, since a proposal is not a hearing until a scheduler accepts it);
- ``planner``: a slot that the rules allowed stood free after it was filed, yet the
  planner booked something else into it or placed the case later.

The state at an instant is rebuilt from the hearings' rows and their move and cancel audit
entries, and every slot is asked of the product's own ``Ledger.refusal``. Nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ancillary.audit.models import AuditEntry  # noqa: E402
from ancillary.cases.models import Case, CaseKind  # noqa: E402
from ancillary.scheduling.calendar import WorkingDays  # noqa: E402
from ancillary.scheduling.models import Courtroom, Hearing  # noqa: E402
from ancillary.scheduling.rules import Booked, Ledger, Need, Room  # noqa: E402
from ancillary.timeutil import period_end_days  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class History:
    """Every hearing's place over time: booked at ``created_at``, moved and cancelled per the audit."""

    def __init__(self, session: Session):
        self.hearings = {h.id: h for h in session.scalars(select(Hearing))}
        self.kind = dict(session.execute(select(Case.id, Case.kind)).all())
        self.numbers = dict(session.execute(select(Case.id, Case.number)).all())
        self.limits = {case_id: period_end_days(aware(filed), 7, TZ) for case_id, filed in session.execute(
            select(Case.id, Case.filed_at).where(Case.kind == CaseKind.speedy))}
        self.moves = defaultdict(list)
        for entry in session.scalars(select(AuditEntry).where(
                AuditEntry.object_type == "hearings", AuditEntry.action.in_(["hearing.move", "hearing.cancel"]))
                .order_by(AuditEntry.at, AuditEntry.id)):
            self.moves[entry.object_id].append(entry)

    def at(self, moment: datetime) -> list[Booked]:
        """The hearings booked as they stood at ``moment``."""
        out = []
        for h in self.hearings.values():
            if aware(h.created_at) > moment:
                continue
            room, starts, ends, alive = h.courtroom_id, aware(h.starts_at), aware(h.ends_at), h.status == "booked"
            for entry in self.moves[h.id]:
                if aware(entry.at) <= moment:
                    continue
                if entry.action == "hearing.cancel":
                    alive = True
                else:
                    before = entry.before
                    room, starts, ends = before["courtroom_id"], _parse(before["starts_at"]), _parse(before["ends_at"])
                break
            if alive:
                out.append(Booked(h.id, h.case_id, room, h.judge_id, starts, ends, h.lane, h.is_overlap_eligible,
                                  self.numbers.get(h.case_id)))
        return out


def _parse(text: str) -> datetime:
    return aware(datetime.fromisoformat(text))


def ledger_at(rooms, working, booked: list[Booked], without: int) -> Ledger:
    ledger = Ledger(rooms, working, TZ)
    for b in booked:
        if b.case_id != without:
            ledger.add(b)
    return ledger


def classify(case, history: History, rooms, working, booking_times: list[datetime]) -> tuple[str, dict]:
    filed_day = aware(case.filed_at).astimezone(TZ).date()
    limit = period_end_days(aware(case.filed_at), 7, TZ)
    days = [d for d in working.between(filed_day + timedelta(days=1), limit.astimezone(TZ).date())]
    if not days:
        return "unplaceable", {}
    need = Need(case.id, case.number, "speedy", case.judge_id, case.venue, case.hearing_minutes or 30, False,
                aware(case.deadline_at), limit, aware(case.filed_at))
    not_before = datetime.combine(filed_day + timedelta(days=1), time(0), TZ).astimezone(UTC)
    moments = [aware(case.filed_at)] + [t for t in booking_times if t > aware(case.filed_at) and t <= limit]
    last_free, taker = None, None
    for moment in moments:
        ledger = ledger_at(rooms, working, history.at(moment), case.id)
        found = ledger.first_slot(need, days, max(not_before, moment))
        if found is None:
            break
        last_free = (moment, found)
    if last_free is None:
        ledger = ledger_at(rooms, working, history.at(aware(case.filed_at)), case.id)
        return "rooms_full", _blockers(ledger, need, days, history)
    moment, (room, starts, ends, _) = last_free
    after = [b for b in history.at(limit) if b.courtroom_id == room.id and b.starts_at < ends and starts < b.ends_at]
    taker = after[0] if after else None
    if taker is not None and history.kind.get(taker.case_id).value == "speedy" and \
            history.limits.get(taker.case_id, limit) <= limit:
        return "earlier_speedy", {"slot": (room.name, starts.astimezone(TZ)), "taken_by": history.numbers[taker.case_id]}
    return "planner", {"free_until": moment, "slot": (room.name, starts.astimezone(TZ)),
                       "taken_by": history.kind.get(taker.case_id).value if taker else None}


def _blockers(ledger: Ledger, need: Need, days: list[date], history: History) -> dict:
    minutes = Counter()
    for room in ledger.rooms_for(need.venue):
        for day in days:
            for b in ledger.by_room.get((room.id, day), ()):
                if b.lane == 0:
                    kind = history.kind[b.case_id].value
                    minutes["speedy" if kind == "speedy" else "other"] += int((b.ends_at - b.starts_at).seconds // 60)
            minutes["open"] += ledger.open_minutes(room.id, day)
    return dict(minutes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database")
    parser.add_argument("--from", dest="first", type=date.fromisoformat, default=date(2026, 2, 1))
    parser.add_argument("--to", dest="last", type=date.fromisoformat, default=date(2026, 3, 1))
    args = parser.parse_args()
    engine = create_engine(f"sqlite:///{args.database}")
    with Session(engine) as session:
        history = History(session)
        rooms = [Room(r.id, r.name, r.venue, r.opens, r.closes, r.is_active, r.lunch_starts, r.lunch_ends)
                 for r in session.scalars(select(Courtroom))]
        working = WorkingDays.load(session, date(2000, 1, 1), date(2100, 1, 1))
        booking_times = sorted({aware(h.created_at) for h in history.hearings.values()})
        start = datetime.combine(args.first, time(0), TZ)
        end = datetime.combine(args.last, time(0), TZ)
        cases = session.scalars(select(Case).where(Case.kind == CaseKind.speedy, Case.filed_at >= start,
                                                   Case.filed_at < end).order_by(Case.filed_at)).all()
        first_heard = defaultdict(lambda: None)
        for h in history.hearings.values():
            if h.status == "booked" and (first_heard[h.case_id] is None or aware(h.starts_at) < first_heard[h.case_id]):
                first_heard[h.case_id] = aware(h.starts_at)
        counts, by_day = Counter(), defaultdict(Counter)
        for case in cases:
            limit = period_end_days(aware(case.filed_at), 7, TZ)
            heard = first_heard[case.id]
            if heard is not None and heard <= limit:
                continue
            code, detail = classify(case, history, rooms, working, booking_times)
            counts[code] += 1
            day = aware(case.filed_at).astimezone(TZ).date()
            by_day[day][code] += 1
            when = f"heard {heard.astimezone(TZ):%m-%d %H:%M}" if heard else "not heard"
            print(f"{case.number} filed {aware(case.filed_at).astimezone(TZ):%m-%d %H:%M} {case.venue:4}", when,
                  code, detail)
        print(f"speedy filed: {len(cases)}; missed: {sum(counts.values())}: {dict(counts)}")
        for day in sorted(by_day):
            print(f"  filed {day}: {dict(by_day[day])}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
