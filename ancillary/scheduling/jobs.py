"""The scheduling sweep: hearings for newly filed cases within the 3-hour scheduling window.

Every few minutes (``auto_schedule_minutes``) it plans the cases with an open scheduling
task and no hearing to come, with the auto-scheduler (``auto.plan``: speedy cases first,
the room-days packed) over the next ``auto_schedule_days`` days, around the slots already
proposed. By default it *proposes* (``proposals``), for a scheduler to accept on
``/schedule``; a court that sets ``ANCILLARY_AUTO_BOOK=1`` lets it *book* them in bulk
(``bulk.book_all``: one digest SMS per judge). ``ANCILLARY_AUTO_SCHEDULE=0`` turns it off.

Idempotent: a case with an open (or rejected) proposal is skipped, and a partial unique
index keeps one open proposal per case; run twice for one instant, it proposes once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ancillary.scheduling import auto, proposals


def due(now: datetime, settings) -> bool:
    """Whether ``now`` opens one of the sweep's periods (each tick inside the first tick of a period runs it)."""
    period = settings.auto_schedule_minutes * 60
    return period <= settings.tick_seconds or now.timestamp() % period < settings.tick_seconds


def sweep(session: Session, now: datetime, settings) -> dict:
    """Propose (or book) hearings for the cases waiting to be scheduled."""
    if not settings.auto_schedule_sweep or not due(now, settings):
        return {}
    pending = auto.pending_cases(session, now)
    withdrawn, still_open = proposals.withdraw_stale(session, {c.id for c in pending}, now)
    skip = proposals.decided_case_ids(session)
    if all(c.id in skip for c in pending):
        return {"withdrawn": withdrawn} if withdrawn else {}
    first = now.astimezone(settings.timezone).date()
    last = first + timedelta(days=settings.auto_schedule_days - 1)
    held = proposals.held_slots(still_open)
    if settings.auto_book:
        result = auto.run(session, first, last, actor=None, now=now, settings=settings, skip=skip, held=held)
        out = {"booked": len(result["scheduled"]), "unscheduled": len(result["unscheduled"])}
    else:
        plan, placements = auto.plan(session, first, last, now=now, settings=settings, skip=skip, held=held,
                                     pending=pending)  # nothing is written but proposals: no lock to wait for
        proposals.propose(session, placements, now)
        out = {"proposed": len(placements), "unscheduled": len(plan.unscheduled)}
    if withdrawn:
        out["withdrawn"] = withdrawn
    return out
