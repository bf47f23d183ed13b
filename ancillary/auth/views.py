"""Sign-in, the caller's identity, and user administration."""

from flask import current_app
from flask.views import MethodView
from sqlalchemy import select

from ancillary.auth import services
from ancillary.auth.models import Role, User
from ancillary.auth.schemas import (
    MeSchema,
    TokenArgsSchema,
    TokenSchema,
    UserArgsSchema,
    UserListArgsSchema,
    UserPageSchema,
    UserSchema,
)
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.schemas import paged
from ancillary.web import current_user, now, public, roles

blp = Blueprint("Auth", __name__, url_prefix="/api/v1", description="Sign-in and users")

USER_EXAMPLE = {"id": 7, "username": "judge07", "display_name": "王法官", "role": "judge",
                "phone": "+8613800000007", "is_active": True, "is_president": False,
                "created_at": "2027-01-04T09:30:00+08:00"}


@blp.route("/auth/tokens")
class TokensView(MethodView):
    @public
    @blp.arguments(TokenArgsSchema, example={"username": "sched01", "password": "demo-password"})
    @blp.response(201, TokenSchema, example={"token": "anc_Zk3q…", "role": "scheduler",
                                                "expires_at": "2027-02-03T09:30:00+08:00"})
    @errors(401)
    def post(self, args):
        """Exchange a username and password for a bearer token."""
        user = services.authenticate_password(db.session, args["username"], args["password"])
        token, row = services.issue_token(
            db.session, user, now=now(), lifetime=current_app.config["SETTINGS"].token_lifetime
        )
        return {"token": token, "role": user.role.value, "expires_at": row.expires_at}


ALL_ROLES = tuple(Role)


@blp.route("/auth/tokens/current")
class CurrentTokenView(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(204)
    def delete(self):
        """Revoke the token this request was made with (sign out)."""
        from flask import request

        token = request.headers.get("Authorization", "").partition(" ")[2].strip()
        services.revoke_token(db.session, token, actor=current_user(), now=now())


@blp.route("/me")
class MeView(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(200, MeSchema, example={"id": 7, "username": "judge07", "display_name": "王法官",
                                         "role": "judge", "phone": "+8613800000007", "is_president": False})
    def get(self):
        """Who am I: id, username, role."""
        return current_user()


@blp.route("/users")
class UsersView(MethodView):
    @roles(Role.sysadmin, Role.contractor_manager, Role.court_admin)
    @blp.arguments(UserListArgsSchema, location="query")
    @blp.response(200, UserPageSchema, example={"items": [USER_EXAMPLE], "total": 1})
    def get(self, args):
        """List users (staff directory)."""
        query = select(User)
        if "role" in args:
            query = query.where(User.role == args["role"])
        page, total = paged(db.session, query.order_by(User.id), args)
        items = db.session.scalars(page).all()
        return {"items": items, "total": total}

    @roles(Role.sysadmin)
    @blp.arguments(UserArgsSchema, example={"username": "judge07", "role": "judge", "phone": "+8613800000007"})
    @blp.response(201, UserSchema, example=USER_EXAMPLE)
    @errors(409)
    def post(self, args):
        """Add a user (system administrators)."""
        return services.create_user(db.session, actor=current_user(), now=now(), **args)
