"""Courtrooms, the court calendar, blockings, hearings, suggestions, auto-scheduling, calendars."""

from datetime import datetime, time, timedelta

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_babel import gettext
from sqlalchemy import select

from ancillary.audit.services import log_accesses
from ancillary.auth.models import Role
from ancillary.errors import Forbidden, NotFound
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.scheduling import answers, auto, queries, services
from ancillary.scheduling.calendar import WorkingDays
from ancillary.scheduling.examples import BLOCKING_EXAMPLE, COURT_DAY_EXAMPLE, COURTROOM_EXAMPLE, HEARING_EXAMPLE
from ancillary.scheduling.models import Blocking, CourtDay, Courtroom, Hearing
from ancillary.scheduling.schemas import (
    UTILIZATION_EXAMPLE,
    AutoArgsSchema,
    AutoResultSchema,
    BlockingArgsSchema,
    BlockingListArgsSchema,
    BlockingSchema,
    CourtDayArgsSchema,
    CourtDayListArgsSchema,
    CourtDaySchema,
    CourtroomArgsSchema,
    CourtroomListArgsSchema,
    CourtroomSchema,
    ExplainedSuggestionsSchema,
    HearingArgsSchema,
    HearingCancelArgsSchema,
    HearingListArgsSchema,
    HearingMoveArgsSchema,
    HearingPageSchema,
    HearingSchema,
    LunchBreakArgsSchema,
    SuggestionArgsSchema,
    SuggestionSchema,
    UtilizationArgsSchema,
    UtilizationSchema,
    WorkingDaySchema,
    hearing_args,
)
from ancillary.schemas import paged
from ancillary.web import current_user, now, roles

blp = Blueprint("Scheduling", __name__, url_prefix="/api/v1", description="Courtrooms, court calendar and hearings")

VIEWERS = tuple(r for r in Role if r != Role.sysadmin)


def settings():
    return current_app.config["SETTINGS"]


def dump_hearings(hearings: list[Hearing], *, overlaps_known: bool = False) -> list[dict]:
    """Hearings shaped for the caller: party names for schedulers, judges and the office (logged).

    ``overlaps_known``: ``overlap`` is already set (a booking knows it from its ledger).
    """
    user = current_user()
    if not overlaps_known:
        queries.mark_overlaps(db.session, hearings)
    with_names = user.role in queries.NAME_ROLES
    tz = settings().timezone
    bodies = [answers.hearing(h, tz, with_names=with_names) for h in hearings]
    if with_names:
        log_accesses(db.session, user, [(h.case_id, [p.id for p in h.case.parties]) for h in hearings],
                     f"{request.method} {request.path}", now())
    return bodies


def respond(body, status=200):
    response = jsonify(body)
    response.status_code = status
    return response


def _visible_hearing(hearing_id: int) -> Hearing:
    hearing = db.session.scalar(queries.visible_hearings(db.session, current_user()).where(Hearing.id == hearing_id))
    if hearing is None:
        services.get_hearing(db.session, hearing_id)
        raise Forbidden("hearing_not_visible", "this hearing is not one you may see", id=hearing_id)
    return hearing


@blp.route("/courtrooms")
class CourtroomsView(MethodView):
    @roles(*VIEWERS)
    @blp.arguments(CourtroomListArgsSchema, location="query")
    @blp.response(200, CourtroomSchema(many=True), example=[COURTROOM_EXAMPLE])
    def get(self, args):
        """The courtrooms, by venue."""
        query = select(Courtroom).order_by(Courtroom.venue, Courtroom.name)
        if "venue" in args:
            query = query.where(Courtroom.venue == args["venue"])
        return db.session.scalars(query.limit(args["limit"]).offset(args["offset"])).all()

    @roles(Role.court_admin)
    @blp.arguments(CourtroomArgsSchema,
                   example={"name": "第一法庭", "venue": "main", "opens": "08:30", "closes": "17:30"})
    @blp.response(201, CourtroomSchema, example=COURTROOM_EXAMPLE)
    def post(self, args):
        """Add a courtroom (management office); its lunch break is 12:00-13:30 unless given."""
        if "lunch_starts" in args:
            starts, ends = args.pop("lunch_starts"), args.pop("lunch_ends")
            args["lunch"] = (starts, ends) if starts is not None else None
        return services.create_courtroom(db.session, actor=current_user(), now=now(), settings=settings(), **args)


@blp.route("/courtrooms/<int:courtroom_id>/lunch-break")
class LunchBreakView(MethodView):
    @roles(Role.court_admin)
    @blp.arguments(LunchBreakArgsSchema, example={"lunch_starts": "12:00", "lunch_ends": "13:30"})
    @blp.response(200, CourtroomSchema, example=COURTROOM_EXAMPLE)
    def put(self, args, courtroom_id):
        """Set a courtroom's lunch break, when nothing is suggested, auto-scheduled or booked (null: none)."""
        room = db.session.get(Courtroom, courtroom_id)
        if room is None:
            raise NotFound("courtroom_not_found", "there is no such courtroom: choose one from the courtroom list",
                           field="courtroom_id", id=courtroom_id)
        lunch = None if args["lunch_starts"] is None else (args["lunch_starts"], args["lunch_ends"])
        return services.set_lunch_break(db.session, room, lunch, actor=current_user(), now=now())


@blp.route("/court-days")
class CourtDaysView(MethodView):
    @roles(*VIEWERS)
    @blp.arguments(CourtDayListArgsSchema, location="query")
    @blp.response(200, WorkingDaySchema(many=True),
                  example=[{"day": "2027-01-01", "is_working": False, "name": "元旦"},
                           {"day": "2027-01-04", "is_working": True, "name": None}])
    def get(self, args):
        """Every date from ``from`` to ``to`` and whether the court sits (holidays, make-up days)."""
        working = WorkingDays.load(db.session, args["from_"], args["to"])
        names = dict(db.session.execute(select(CourtDay.day, CourtDay.name).where(
            CourtDay.day >= args["from_"], CourtDay.day <= args["to"])).all())
        days, day = [], args["from_"]
        while day <= args["to"]:
            days.append({"day": day, "is_working": working(day), "name": names.get(day)})
            day += timedelta(days=1)
        return days


@blp.route("/court-days/<string:day>")
class CourtDayView(MethodView):
    @roles(Role.court_admin)
    @blp.arguments(CourtDayArgsSchema, example={"is_working": True, "name": "春节调休上班"})
    @blp.response(200, CourtDaySchema, example=COURT_DAY_EXAMPLE)
    def put(self, args, day):
        """Mark a date a holiday or a make-up working day (management office)."""
        try:
            parsed = datetime.strptime(day, "%Y-%m-%d").date()
        except ValueError:
            from ancillary.errors import Invalid

            raise Invalid("invalid_day", "day must be written YYYY-MM-DD", field="day") from None
        return services.set_court_day(db.session, day=parsed, actor=current_user(), now=now(), **args)


@blp.route("/blockings")
class BlockingsView(MethodView):
    @roles(Role.court_admin, Role.scheduler, Role.judge, Role.enforcement_officer)
    @blp.arguments(BlockingListArgsSchema, location="query")
    @blp.response(200, BlockingSchema(many=True), example=[BLOCKING_EXAMPLE])
    def get(self, args):
        """Blocked courtrooms and officers' leave."""
        query = select(Blocking).order_by(Blocking.starts_at, Blocking.id)
        if "from_" in args:
            query = query.where(Blocking.ends_at > args["from_"])
        if "to" in args:
            query = query.where(Blocking.starts_at < args["to"])
        for name in ("courtroom_id", "user_id"):
            if name in args:
                query = query.where(getattr(Blocking, name) == args[name])
        return db.session.scalars(query.limit(args["limit"]).offset(args["offset"])).all()

    @roles(Role.court_admin)
    @blp.arguments(BlockingArgsSchema, example={"courtroom_id": 3, "starts_at": "2027-01-11T08:00:00+08:00",
                                                 "ends_at": "2027-01-12T18:00:00+08:00", "reason": "音响设备维修"})
    @blp.response(201, BlockingSchema, example=BLOCKING_EXAMPLE)
    def post(self, args):
        """Block a courtroom (repairs) or record an officer's leave."""
        return services.create_blocking(db.session, actor=current_user(), now=now(), **args)


@blp.route("/hearings")
class HearingsView(MethodView):
    @roles(*queries.HEARING_READERS)
    @blp.arguments(HearingListArgsSchema, location="query")
    @blp.response(200, HearingPageSchema, example={"items": [HEARING_EXAMPLE], "total": 1})
    def get(self, args):
        """Hearings by time, room, judge or case, earliest first (shaped by role)."""
        query = queries.visible_hearings(db.session, current_user(), args.get("judge_id"))
        if "day" in args:
            tz = settings().timezone
            args["from_"] = datetime.combine(args["day"], time(0), tz)
            args["to"] = args["from_"] + timedelta(days=1)
        if "from_" in args:
            query = query.where(Hearing.ends_at > args["from_"])
        if "to" in args:
            query = query.where(Hearing.starts_at < args["to"])
        for name in ("courtroom_id", "judge_id", "case_id", "status"):
            if name in args:
                query = query.where(getattr(Hearing, name) == args[name])
        page, total = paged(db.session, query.order_by(Hearing.starts_at, Hearing.courtroom_id, Hearing.id), args)
        items = db.session.scalars(page).unique().all()
        return respond({"items": dump_hearings(list(items)), "total": total})

    @roles(Role.scheduler)
    @blp.arguments(HearingArgsSchema, fast=hearing_args, example={"case_id": 42, "courtroom_id": 3,
                                               "starts_at": "2027-01-07T09:00:00+08:00",
                                               "ends_at": "2027-01-07T10:00:00+08:00"})
    @blp.response(201, HearingSchema, example=HEARING_EXAMPLE)
    @blp.alt_response(409, schema="Error", description="the room or judge is taken, or a rule refuses the slot; "
                                       "`conflict` names the hearing, blocking or rule",
                      example={"code": 409, "status": "Conflict", "error": "room_taken",
                               "message": "courtroom 第一法庭 is taken by hearing 6",
                               "field": "starts_at", "conflict": {"hearing_id": 6, "courtroom_id": 3,
                                                                  "starts_at": "2027-01-07T09:00:00+08:00",
                                                                  "ends_at": "2027-01-07T10:00:00+08:00"}})
    def post(self, args):
        """Book a hearing; the case's scheduling task is done and the judge's phone is told."""
        user = current_user()
        with_names = user.role in queries.NAME_ROLES  # shown, so logged: with the booking, in its statement
        shown_to = (user, f"{request.method} {request.path}") if with_names else None
        hearing = services.book(db.session, actor=user, now=now(), settings=settings(), shown_to=shown_to, **args)
        return respond(answers.hearing(hearing, settings().timezone, with_names=with_names), 201)


@blp.route("/hearings/<int:hearing_id>")
class HearingView(MethodView):
    @roles(*queries.HEARING_READERS)
    @blp.response(200, HearingSchema, example=HEARING_EXAMPLE)
    def get(self, hearing_id):
        """One hearing, if the caller may see it."""
        return respond(dump_hearings([_visible_hearing(hearing_id)])[0])

    @roles(Role.scheduler, Role.judge, Role.enforcement_officer)
    @blp.arguments(HearingMoveArgsSchema, example={"starts_at": "2027-01-08T14:00:00+08:00",
                                                   "ends_at": "2027-01-08T15:00:00+08:00"})
    @blp.response(200, HearingSchema, example=HEARING_EXAMPLE)
    @errors(409)
    def patch(self, args, hearing_id):
        """Move a hearing (a scheduler, or the case's judge); the same rules apply."""
        hearing = services.get_hearing(db.session, hearing_id)
        services.check_may_touch(db.session, current_user(), hearing)
        services.move(db.session, hearing, actor=current_user(), now=now(), settings=settings(), **args)
        return respond(dump_hearings([hearing])[0])


@blp.route("/hearings/<int:hearing_id>/cancel")
class HearingCancelView(MethodView):
    @roles(Role.scheduler, Role.judge, Role.enforcement_officer)
    @blp.arguments(HearingCancelArgsSchema, example={"reason": "当事人申请延期"})
    @blp.response(200, HearingSchema, example=dict(HEARING_EXAMPLE, status="cancelled"))
    def post(self, args, hearing_id):
        """Cancel a hearing; the case goes back to the scheduling queue."""
        hearing = services.get_hearing(db.session, hearing_id)
        services.check_may_touch(db.session, current_user(), hearing)
        services.cancel(db.session, hearing, actor=current_user(), now=now(), settings=settings(), **args)
        return respond(dump_hearings([hearing])[0])


SUGGESTION_EXAMPLE = {"courtroom_id": 3, "courtroom_name": "第一法庭", "venue": "main",
                      "starts_at": "2027-01-07T08:30:00+08:00", "ends_at": "2027-01-07T09:30:00+08:00",
                      "overlap": False}


def _case_to_suggest(case_id: int):
    """The open case ``case_id``, if the caller may see it (judges: their own cases only)."""
    from ancillary.auth.policy import case_view
    from ancillary.cases.models import CaseStatus
    from ancillary.cases.services import get_case
    from ancillary.errors import Conflict

    case = get_case(db.session, case_id)
    case_view(db.session, current_user(), case)
    if case.status != CaseStatus.open:
        raise Conflict("case_not_open", "case {number} is {status}: it is not scheduled", field="case_id",
                       number=case.number, status=case.status.value)
    return case


@blp.route("/hearings/suggestions")
class SuggestionsView(MethodView):
    @roles(Role.scheduler, Role.court_admin, Role.judge, Role.enforcement_officer)
    @blp.arguments(SuggestionArgsSchema, location="query")
    @blp.response(200, SuggestionSchema(many=True), example=[SUGGESTION_EXAMPLE])
    @errors(404)
    def get(self, args):
        """The earliest feasible slots for a case: room and judge free, working day, inside its limits.

        An empty array when there is none; ``/hearings/suggestions/explained`` also says why.
        """
        case = _case_to_suggest(args["case_id"])
        return queries.suggestions(db.session, case, now=now(), settings=settings(), limit=args["limit"])


@blp.route("/hearings/suggestions/explained")
class ExplainedSuggestionsView(MethodView):
    @roles(Role.scheduler, Role.court_admin, Role.judge, Role.enforcement_officer)
    @blp.arguments(SuggestionArgsSchema, location="query")
    @blp.response(200, ExplainedSuggestionsSchema, examples={
        "slots": {"summary": "feasible slots found", "value": {"case_id": 42, "slots": [SUGGESTION_EXAMPLE],
                                                                "reason": None}},
        "none": {"summary": "no slot, and why", "value": {
            "case_id": 43, "slots": [],
            "reason": {"code": "past_speedy_limit",
                       "message": "a speedy case must be heard by 2027-01-11T23:59:59+08:00 (7 days after filing)",
                       "limit": "2027-01-11T23:59:59+08:00"}}},
    })
    @errors(404)
    def get(self, args):
        """The same slots as /hearings/suggestions, and when there is none the reason, in the rules' terms."""
        case = _case_to_suggest(args["case_id"])
        slots = queries.suggestions(db.session, case, now=now(), settings=settings(), limit=args["limit"])
        reason = None
        if not slots:
            refusal = queries.no_slot_reason(db.session, case, now=now(), settings=settings())
            reason = {"code": refusal.code, "message": _render(refusal), "limit": refusal.params.get("limit")}
        return {"case_id": case.id, "slots": slots, "reason": reason}


def _render(refusal) -> str:
    """A refusal's message for people, like an error's: the template through the catalogue."""
    params = dict(refusal.params)
    if params.get("venue") == "main":
        params["venue"] = gettext("main court")
    try:
        return gettext(refusal.template).format(**params)
    except (KeyError, IndexError, ValueError):
        return gettext(refusal.template)


@blp.route("/scheduling/auto")
class AutoView(MethodView):
    @roles(Role.scheduler)
    @blp.arguments(AutoArgsSchema, example={"from": "2027-01-11", "to": "2027-01-15"})
    @blp.response(200, AutoResultSchema,
                  example={"from": "2027-01-11", "to": "2027-01-15", "dry_run": False,
                           "scheduled": [{"id": 7, "case_id": 42, "case_number": "(2027)鲁1002民初123号",
                                          "courtroom_id": 3, "courtroom_name": "第一法庭", "judge_id": 12,
                                          "starts_at": "2027-01-11T08:30:00+08:00",
                                          "ends_at": "2027-01-11T09:30:00+08:00", "overlap": False}],
                           "unscheduled": [{"case_id": 43, "case_number": "(2027)鲁1002民初124号",
                                            "reason": "no_free_slot",
                                            "detail": "no room at the venue and the judge free together "
                                                      "in the window"}]})
    def post(self, args):
        """Place every pending case it can in the window (speedy and earliest limits first); say why not for
        the rest."""
        return auto.run(db.session, args["from_"], args["to"], venue=args.get("venue"), dry_run=args["dry_run"],
                        actor=current_user(), now=now(), settings=settings())


@blp.route("/reports/utilization")
class UtilizationView(MethodView):
    @roles(Role.court_admin, Role.contractor_manager, Role.scheduler)
    @blp.arguments(UtilizationArgsSchema, location="query")
    @blp.response(200, UtilizationSchema, example=UTILIZATION_EXAMPLE)
    def get(self, args):
        """Each room's utilisation per working day (booked over open minutes; an overlap pair counts once)."""
        return queries.utilization(db.session, args["from_"], args["to"], settings(), venue=args.get("venue"))
