"""The scheduling sweep's proposals over HTTP: list, accept, reject (routes on the Scheduling blueprint)."""

from __future__ import annotations

from flask.views import MethodView

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.scheduling import proposals
from ancillary.scheduling.models import ProposalStatus
from ancillary.scheduling.proposal_schemas import (
    ProposalListArgsSchema,
    ProposalPageSchema,
    ProposalRejectArgsSchema,
    ProposalSchema,
    ProposalTakenSchema,
)
from ancillary.scheduling.views import blp, respond, settings
from ancillary.schemas import paged
from ancillary.web import current_user, now, roles

# Need-to-know: case number, kind, judge, room and time; no party data. Officers see their own cases.
READERS = (Role.scheduler, Role.court_admin, Role.judge, Role.enforcement_officer)

PROPOSAL_EXAMPLE = {
    "id": 5, "case_id": 42, "case_number": "(2027)鲁1002民初123号", "kind": "speedy", "judge_id": 12,
    "courtroom_id": 3, "courtroom_name": "第一法庭", "venue": "main", "starts_at": "2027-01-05T08:30:00+08:00",
    "ends_at": "2027-01-05T09:00:00+08:00", "overlap": False, "status": "proposed",
    "created_at": "2027-01-04T09:35:00+08:00", "decided_at": None, "hearing_id": None, "reason": None,
    "taken_by": None,
}
TAKEN_EXAMPLE = dict(PROPOSAL_EXAMPLE, taken_by={"hearing_id": 8, "case_number": "(2027)鲁1002民初99号",
                                                 "starts_at": "2027-01-05T08:30:00+08:00",
                                                 "ends_at": "2027-01-05T09:30:00+08:00"})


def dump(items) -> list[dict]:
    """Proposals as the schema shows them; an open one whose slot was taken names the hearing in the way."""
    items = list(items)
    taken = proposals.taken_by(db.session, [p for p in items if p.status == ProposalStatus.proposed])
    out = []
    for p in items:
        body = ProposalSchema().dump(p)
        hearing = taken.get(p.id)
        body["taken_by"] = None if hearing is None else ProposalTakenSchema().dump(
            {"hearing_id": hearing.id, "case_number": hearing.case.number, "starts_at": hearing.starts_at,
             "ends_at": hearing.ends_at})
        out.append(body)
    return out


@blp.route("/scheduling/proposals")
class ProposalsView(MethodView):
    @roles(*READERS)
    @blp.arguments(ProposalListArgsSchema, location="query")
    @blp.response(200, ProposalPageSchema, example={"items": [PROPOSAL_EXAMPLE, TAKEN_EXAMPLE], "total": 2})
    def get(self, args):
        """The hearings the scheduling sweep proposes, earliest first; `taken_by` when the slot went meanwhile."""
        status = None if args["status"] == "all" else ProposalStatus(args["status"])
        page, total = paged(db.session, proposals.visible(db.session, current_user(), status), args)
        return respond({"items": dump(db.session.scalars(page)), "total": total})


@blp.route("/scheduling/proposals/<int:proposal_id>/accept")
class ProposalAcceptView(MethodView):
    @roles(Role.scheduler)
    @blp.response(200, ProposalSchema, example=dict(PROPOSAL_EXAMPLE, status="accepted", hearing_id=7,
                                                    decided_at="2027-01-04T09:40:00+08:00"))
    @blp.alt_response(409, schema="Error",
                      description="decided already, or the slot was taken meanwhile: `conflict` names the case and "
                                  "time in the way",
                      example={"code": 409, "status": "Conflict", "error": "room_taken", "field": "starts_at",
                               "message": "courtroom 第一法庭 is taken by case (2027)鲁1002民初99号 on 2027-01-05 "
                                          "08:30-09:30",
                               "conflict": {"hearing_id": 8, "case_number": "(2027)鲁1002民初99号",
                                            "starts_at": "2027-01-05T08:30:00+08:00",
                                            "ends_at": "2027-01-05T09:30:00+08:00"}})
    def post(self, proposal_id):
        """Book the proposed hearing through the normal booking path; the judge's phone is told."""
        proposal = proposals.accept(db.session, proposal_id, actor=current_user(), now=now(), settings=settings())
        return respond(dump([proposal])[0])


@blp.route("/scheduling/proposals/<int:proposal_id>/reject")
class ProposalRejectView(MethodView):
    @roles(Role.scheduler)
    @blp.arguments(ProposalRejectArgsSchema, example={"reason": "法官当日另有安排"})
    @blp.response(200, ProposalSchema, example=dict(PROPOSAL_EXAMPLE, status="rejected", reason="法官当日另有安排",
                                                    decided_at="2027-01-04T09:40:00+08:00"))
    @blp.alt_response(409, schema="Error", description="the proposal was decided already",
                      example={"code": 409, "status": "Conflict", "error": "proposal_decided", "field": "proposal_id",
                               "message": "this proposal was already accepted: its hearing is booked"})
    def post(self, args, proposal_id):
        """Say no: the case stays in the scheduling queue for a person; nothing more is proposed for it."""
        proposal = proposals.reject(db.session, proposal_id, reason=args.get("reason"), actor=current_user(),
                                    now=now())
        return respond(dump([proposal])[0])
