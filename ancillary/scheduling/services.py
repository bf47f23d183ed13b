"""Commands on the court's scheduling resources."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.errors import Conflict
from ancillary.scheduling.models import Courtroom


def create_courtroom(
    session: Session, *, name: str, venue: str, opens: time, closes: time, capacity: int = 30,
    has_video: bool = False, actor, now: datetime,
) -> Courtroom:
    """Add a courtroom to a venue ('main' or a people's tribunal)."""
    name, venue = name.strip(), venue.strip()
    if session.scalar(select(Courtroom.id).where(Courtroom.venue == venue, Courtroom.name == name)):
        raise Conflict("duplicate_courtroom", "courtroom {name} already exists at {venue}", field="name",
                       name=name, venue=venue)
    room = Courtroom(name=name, venue=venue, opens=opens, closes=closes, capacity=capacity, has_video=has_video,
                     is_active=True, created_at=now)
    session.add(room)
    session.flush()
    record(session, actor, "courtroom.create", room, now=now,
           after={"name": name, "venue": venue, "opens": opens.isoformat(), "closes": closes.isoformat()})
    return room
