"""Demo data for scheduling: the court calendar, a repair blocking, and two weeks of hearings."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session


def load_demo_scheduling(session: Session, *, settings, now: datetime, scheduler, admin) -> dict:
    """Load this year's and next year's holidays, block one room for a morning, auto-schedule two weeks."""
    from ancillary.scheduling import auto
    from ancillary.scheduling.calendar import load_official
    from ancillary.scheduling.models import Courtroom
    from ancillary.scheduling.services import create_blocking

    tz = settings.timezone
    today = now.astimezone(tz).date()
    load_official(session, [today.year, today.year + 1], now=now)
    room = session.scalar(select(Courtroom).where(Courtroom.venue == "main").order_by(Courtroom.id.desc()))
    if room is not None:
        day = today + timedelta(days=7)
        create_blocking(session, courtroom_id=room.id, starts_at=datetime.combine(day, time(8, 0), tz),
                        ends_at=datetime.combine(day, time(12, 0), tz), reason="音响设备检修", actor=admin, now=now)
    result = auto.run(session, today, today + timedelta(days=13), actor=scheduler, now=now, settings=settings)
    return {"hearings": len(result["scheduled"]), "unscheduled": len(result["unscheduled"])}
