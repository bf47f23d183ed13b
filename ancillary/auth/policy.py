"""Need-to-know, in one place: which cases and which parties a user may see.

The seed's confidentiality rule: work is split into posts so that no contractor
worker sees a whole case. Every resource's output is shaped by the level that
:func:`case_view` returns for the caller; views never pick fields themselves.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ancillary.auth.models import Role, User
from ancillary.errors import Forbidden


class CaseLevel(enum.StrEnum):
    full = "full"  # parties with ID numbers, contacts and law firms
    names = "names"  # parties' names and roles, no contacts
    recipients = "recipients"  # only the parties the caller serves, with contacts
    files = "files"  # dossiers and their custody, no party data
    meta = "meta"  # case metadata and node status only


# Roles that see every case, and how much of it.
ALL_CASES: dict[Role, CaseLevel] = {
    Role.court_admin: CaseLevel.full,
    Role.intake_clerk: CaseLevel.full,
    Role.scheduler: CaseLevel.names,
    Role.file_clerk: CaseLevel.files,
    Role.archivist: CaseLevel.files,
    Role.contractor_manager: CaseLevel.meta,
}
# Roles that see the dossiers' QR tokens (they print or scan labels).
TOKEN_ROLES = frozenset({Role.court_admin, Role.intake_clerk, Role.file_clerk, Role.archivist})
# Roles that see dossiers' holder and location.
DOSSIER_ROLES = TOKEN_ROLES | {Role.judge, Role.enforcement_officer, Role.scheduler}


@dataclass(frozen=True)
class CaseView:
    level: CaseLevel
    party_ids: frozenset[int] | None = None  # for `recipients`: the only parties shown
    show_tokens: bool = False
    show_dossiers: bool = False

    @property
    def shows_party_data(self) -> bool:
        return self.level in (CaseLevel.full, CaseLevel.names, CaseLevel.recipients)


def paired_officer_ids(session: Session, user: User) -> list[int]:
    from ancillary.queues.models import FollowUpPairing, Post

    return list(
        session.scalars(
            select(FollowUpPairing.officer_id).join(Post, Post.id == FollowUpPairing.post_id)
            .where(Post.user_id == user.id)
        )
    )


def served_party_ids(session: Session, user: User, case_id: int | None = None) -> dict[int, set[int]]:
    """Case id -> the parties whose serve tasks ``user`` holds or finished."""
    from ancillary.queues.models import Task, TaskKind, TaskStatus

    query = select(Task.case_id, Task.party_id).where(
        Task.kind == TaskKind.serve,
        Task.assignee_id == user.id,
        Task.status.in_([TaskStatus.claimed, TaskStatus.done]),
    )
    if case_id is not None:
        query = query.where(Task.case_id == case_id)
    result: dict[int, set[int]] = {}
    for cid, pid in session.execute(query):
        result.setdefault(cid, set()).add(pid)
    return result


def case_view(session: Session, user: User, case) -> CaseView:
    """The level at which ``user`` may see ``case``; Forbidden when not at all."""
    role = user.role
    extra = dict(show_tokens=role in TOKEN_ROLES, show_dossiers=role in DOSSIER_ROLES)
    if role in ALL_CASES:
        return CaseView(ALL_CASES[role], **extra)
    if role in (Role.judge, Role.enforcement_officer):
        if case.judge_id == user.id:
            return CaseView(CaseLevel.full, **extra)
        raise Forbidden("not_your_case", "this case is not assigned to you")
    if role == Role.follow_up:
        if case.judge_id in paired_officer_ids(session, user):
            return CaseView(CaseLevel.meta, **extra)
        raise Forbidden("not_your_case", "this case belongs to no officer paired with your post")
    if role == Role.service_clerk:
        parties = served_party_ids(session, user, case.id).get(case.id)
        if parties:
            return CaseView(CaseLevel.recipients, party_ids=frozenset(parties), **extra)
        raise Forbidden("not_your_case", "you hold no service task in this case")
    raise Forbidden("no_case_access", "the {role} role sees no case data", role=role.value)


def visible_cases(session: Session, user: User, query: Select) -> Select:
    """Restrict a ``select(Case)`` to the cases ``user`` may list."""
    from ancillary.cases.models import Case
    from ancillary.queues.models import Task, TaskKind, TaskStatus

    role = user.role
    if role in ALL_CASES:
        return query
    if role in (Role.judge, Role.enforcement_officer):
        return query.where(Case.judge_id == user.id)
    if role == Role.follow_up:
        return query.where(Case.judge_id.in_(paired_officer_ids(session, user)))
    if role == Role.service_clerk:
        held = select(Task.case_id).where(
            Task.kind == TaskKind.serve,
            Task.assignee_id == user.id,
            Task.status.in_([TaskStatus.claimed, TaskStatus.done]),
        )
        return query.where(Case.id.in_(held))
    raise Forbidden("no_case_access", "the {role} role sees no case data", role=role.value)
