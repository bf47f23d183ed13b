"""Custody fixtures: scanning helpers, and a purge that gets past the append-only guards."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import text

from ancillary.auth.models import User
from ancillary.cases.models import Dossier
from ancillary.custody.models import SQLITE_GUARDS, SQLITE_UNGUARD, CustodyAction
from ancillary.custody.services import append_event
from tests.conftest import NOW

_scan_ids = itertools.count(1)


@contextmanager
def guards_off(app):
    """Run raw SQL against custody_events as a privileged user would: triggers out of the way."""
    from ancillary.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                for statement in SQLITE_UNGUARD:
                    conn.execute(text(statement))
            else:
                conn.execute(text("ALTER TABLE custody_events DISABLE TRIGGER custody_events_append_only"))
            yield conn
            if sqlite:
                for statement in SQLITE_GUARDS:
                    conn.execute(text(statement))
            else:
                conn.execute(text("ALTER TABLE custody_events ENABLE TRIGGER custody_events_append_only"))


def scan_id() -> str:
    return f"scan-{next(_scan_ids):06d}"


def scan(actor, token, action="receive", location="审判组 3楼", client_scan_id=None, **extra):
    body = {"code": token, "action": action, "location": location,
            "client_scan_id": client_scan_id or scan_id(), **extra}
    return actor.post("/api/v1/scans", json=body)


@pytest.fixture
def dossiers(court):
    """A filed case with two volumes: its dossiers (with qr_token), as the intake clerk sees them."""
    case = court.file_case(volumes=2)
    for dossier in case["dossiers"]:
        dossier["case_id"] = case["id"]
    return case["dossiers"]


EVENTS = 3  # per dossier of ``chains``


@pytest.fixture
def chains(court, app):
    """Six dossiers of one case, three events each; their ids in order."""
    from ancillary.extensions import db

    case = court.file_case(volumes=6)
    ids = sorted(d["id"] for d in case["dossiers"])
    clerk, archivist = court["file_clerk"], court["archivist"]
    with app.app_context():
        actors = [db.session.get(User, clerk.id), db.session.get(User, archivist.id)]
        for d_id in ids:
            dossier = db.session.get(Dossier, d_id)
            for n in range(EVENTS):
                actor = actors[n % 2]
                append_event(db.session, dossier, action=CustodyAction.receive, actor=actor,
                             now=NOW + timedelta(minutes=n), to_holder_id=actor.id, location=f"柜 {n}",
                             client_scan_id=f"p-{d_id}-{n}")
        db.session.commit()
    return ids
