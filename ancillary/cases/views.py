"""Cases, their closing, and law firms."""

from flask import current_app, jsonify, request
from flask.views import MethodView
from sqlalchemy import select

from ancillary.audit.services import log_access
from ancillary.auth.models import Role
from ancillary.auth.policy import case_view, visible_cases
from ancillary.cases import services
from ancillary.cases.models import Case, LawFirm
from ancillary.cases.schemas import (
    CaseArgsSchema,
    CaseDocSchema,
    CaseListArgsSchema,
    CasePageSchema,
    CaseUpdateArgsSchema,
    CloseArgsSchema,
    LawFirmArgsSchema,
    LawFirmSchema,
    dump_case,
)
from ancillary.errors import Forbidden
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.schemas import ListArgsSchema, paged
from ancillary.web import current_user, now, roles

blp = Blueprint("Cases", __name__, url_prefix="/api/v1", description="Cases, parties, dossiers, law firms")

CASE_EXAMPLE = {
    "number": "(2027)鲁1002民初123号",
    "kind": "summary",
    "venue": "main",
    "filed_at": "2026-11-02T09:30:00+08:00",
    "judge_id": 12,
    "volumes": 2,
    "parties": [
        {"role": "plaintiff", "name": "张三", "id_number": "371002198001010010", "phones": ["+8613800000001"]},
        {
            "role": "defendant",
            "name": "威海某某贸易有限公司",
            "addresses": [{"text": "山东省威海市环翠区新威路1号", "latitude": 37.51, "longitude": 122.12}],
        },
    ],
}
VIEWERS = tuple(r for r in Role if r != Role.sysadmin)
CASE_OUT_EXAMPLE = {
    "id": 1, "number": "(2027)鲁1002民初123号", "kind": "summary", "track": None, "venue": "main",
    "cause": "买卖合同纠纷", "filed_at": "2027-01-04T09:30:00+08:00", "judge_id": 12, "volumes": 2,
    "status": "open", "deadline": "2027-04-04T23:59:59+08:00", "closed_at": None, "outcome": None,
    "mediation_likely": False, "hearing_minutes": None,
    "dossiers": [{"id": 1, "code": "DS0000001-01", "volume": 1, "holder_id": None, "location": None,
                  "qr_token": "ANC1.K1.DS0000001-01.Q2FQJ7XK3M5ZB4RL7TNCWE2D"}],
    "parties": [{"id": 1, "role": "plaintiff", "name": "张三", "id_number": "371002198001010010", "person_id": 1,
                 "phones": ["+8613800000001"], "emails": [], "law_firm_id": None, "law_firm": None,
                 "addresses": [{"text": "山东省威海市环翠区新威路1号", "latitude": None, "longitude": None,
                                "source": "filing"}]}],
}
CASE_META_EXAMPLE = {k: v for k, v in CASE_OUT_EXAMPLE.items() if k not in ("dossiers", "parties", "cause")}
FIRM_EXAMPLE = {"id": 3, "name": "山东某某律师事务所", "email": "service@lawfirm.example.cn",
                "e_service_agreement": True, "agreement_signed_at": "2027-01-04T09:30:00+08:00"}


def settings():
    return current_app.config["SETTINGS"]


def respond_case(case, status=200):
    """Answer a case shaped for the caller, logging any party data shown."""
    user = current_user()
    view = case_view(db.session, user, case)
    body = dump_case(case, view)
    if view.shows_party_data:
        log_access(db.session, user, case.id, [p["id"] for p in body.get("parties", [])],
                   f"{request.method} {request.path}", now())
    response = jsonify(body)
    response.status_code = status
    return response


@blp.route("/cases")
class CasesView(MethodView):
    @roles(*VIEWERS)
    @blp.arguments(CaseListArgsSchema, location="query")
    @blp.response(200, CasePageSchema, example={"items": [CASE_META_EXAMPLE], "total": 1})
    def get(self, args):
        """List the cases the caller may see (metadata only), newest filing first."""
        query = visible_cases(db.session, current_user(), select(Case))
        for name in ("status", "kind", "judge_id", "venue", "number"):
            if name in args:
                query = query.where(getattr(Case, name) == args[name])
        if "filed_from" in args:
            query = query.where(Case.filed_at >= args["filed_from"])
        if "filed_to" in args:
            query = query.where(Case.filed_at <= args["filed_to"])
        page, total = paged(db.session, query.order_by(Case.filed_at.desc(), Case.id.desc()), args)
        items = db.session.scalars(page).all()
        return {"items": items, "total": total}

    @roles(Role.intake_clerk)
    @blp.arguments(CaseArgsSchema, example=CASE_EXAMPLE)
    @blp.response(201, CaseDocSchema, example=CASE_OUT_EXAMPLE)
    @errors(409)
    def post(self, data):
        """File a case: parties, dossiers with signed QR tokens, deadline and first tasks."""
        case = services.file_case(db.session, data, actor=current_user(), now=now(), settings=settings())
        return respond_case(case, 201)


@blp.route("/cases/<int:case_id>")
class CaseView(MethodView):
    @roles(*VIEWERS)
    @blp.response(200, CaseDocSchema, example=CASE_OUT_EXAMPLE)
    def get(self, case_id):
        """One case, shaped by the caller's role and assignment."""
        return respond_case(services.get_case(db.session, case_id))

    @roles(Role.court_admin, Role.judge, Role.enforcement_officer)
    @blp.arguments(CaseUpdateArgsSchema, example={"track": "simple", "mediation_likely": True})
    @blp.response(200, CaseDocSchema, example=CASE_OUT_EXAMPLE)
    def patch(self, args, case_id):
        """Assign the judge (management office), or set track and mediation flag (the case's judge)."""
        case = services.get_case(db.session, case_id)
        user = current_user()
        if user.role == Role.court_admin:
            allowed = {"judge_id"}
        else:
            case_view(db.session, user, case)  # own cases only
            allowed = {"track", "mediation_likely", "hearing_minutes"}
        refused = sorted(set(args) - allowed)
        if refused:
            raise Forbidden("field_not_allowed", "a {role} may not change this part of the case", field=refused[0],
                            role=user.role.value)
        services.update_case(db.session, case, actor=user, now=now(), **args)
        return respond_case(case)


@blp.route("/cases/<int:case_id>/close")
class CaseCloseView(MethodView):
    @roles(Role.judge, Role.enforcement_officer, Role.court_admin)
    @blp.arguments(CloseArgsSchema, example={"closed_at": "2027-02-20T16:00:00+08:00", "outcome": "调解结案"})
    @blp.response(200, CaseDocSchema, example=CASE_OUT_EXAMPLE)
    @errors(409)
    def post(self, args, case_id):
        """Report the case closed; an archive task due 30 days later opens."""
        case = services.get_case(db.session, case_id)
        case_view(db.session, current_user(), case)
        services.close_case(db.session, case, actor=current_user(), now=now(), settings=settings(), **args)
        return respond_case(case)


@blp.route("/law-firms")
class LawFirmsView(MethodView):
    @roles(Role.court_admin, Role.intake_clerk, Role.service_clerk)
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, LawFirmSchema(many=True), example=[FIRM_EXAMPLE])
    def get(self, args):
        """Law firms and whether they signed the e-service agreement."""
        query = select(LawFirm).order_by(LawFirm.id).limit(args["limit"]).offset(args["offset"])
        return db.session.scalars(query).all()

    @roles(Role.court_admin, Role.intake_clerk)
    @blp.arguments(LawFirmArgsSchema, example={"name": "山东某某律师事务所", "email": "service@lawfirm.example.cn",
                                                "e_service_agreement": True})
    @blp.response(201, LawFirmSchema, example=FIRM_EXAMPLE)
    @errors(409)
    def post(self, args):
        """Register a law firm and its e-service agreement."""
        return services.create_law_firm(db.session, actor=current_user(), now=now(), **args)
