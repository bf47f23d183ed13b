"""Release patterns: how service clerks claim and release serve tasks, for the managers.

Claiming a serve task shows its recipient's name, phones and addresses, so claiming and
releasing in turn would harvest contacts. The rate limit (``queues.services.check_move_rate``)
bounds it; this report shows the pattern to the contractor's manager and the management
office. A release is *quick* when the clerk read the recipient's contacts while holding the
task (the access log says so), recorded no attempt, and released it within
``ANCILLARY_QUICK_RELEASE_MINUTES`` of that first read. A clerk is *unusual* with any quick
release, or with many releases (at least ``MANY_RELEASES`` and at least half their claims).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.models import AccessLogEntry, AuditEntry
from ancillary.auth.models import Role, User
from ancillary.cases.models import Case
from ancillary.queues.models import Task, TaskKind
from ancillary.queues.services import SERVE_MOVES
from ancillary.service.models import ServiceAttempt, ServiceOrder

MANY_RELEASES = 5


def _moves(session: Session, start: datetime, end: datetime) -> list:
    """Every claim and release of a serve task by a service clerk before ``end``, oldest first."""
    return session.execute(
        select(AuditEntry.actor_id, AuditEntry.action, AuditEntry.at, Task.id, Task.case_id, Task.party_id,
               Case.number)
        .join(Task, Task.id == AuditEntry.object_id).join(Case, Case.id == Task.case_id)
        .join(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.action.in_(SERVE_MOVES), AuditEntry.object_type == Task.__tablename__,
               Task.kind == TaskKind.serve, User.role == Role.service_clerk,
               AuditEntry.at < end, AuditEntry.at >= start - timedelta(days=30))
        .order_by(AuditEntry.at, AuditEntry.id)).all()


def _holdings(moves, start: datetime) -> tuple[dict, list]:
    """Claims per clerk in the window, and each release in it with the claim it ended."""
    claims: dict[int, int] = defaultdict(int)
    claimed_at: dict[tuple[int, int], datetime] = {}
    releases = []
    for actor_id, action, at, task_id, case_id, party_id, number in moves:
        if action == "task.claim":
            claimed_at[(actor_id, task_id)] = at
            if at >= start:
                claims[actor_id] += 1
        elif at >= start:
            releases.append(dict(user_id=actor_id, task_id=task_id, case_id=case_id, party_id=party_id,
                                 case_number=number, claimed_at=claimed_at.get((actor_id, task_id), start),
                                 released_at=at))
    return claims, releases


def _first_read(session: Session, release: dict):
    reads = session.execute(select(AccessLogEntry.at, AccessLogEntry.party_ids).where(
        AccessLogEntry.user_id == release["user_id"], AccessLogEntry.case_id == release["case_id"],
        AccessLogEntry.at >= release["claimed_at"], AccessLogEntry.at <= release["released_at"])
        .order_by(AccessLogEntry.at)).all()
    return next((at for at, party_ids in reads if release["party_id"] in (party_ids or [])), None)


def _attempted(session: Session, release: dict) -> bool:
    return session.scalar(select(ServiceAttempt.id).join(ServiceOrder, ServiceOrder.id == ServiceAttempt.order_id)
                          .where(ServiceOrder.task_id == release["task_id"],
                                 ServiceAttempt.actor_id == release["user_id"],
                                 ServiceAttempt.recorded_at >= release["claimed_at"],
                                 ServiceAttempt.recorded_at <= release["released_at"]).limit(1)) is not None


def release_patterns(session: Session, *, start: datetime, end: datetime, settings) -> list[dict]:
    """One row per service clerk who claimed or released a serve task in [start, end), unusual first."""
    claims, releases = _holdings(_moves(session, start, end), start)
    quick_window = timedelta(minutes=settings.quick_release_minutes)
    quick: dict[int, list] = defaultdict(list)
    released: dict[int, int] = defaultdict(int)
    for release in releases:
        released[release["user_id"]] += 1
        read_at = _first_read(session, release)
        if read_at is not None and release["released_at"] - read_at <= quick_window \
                and not _attempted(session, release):
            quick[release["user_id"]].append({**release, "read_at": read_at})
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(set(claims) | set(released))))}
    rows = [_row(users[uid], claims[uid], released[uid], quick[uid], settings) for uid in users]
    return sorted(rows, key=lambda r: (not r["unusual"], -len(r["quick_releases"]), -r["releases"], r["username"]))


def _row(user: User, claims: int, releases: int, quick: list, settings) -> dict:
    reasons = []
    if quick:
        reasons.append(gettext("released %(count)s task(s) within %(minutes)s minutes of reading the recipient's "
                               "contacts, without recording an attempt",
                               count=len(quick), minutes=settings.quick_release_minutes))
    if releases >= MANY_RELEASES and releases * 2 >= claims:
        reasons.append(gettext("released %(releases)s of %(claims)s claimed tasks", releases=releases,
                               claims=claims))
    return {
        "user_id": user.id, "username": user.username, "display_name": user.display_name,
        "claims": claims, "releases": releases, "unusual": bool(reasons), "reasons": reasons,
        "quick_releases": [{key: item[key] for key in ("task_id", "case_number", "claimed_at", "read_at",
                                                        "released_at")} for item in quick],
    }
