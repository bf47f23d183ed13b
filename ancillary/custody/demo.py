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


def load_demo_custody(session, *, now: datetime, seed: int = 136) -> int:
    """Give each dossier a short, valid chain; returns the number of events."""
    rng = random.Random(seed)
    clerks = list(session.scalars(select(User).where(User.role == Role.file_clerk)))
    archivists = list(session.scalars(select(User).where(User.role == Role.archivist)))
    if not clerks:
        return 0
    count = 0
    for dossier in session.scalars(select(Dossier).join(Case).order_by(Dossier.id)):
        at = dossier.created_at + timedelta(hours=1)
        clerk = rng.choice(clerks)
        append_event(session, dossier, action=CustodyAction.receive, actor=clerk, now=at, to_holder_id=clerk.id,
                     location="立案大厅")
        append_event(session, dossier, action=CustodyAction.store, actor=clerk, now=at + timedelta(minutes=20),
                     to_holder_id=clerk.id, location=rng.choice(SHELVES))
        count += 2
        if dossier.case.status == CaseStatus.closed and archivists and rng.random() < 0.5:
            archivist = rng.choice(archivists)
            when = min(dossier.case.closed_at + timedelta(days=rng.uniform(1, 10)), now)
            append_event(session, dossier, action=CustodyAction.receive, actor=archivist, now=when,
                         to_holder_id=archivist.id, location="档案室 收件台")
            count += 1
    session.flush()
    return count
