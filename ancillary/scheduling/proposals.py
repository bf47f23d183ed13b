"""Proposals: the slots the scheduling sweep suggests for new cases, and a scheduler's answer.

The sweep (``scheduling.jobs.sweep``) plans the pending cases with the auto-scheduler,
around the slots already proposed, and writes one open proposal per case. A scheduler
accepts one (booked through ``services.book``: the same path, rules and refusals as a
booking by hand) or rejects it (the case stays with people: the sweep proposes nothing
more for it). The sweep withdraws a proposal whose case was booked or closed meanwhile,
or whose slot was taken or has passed, and proposes afresh on the same run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from heapq import merge

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import Role, User
from ancillary.db import get_or_404
from ancillary.display_names import N_
from ancillary.errors import Conflict
from ancillary.scheduling import services
from ancillary.scheduling.models import Hearing, HearingProposal, HearingStatus, ProposalStatus, overlapping
from ancillary.scheduling.rules import Booked

OPEN = ProposalStatus.proposed
# Why the sweep withdrew a proposal (stored in ``reason``; the page says it in words).
CASE_MOVED_ON, SLOT_PASSED, SLOT_TAKEN = "case_booked_or_closed", "slot_passed", "slot_taken"


def open_proposals(session: Session) -> list[HearingProposal]:
    return list(session.scalars(select(HearingProposal).where(HearingProposal.status == OPEN)
                                .order_by(HearingProposal.starts_at, HearingProposal.id)))


def held_slots(proposals: list[HearingProposal]) -> tuple[Booked, ...]:
    """Open proposals as slots the planner must leave free."""
    return tuple(Booked(None, p.case_id, p.courtroom_id, p.judge_id, p.starts_at, p.ends_at, p.lane, False)
                 for p in proposals)


def decided_case_ids(session: Session) -> frozenset[int]:
    """Cases the sweep leaves alone: one proposal open, or one rejected by a scheduler."""
    return frozenset(session.scalars(select(HearingProposal.case_id).where(
        HearingProposal.status.in_([OPEN, ProposalStatus.rejected]))))


def taken_by(session: Session, proposals: list[HearingProposal]) -> dict[int, Hearing]:
    """For each proposal whose room (same lane) or judge is booked meanwhile, the hearing in the way."""
    if not proposals:
        return {}
    rooms = {p.courtroom_id for p in proposals}
    judges = {p.judge_id for p in proposals}
    hearings = session.scalars(select(Hearing).where(
        Hearing.status == HearingStatus.booked,
        *overlapping(min(p.starts_at for p in proposals), max(p.ends_at for p in proposals)),
        or_(Hearing.courtroom_id.in_(rooms), Hearing.judge_id.in_(judges))).order_by(Hearing.id)).all()
    # Each proposal looks only at the hearings in its room's lane or of its judge (positions
    # in the list, ascending), first found first: not at every hearing of the weeks planned.
    in_room, of_judge = defaultdict(list), defaultdict(list)
    for index, h in enumerate(hearings):
        in_room[(h.courtroom_id, h.lane)].append(index)
        of_judge[h.judge_id].append(index)
    found = {}
    for p in proposals:
        for index in merge(in_room.get((p.courtroom_id, p.lane), ()), of_judge.get(p.judge_id, ())):
            h = hearings[index]
            if h.case_id != p.case_id and h.starts_at < p.ends_at and h.ends_at > p.starts_at:
                found[p.id] = h
                break
    return found


def _withdraw(session: Session, proposal: HearingProposal, reason: str, now: datetime) -> None:
    proposal.status, proposal.reason, proposal.decided_at = ProposalStatus.withdrawn, reason, now
    record(session, None, "hearing_proposal.withdraw", proposal, now=now, after={"reason": reason})


def withdraw_stale(session: Session, pending_ids: set[int], now: datetime) -> tuple[int, list[HearingProposal]]:
    """Withdraw the open proposals that can no longer be accepted as they stand; answers how many,
    and the proposals still open (in ``open_proposals``' order)."""
    proposals = open_proposals(session)
    taken = taken_by(session, proposals)
    kept = []
    for p in proposals:
        reason = (CASE_MOVED_ON if p.case_id not in pending_ids else SLOT_PASSED if p.starts_at <= now
                  else SLOT_TAKEN if p.id in taken else None)
        if reason is not None:
            _withdraw(session, p, reason, now)
        else:
            kept.append(p)
    session.flush()
    return len(proposals) - len(kept), kept


def propose(session: Session, placements, now: datetime) -> list[HearingProposal]:
    """One open proposal per placement ((need, room, starts_at, ends_at, lane), checked by the planner)."""
    rows = [HearingProposal(case_id=need.case_id, courtroom_id=room.id, judge_id=need.judge_id, starts_at=starts,
                            ends_at=ends, lane=lane, status=OPEN, created_at=now)
            for need, room, starts, ends, lane in placements]
    session.add_all(rows)
    session.flush()
    return rows


def get_proposal(session: Session, proposal_id: int) -> HearingProposal:
    return get_or_404(session, HearingProposal, proposal_id, code="proposal_not_found",
                      message=N_("there is no such hearing proposal: reload the list of proposals"),
                      field="proposal_id")


_DECIDED = {
    ProposalStatus.accepted: N_("this proposal was already accepted: its hearing is booked"),
    ProposalStatus.rejected: N_("this proposal was already rejected: the case is scheduled by hand"),
    ProposalStatus.withdrawn: N_("the system withdrew this proposal (the case was booked or closed, or its slot "
                                 "was taken or passed): see the newest proposal"),
}


def _still_open(proposal: HearingProposal) -> None:
    if proposal.status != OPEN:
        raise Conflict("proposal_decided", _DECIDED[proposal.status], field="proposal_id",
                       status=proposal.status.value)


def accept(session: Session, proposal_id: int, *, actor, now: datetime, settings) -> HearingProposal:
    """Book the proposed slot through the normal booking path; a slot taken meanwhile is refused by name."""
    proposal = get_proposal(session, proposal_id)
    _still_open(proposal)
    hearing = services.book(session, case_id=proposal.case_id, courtroom_id=proposal.courtroom_id,
                            starts_at=proposal.starts_at, ends_at=proposal.ends_at, actor=actor, now=now,
                            settings=settings)
    proposal.status, proposal.hearing_id = ProposalStatus.accepted, hearing.id
    proposal.decided_at, proposal.decided_by_id = now, actor.id
    session.flush()
    record(session, actor, "hearing_proposal.accept", proposal, now=now, after={"hearing_id": hearing.id})
    return proposal


def reject(session: Session, proposal_id: int, *, reason: str | None, actor, now: datetime) -> HearingProposal:
    """Say no: the case stays in the scheduling queue for a person, and the sweep proposes nothing more for it."""
    proposal = get_proposal(session, proposal_id)
    _still_open(proposal)
    proposal.status, proposal.reason = ProposalStatus.rejected, reason
    proposal.decided_at, proposal.decided_by_id = now, actor.id
    session.flush()
    record(session, actor, "hearing_proposal.reject", proposal, now=now, after={"reason": reason})
    return proposal


def visible(session: Session, user: User, status: ProposalStatus | None):
    """The proposals ``user`` may see: all for schedulers and the office, a judge's own cases for officers."""
    query = select(HearingProposal)
    if user.role in (Role.judge, Role.enforcement_officer):
        query = query.where(HearingProposal.judge_id == user.id)
    if status is not None:
        query = query.where(HearingProposal.status == status)
    return query.order_by(HearingProposal.starts_at, HearingProposal.id)
