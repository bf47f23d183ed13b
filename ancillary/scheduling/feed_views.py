"""Judges' calendar feeds over HTTP: the iCalendar feed and its secret URL (routes on the Scheduling blueprint)."""

from __future__ import annotations

from flask import Response, g, request, url_for
from flask.views import MethodView

from ancillary.auth.models import OFFICER_ROLES, Role
from ancillary.errors import Forbidden, Unauthorized
from ancillary.extensions import db
from ancillary.openapi import errors
from ancillary.scheduling import feeds, ics, services
from ancillary.scheduling.schemas import CalendarArgsSchema, FeedTokenSchema
from ancillary.scheduling.views import blp, settings
from ancillary.web import current_user, now, public, roles


@blp.route("/judges/<int:judge_id>/calendar.ics")
class JudgeCalendarView(MethodView):
    @public
    @blp.arguments(CalendarArgsSchema, location="query")
    @blp.response(200, content_type="text/calendar",
                  example="BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Ancillary//Court scheduling//ZH\r\n"
                          "BEGIN:VEVENT\r\nUID:hearing-7@ancillary\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\n"
                          "END:VEVENT\r\nEND:VCALENDAR\r\n")
    @errors(401, 403)
    def get(self, args, judge_id):
        """A judge's hearings as iCalendar: bearer token (the judge, a scheduler, the office) or ``?token=``."""
        user = g.get("user")
        if "token" in args:
            if feeds.feed_user(db.session, args["token"]) != judge_id:
                raise Unauthorized("invalid_feed_token", "the calendar feed token is unknown or was replaced")
        elif user is None:
            raise Unauthorized("auth_required", "sign in: send Authorization: Bearer <token>")
        elif not (user.role in (Role.scheduler, Role.court_admin)
                  or (user.role in OFFICER_ROLES and user.id == judge_id)):
            raise Forbidden("not_your_calendar", "you see only your own hearings", field="judge_id")
        judge = services.officer(db.session, judge_id)
        body = ics.judge_calendar(db.session, judge, now=now(), settings=settings())
        return Response(body, status=200, content_type="text/calendar; charset=utf-8",
                        headers={"Cache-Control": "private, max-age=300"})


@blp.route("/judges/<int:judge_id>/calendar-token")
class JudgeCalendarTokenView(MethodView):
    @roles(Role.judge, Role.enforcement_officer, Role.court_admin)
    @blp.response(201, FeedTokenSchema,
                  example={"url": "https://court.example.cn/api/v1/judges/12/calendar.ics?token=ics_...",
                           "token": "ics_..."})
    def post(self, judge_id):
        """Issue a new secret feed URL for a judge's phone calendar (the judge, or the office); the old one stops."""
        user = current_user()
        if user.role != Role.court_admin and user.id != judge_id:
            raise Forbidden("not_your_calendar", "you may only issue your own calendar feed", field="judge_id")
        judge = services.officer(db.session, judge_id)
        token = feeds.issue_feed_token(db.session, judge, actor=user, now=now())
        path = url_for("Scheduling.JudgeCalendarView", judge_id=judge_id, token=token)
        base = settings().public_url or request.host_url.rstrip("/")
        return {"url": base + path, "token": token}
