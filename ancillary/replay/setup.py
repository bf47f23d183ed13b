"""Build the simulated court through the product's services: people, posts, rooms, law firms, calendar."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from ancillary.demo import TRIBUNALS, _name, _phone
from ancillary.replay import actions
from ancillary.replay.court import ReplaySettings, derive_rooms

GROUP_OF = {"intake_clerk": "pre_trial", "scheduler": "trial", "service_clerk": "trial", "file_clerk": "trial",
            "archivist": "archive", "contractor_manager": "trial"}


@dataclass
class Court:
    admin_id: int
    judges: list[int]
    officers: list[int]
    staff: dict[str, list[int]] = field(default_factory=dict)
    firms_agreed: list[int] = field(default_factory=list)
    firms_other: list[int] = field(default_factory=list)
    venues: list[str] = field(default_factory=list)
    tribunal_rooms: list[int] = field(default_factory=list)  # a tribunal's share of filings follows its rooms


def build_court(session: Session, rs: ReplaySettings, *, now: datetime, rng: random.Random, settings) -> Court:
    """Everything the year needs before the first filing; flushed, not committed."""

    def person(username: str, role: str, display: str):
        return actions.add_user(session, username=username, role=role, display_name=display, phone=_phone(rng),
                                now=now)

    admin = person("admin", "court_admin", "审管办 管理员")
    person("president", "court_admin", "院长")
    judges = [person(f"judge{i:02d}", "judge", f"{_name(rng)}法官") for i in range(1, rs.judges + 1)]
    officers = [person(f"officer{i:02d}", "enforcement_officer", f"{_name(rng)}执行员")
                for i in range(1, rs.officers + 1)]
    court = Court(admin.id, [j.id for j in judges], [o.id for o in officers])
    for role, count in sorted(rs.staff.items()):
        members = [person(f"{role.replace('_', '')}{i:02d}", role, _name(rng)) for i in range(1, count + 1)]
        court.staff[role] = [m.id for m in members]
        if role != "follow_up":
            for member in members:
                actions.add_post(session, user=member, group_code=actions.GroupCode(GROUP_OF[role]), kind=role,
                                 now=now)
    _pair_follow_ups(session, court, admin, now)
    if rs.venue_rooms is not None:
        _add_rooms(session, rs, admin, now)
    else:
        rooms = derive_rooms(rs, settings.hearing_minutes)
        for venue, kind in (("main", "main"), *((tribunal, "tribunal") for tribunal in TRIBUNALS)):
            opens, closes = rs.room_hours[kind]
            for n in range(1, rooms[kind] + 1):
                actions.add_courtroom(session, name=f"第{n}法庭", venue=venue, opens=opens, closes=closes,
                                      actor=admin, now=now)
    court.venues = ["main", *TRIBUNALS]
    court.tribunal_rooms = [rs.venue_rooms.get(t, 0) for t in TRIBUNALS] if rs.venue_rooms else [1] * len(TRIBUNALS)
    agreed = rs.has("law-firm-e-service")
    for i in range(rs.law_firms_agreed + rs.law_firms_other):
        firm = actions.add_law_firm(session, name=f"山东第{i + 1}律师事务所", email=f"service@firm{i + 1}.example.cn",
                                    agreed=agreed and i < rs.law_firms_agreed, actor=admin, now=now)
        (court.firms_agreed if i < rs.law_firms_agreed else court.firms_other).append(firm.id)
    years = sorted({rs.start.year + k for k in range(0, rs.months // 12 + 2)})
    actions.load_calendar(session, years, now)
    session.flush()
    return court


def _add_rooms(session: Session, rs: ReplaySettings, admin, now: datetime) -> None:
    """The courtrooms of each venue (``rs.venue_rooms``), open the venue kind's ``room_hours``."""
    for venue in ["main", *TRIBUNALS]:
        opens, closes = rs.room_hours["main" if venue == "main" else "tribunal"]
        for n in range(1, rs.venue_rooms.get(venue, 0) + 1):
            actions.add_courtroom(session, name=f"第{n}法庭", venue=venue, opens=opens, closes=closes,
                                  actor=admin, now=now)


def _pair_follow_ups(session: Session, court: Court, admin, now: datetime) -> None:
    """Trial posts over the judges, enforcement posts over the officers, 3-5 each (as in the seed)."""
    posts = court.staff.get("follow_up", [])
    trial_count = max(1, round(len(posts) * 12 / 22)) if posts else 0
    for group, users, officers in (("trial", posts[:trial_count], court.judges),
                                   ("enforcement", posts[trial_count:], court.officers)):
        if not users:
            continue
        per = min(5, max(3, -(-len(officers) // len(users))))
        for index, user_id in enumerate(users):
            paired = [officers[(index * per + k) % len(officers)] for k in range(per)]
            actions.add_follow_up_post(session, user_id=user_id, officer_ids=sorted(set(paired)), group=group,
                                       actor=admin, now=now)
