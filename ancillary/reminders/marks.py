"""How far the reminder sweep has looked (``SweepMark``), and what a tick must read.

A routine tick reads only what became due since the last successful run: nodes whose
due time passed since then, deadlines whose warning threshold changed since that day,
and, over the whole lookback, the cases changed since then (any audit entry naming the
case: a filing, a hearing booked, moved or cancelled, an enforcement node recorded, a
judge reassigned). The first run, and any run after the settings or the follow-up
pairings changed, looks over the whole lookback. Staging stays keyed, so a run that
reads a little more than it must (the overlap below) stages nothing twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import not_, select
from sqlalchemy.orm import Session

from ancillary.audit.models import AuditEntry
from ancillary.auth.models import Role, User
from ancillary.reminders.models import SweepMark

SWEEP = "reminders"
# A request that read the clock before a run may commit after it: its changes are read
# again by the next run as long as it took less than this.
OVERLAP = timedelta(minutes=15)
OWN_ACTIONS = "reminder."  # the sweeps' own audit entries change no case


@dataclass(frozen=True)
class Scope:
    """What one run reads: due times from ``due_from``; ``since`` None means the whole lookback."""

    due_from: datetime
    since: datetime | None
    changed: list[int]
    fingerprint: str


def fingerprint(session: Session, settings, posts: dict[int, list[int]]) -> str:
    """What the staged items depend on besides the cases: rule settings, pairings, staff."""
    staff = session.execute(select(User.id, User.role).where(
        User.role.in_([Role.contractor_manager, Role.archivist]), User.is_active.is_(True)).order_by(User.id)).all()
    parts = [settings.sweep_lookback_days, settings.heard_not_closed_days, settings.property_search_days,
             settings.seized_close_days, settings.auction_measures_days, settings.payment_release_days,
             sorted(settings.deadline_warning_days), settings.archive_warning_days, str(settings.timezone),
             sorted((officer, sorted(users)) for officer, users in posts.items()),
             [(uid, str(role)) for uid, role in staff]]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def scope(session: Session, now: datetime, settings, posts: dict[int, list[int]]) -> Scope:
    """What a run at ``now`` must read, from the mark of the last successful run."""
    lookback = now - timedelta(days=settings.sweep_lookback_days)
    print_ = fingerprint(session, settings, posts)
    mark = session.get(SweepMark, SWEEP)
    if mark is None or mark.fingerprint != print_ or now < mark.swept_to:
        return Scope(lookback, None, [], print_)
    since = max(mark.swept_to - OVERLAP, lookback)
    return Scope(since, since, changed_cases(session, since), print_)


def changed_cases(session: Session, since: datetime) -> list[int]:
    """Cases an audit entry at or after ``since`` names, the sweeps' own entries aside.

    Read through the index on the entries' time, and made distinct here: with ``DISTINCT``
    or ``case_id IS NOT NULL`` in the query SQLite walks the case index instead, every
    entry of the year at every tick, not the few hundred since the last run.
    """
    found = session.scalars(select(AuditEntry.case_id).where(
        AuditEntry.at >= since, not_(AuditEntry.action.startswith(OWN_ACTIONS))))
    return sorted({case_id for case_id in found if case_id is not None})


def advance(session: Session, scope_: Scope, now: datetime) -> None:
    """Record a successful run at ``now`` (in its transaction: a failed run leaves the mark)."""
    mark = session.get(SweepMark, SWEEP)
    if mark is None:
        session.add(SweepMark(sweep=SWEEP, swept_to=now, fingerprint=scope_.fingerprint, updated_at=now))
    else:
        if mark.fingerprint != scope_.fingerprint or now > mark.swept_to:
            mark.swept_to = now
        mark.fingerprint, mark.updated_at = scope_.fingerprint, now
    session.flush()
