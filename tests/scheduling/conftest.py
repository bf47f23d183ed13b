"""Scheduling fixtures: the court calendar loaded, a judge with a phone, booking helpers."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import select

from tests.conftest import NOW


class Sched:
    """The ``court`` fixture plus what scheduling tests keep needing."""

    def __init__(self, court, app):
        self.court = court
        self.app = app
        self.judge = court.make_actor("judge", phone="+8613800000009")
        rooms = court["court_admin"].get("/api/v1/courtrooms").get_json()
        self.main_room = next(r for r in rooms if r["venue"] == "main")
        self.tribunal_room = next(r for r in rooms if r["venue"] != "main")
        self.tribunal = self.tribunal_room["venue"]

    def __getitem__(self, role):
        return self.court[role]

    def file(self, **overrides) -> dict:
        overrides.setdefault("judge_id", self.judge.id)
        return self.court.file_case(**overrides)

    def book(self, case, starts="2027-01-07T09:00:00+08:00", ends="2027-01-07T10:00:00+08:00", room=None, actor=None):
        return (actor or self.court["scheduler"]).post("/api/v1/hearings", json={
            "case_id": case["id"], "courtroom_id": (room or self.main_room)["id"], "starts_at": starts,
            "ends_at": ends})

    def session_do(self, fn):
        from ancillary.extensions import db

        with self.app.app_context():
            result = fn(db.session)
            db.session.commit()
            return result

    def count(self, model, *where) -> int:
        from sqlalchemy import func

        return self.session_do(lambda s: s.scalar(select(func.count()).select_from(model).where(*where)))


@pytest.fixture
def sched(app, court):
    from ancillary.scheduling.calendar import load_official

    s = Sched(court, app)
    s.session_do(lambda session: load_official(session, [2026, 2027], now=NOW))
    return s


@contextmanager
def speedy_reserve_at(app, percent: int):
    """The app's court keeps ``percent`` of its expected speedy minutes free while inside (0: none)."""
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = original.with_overrides(speedy_reserve_percent=percent)
    try:
        yield
    finally:
        app.config["SETTINGS"] = original


@pytest.fixture
def speedy_reserve_on(app):
    """A court that keeps room for its speedy cases at 150 % (the default; pinned, so these tests keep
    their figures should the default change)."""
    with speedy_reserve_at(app, 150):
        yield
