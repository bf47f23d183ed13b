"""Demo custody chains: file clerks sign for dossiers, archivists take back closed ones."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from ancillary.auth.models import Role, User
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.custody.models import CustodyAction
from ancillary.custody.services import append_event

SHELVES = ["审判组 3楼 卷宗柜A", "审判组 3楼 卷宗柜B", "执行组 2楼 卷宗柜", "卷宗库 B-12"]


def load_demo_custody(session, *, now: datetime, seed: int = 136, settings=None) -> int:
    """Give each dossier a short, valid chain, and archive some closed cases; returns the number of events."""
    rng = random.Random(seed)
    clerks = list(session.scalars(select(User).where(User.role == Role.file_clerk)))
    archivists = list(session.scalars(select(User).where(User.role == Role.archivist)))
    if not clerks:
        return 0
    count = 0
    taken_back: dict[int, tuple[User, datetime]] = {}  # closed case id -> who took its files back, when
    decided: set[int] = set()
    for dossier in session.scalars(select(Dossier).join(Case).order_by(Dossier.id)):
        at = dossier.created_at + timedelta(hours=1)
        clerk = rng.choice(clerks)
        append_event(session, dossier, action=CustodyAction.receive, actor=clerk, now=at, to_holder_id=clerk.id,
                     location="立案大厅")
        append_event(session, dossier, action=CustodyAction.store, actor=clerk, now=at + timedelta(minutes=20),
                     to_holder_id=clerk.id, location=rng.choice(SHELVES))
        count += 2
        case = dossier.case
        if case.status == CaseStatus.closed and archivists and case.id not in decided:
            decided.add(case.id)  # one decision per case: all its volumes go back together, or none
            if rng.random() < 0.6:
                taken_back[case.id] = (rng.choice(archivists),
                                       min(case.closed_at + timedelta(days=rng.uniform(1, 10)), now))
        if case.id in taken_back:
            archivist, when = taken_back[case.id]
            append_event(session, dossier, action=CustodyAction.receive, actor=archivist, now=when,
                         to_holder_id=archivist.id, location="档案室 收件台")
            count += 1
    session.flush()
    if settings is not None:
        count += _archive_some(session, taken_back, now=now, settings=settings, rng=rng)
    return count


# The smallest well-formed PDF: the demo's stand-in for a scanned volume.
_SCAN = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
         b"trailer<</Root 1 0 R>>\n%%EOF\n")


def _archive_some(session, taken_back, *, now: datetime, settings, rng: random.Random) -> int:
    """Count, bind, scan and shelve the volumes of most cases taken back more than a week ago."""
    from ancillary.archive.services import record_step

    count = 0
    for case_id, (archivist, received_at) in sorted(taken_back.items()):
        if now - received_at < timedelta(days=7) or rng.random() < 0.2:
            continue
        case = session.get(Case, case_id)
        at = received_at + timedelta(days=rng.uniform(1, 5))
        for dossier in case.dossiers:
            record_step(session, dossier, "count", actor=archivist, now=at, settings=settings,
                        material_count=rng.randrange(20, 200))
            record_step(session, dossier, "bind", actor=archivist, now=at + timedelta(hours=1), settings=settings)
            record_step(session, dossier, "digitise", actor=archivist, now=at + timedelta(hours=3), settings=settings,
                        pdf=_SCAN)
            record_step(session, dossier, "archive", actor=archivist, now=at + timedelta(hours=4), settings=settings,
                        archive_location=f"档案室 {rng.choice('ABCD')}-{rng.randrange(1, 30)}-{rng.randrange(1, 6)}")
            count += 4
    return count
