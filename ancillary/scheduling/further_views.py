"""Asking for a further hearing over HTTP (a route on the Scheduling blueprint)."""

from __future__ import annotations

from flask.views import MethodView

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.queues.schemas import TaskSchema
from ancillary.scheduling import further, services
from ancillary.scheduling.views import blp, respond, settings
from ancillary.web import current_user, now, roles

FURTHER_TASK_EXAMPLE = {
    "id": 31, "queue": "trial", "kind": "schedule_hearing", "case_id": 42, "case_number": "(2027)鲁1002民初123号",
    "case_kind": "ordinary", "party_id": None, "priority": 1, "status": "open", "assignee_id": None,
    "created_at": "2027-02-01T10:00:00+08:00", "due_at": "2027-02-01T13:00:00+08:00", "claimed_at": None,
    "completed_at": None, "sla": "open", "note": None,
}


@blp.route("/hearings/<int:hearing_id>/further-hearing")
class FurtherHearingView(MethodView):
    @roles(Role.judge, Role.enforcement_officer, Role.follow_up, Role.scheduler)
    @blp.response(201, TaskSchema, example=FURTHER_TASK_EXAMPLE)
    @blp.alt_response(200, schema=TaskSchema, description="asked already: the scheduling task still open",
                      example=FURTHER_TASK_EXAMPLE)
    @blp.alt_response(409, schema="Error",
                      description="the hearing is not held yet or was cancelled, the case is closed, or it has a "
                                  "hearing to come",
                      example={"code": 409, "status": "Conflict", "error": "hearing_not_held", "field": "hearing_id",
                               "message": "this hearing has not been held yet: move it rather than ask for another"})
    def post(self, hearing_id):
        """After a held hearing, put the undecided case back in the scheduling queue for its next hearing.

        The case's judge, a follow-up post paired with the judge (acting on the "heard, not
        reported closed" reminder) or a scheduler asks; auto-scheduling, the scheduling sweep
        or a scheduler then books it through the normal booking path.
        """
        hearing = services.get_hearing(db.session, hearing_id)
        task, created = further.request_further_hearing(db.session, hearing, actor=current_user(), now=now(),
                                                        settings=settings())
        return respond(TaskSchema().dump(task), 201 if created else 200)
