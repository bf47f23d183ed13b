"""Courtrooms, the resources hearings are booked in."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ancillary.auth.models import Role
from ancillary.extensions import db
from ancillary.scheduling import services
from ancillary.scheduling.models import Courtroom
from ancillary.scheduling.schemas import CourtroomArgsSchema, CourtroomListArgsSchema, CourtroomSchema
from ancillary.web import current_user, now, roles

blp = Blueprint("Scheduling", __name__, url_prefix="/api/v1", description="Courtrooms and hearings")

COURTROOM_EXAMPLE = {"id": 1, "name": "第一法庭", "venue": "main", "opens": "08:30", "closes": "17:30", "capacity": 30,
                     "has_video": True, "is_active": True, "created_at": "2027-01-04T09:30:00+08:00"}


@blp.route("/courtrooms")
class CourtroomsView(MethodView):
    @roles(*(r for r in Role if r != Role.sysadmin))
    @blp.arguments(CourtroomListArgsSchema, location="query")
    @blp.response(200, CourtroomSchema(many=True), example=[COURTROOM_EXAMPLE])
    def get(self, args):
        """The courtrooms, by venue."""
        query = select(Courtroom).order_by(Courtroom.venue, Courtroom.name)
        if "venue" in args:
            query = query.where(Courtroom.venue == args["venue"])
        return db.session.scalars(query.limit(args["limit"]).offset(args["offset"])).all()

    @roles(Role.court_admin)
    @blp.arguments(CourtroomArgsSchema, example={"name": "第一法庭", "venue": "main", "opens": "08:30", "closes": "17:30"})
    @blp.response(201, CourtroomSchema, example=COURTROOM_EXAMPLE)
    def post(self, args):
        """Add a courtroom (management office)."""
        return services.create_courtroom(db.session, actor=current_user(), now=now(), **args)
