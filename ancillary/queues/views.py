"""Work queues: list, claim, release, complete; follow-up posts."""

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.queues import queries, services
from ancillary.queues.models import OPEN_STATES, Post, Task
from ancillary.queues.schemas import (
    CompleteArgsSchema,
    FollowUpPostArgsSchema,
    FollowUpPostSchema,
    PostListArgsSchema,
    PostSchema,
    TaskListArgsSchema,
    TaskPageSchema,
    TaskSchema,
)
from ancillary.schemas import ListArgsSchema, paged, retry_later
from ancillary.web import current_user, now, roles

blp = Blueprint("Queues", __name__, url_prefix="/api/v1", description="Work queues and posts")

TASK_READERS = (
    Role.intake_clerk, Role.scheduler, Role.service_clerk, Role.archivist, Role.contractor_manager,
    Role.court_admin, Role.judge, Role.enforcement_officer, Role.follow_up,
)
CLAIMERS = (Role.intake_clerk, Role.scheduler, Role.service_clerk, Role.archivist)
TASK_EXAMPLE = {"id": 9, "queue": "trial", "kind": "schedule_hearing", "case_id": 1,
                "case_number": "(2027)鲁1002民初123号", "case_kind": "speedy", "party_id": None, "priority": 0,
                "status": "open", "assignee_id": None, "created_at": "2027-01-04T09:30:00+08:00",
                "due_at": "2027-01-04T12:30:00+08:00", "claimed_at": None, "completed_at": None, "sla": "open",
                "note": None}
MOVES_MESSAGE = "您在过去一小时内已领取和退回送达任务 20 次，请 45 分钟后再试"
TOO_MANY_MOVES = {"code": 429, "status": "Too Many Requests", "error": "serve_moves_limited", "message": MOVES_MESSAGE,
                  "field": "task_id", "errors": {"task_id": [MOVES_MESSAGE]}, "retry_after": 2700}
TOO_MANY_MOVES_TEXT = ("a service clerk claimed and released serve tasks ANCILLARY_SERVE_MOVES_PER_HOUR times "
                       "(20 by default) in the last hour; wait Retry-After seconds")
POST_EXAMPLE = {"id": 4, "user_id": 40, "group": "trial", "officer_ids": [3, 4, 5],
                "created_at": "2027-01-04T09:30:00+08:00"}



def _with_sla(task):
    task.sla = task.sla_state(now())
    return task


@blp.route("/tasks")
class TasksView(MethodView):
    @roles(*TASK_READERS)
    @blp.arguments(TaskListArgsSchema, location="query")
    @blp.response(200, TaskPageSchema, example={"items": [TASK_EXAMPLE], "total": 1})
    def get(self, args):
        """A queue in working order (speedy first, then earliest due), with SLA state.

        Without ``status`` (or ``case_id``) only open and claimed tasks are listed.
        """
        user = current_user()
        query = queries.visible_tasks(db.session, user, args.get("queue"))
        for name in ("status", "kind", "case_id", "assignee_id"):
            if name in args:
                query = query.where(getattr(Task, name) == args[name])
        if "status" not in args and "case_id" not in args:
            query = query.where(Task.status.in_(OPEN_STATES))  # a queue shows work still to do
        if args.get("mine"):
            query = query.where(Task.assignee_id == user.id)
        if args.get("overdue"):
            query = query.where(Task.status.in_(OPEN_STATES), Task.due_at < now())
        page, total = paged(db.session, queries.working_order(query), args)
        items = db.session.scalars(page).all()
        return {"items": [_with_sla(t) for t in items], "total": total}


@blp.route("/tasks/<int:task_id>")
class TaskView(MethodView):
    @roles(*TASK_READERS)
    @blp.response(200, TaskSchema, example=TASK_EXAMPLE)
    def get(self, task_id):
        """One task, if it lies in a queue the caller may see."""
        user = current_user()
        task = db.session.scalar(queries.visible_tasks(db.session, user, None).where(Task.id == task_id))
        if task is None:
            services.get_task(db.session, task_id)  # 404 when it does not exist at all
            from ancillary.errors import Forbidden

            raise Forbidden("task_not_visible", "this task is not in a queue you work", id=task_id)
        return _with_sla(task)


@blp.route("/tasks/<int:task_id>/claim")
class TaskClaimView(MethodView):
    @roles(*CLAIMERS)
    @blp.response(200, TaskSchema, example=TASK_EXAMPLE)
    @retry_later(blp, TOO_MANY_MOVES_TEXT, TOO_MANY_MOVES)
    @errors(409)
    def post(self, task_id):
        """Take a task; when two clerks race, one wins and the other gets 409.

        A service clerk claims and releases serve tasks at most ``ANCILLARY_SERVE_MOVES_PER_HOUR``
        times in any hour (20 by default); beyond that 429 with ``Retry-After``.
        """
        return _with_sla(services.claim(db.session, task_id, actor=current_user(), now=now(),
                                        settings=current_app.config["SETTINGS"]))


@blp.route("/tasks/<int:task_id>/release")
class TaskReleaseView(MethodView):
    @roles(*CLAIMERS, Role.contractor_manager)
    @blp.response(200, TaskSchema, example=TASK_EXAMPLE)
    @retry_later(blp, TOO_MANY_MOVES_TEXT, TOO_MANY_MOVES)
    def post(self, task_id):
        """Give a claimed task back to its queue (counts against a service clerk's hourly moves)."""
        return _with_sla(services.release(db.session, task_id, actor=current_user(), now=now(),
                                          settings=current_app.config["SETTINGS"]))


@blp.route("/tasks/<int:task_id>/complete")
class TaskCompleteView(MethodView):
    @roles(*CLAIMERS)
    @blp.arguments(CompleteArgsSchema, example={"note": "已排期"})
    @blp.response(200, TaskSchema, example=TASK_EXAMPLE)
    def post(self, args, task_id):
        """Mark a task one holds as done."""
        return _with_sla(services.complete(db.session, task_id, actor=current_user(), now=now(), **args))


@blp.route("/follow-up-posts")
class FollowUpPostsView(MethodView):
    @roles(Role.contractor_manager, Role.court_admin)
    @blp.arguments(ListArgsSchema, location="query")
    @blp.response(200, FollowUpPostSchema(many=True), example=[POST_EXAMPLE])
    def get(self, args):
        """Follow-up posts and the officers each is paired with."""
        return db.session.scalars(
            select(Post).where(Post.kind == "follow_up").order_by(Post.id).limit(args["limit"]).offset(args["offset"])
        ).all()

    @roles(Role.contractor_manager)
    @blp.arguments(FollowUpPostArgsSchema, example={"user_id": 40, "officer_ids": [3, 4, 5]})
    @blp.response(201, FollowUpPostSchema, example=POST_EXAMPLE)
    @errors(409)
    def post(self, args):
        """Pair a follow-up staff member with 3-5 judges or enforcement officers."""
        return services.create_follow_up_post(
            db.session, user_id=args["user_id"], officer_ids=args["officer_ids"], group_code=args.get("group"),
            actor=current_user(), now=now(),
        )


@blp.route("/posts")
class PostsView(MethodView):
    @roles(Role.contractor_manager, Role.court_admin)
    @blp.arguments(PostListArgsSchema, location="query")
    @blp.response(200, PostSchema(many=True), example=[{
        "id": 3, "user_id": 21, "username": "sched01", "display_name": "刘伟", "group": "trial",
        "kind": "scheduler", "officer_ids": [], "tasks_held": 4, "tasks_overdue": 1}])
    def get(self, args):
        """The contractor's posts, who holds each, and their workload (held and overdue tasks)."""
        return queries.posts_with_workload(db.session, now(), group=args.get("group"), kind=args.get("kind"),
                                           limit=args["limit"], offset=args["offset"])
