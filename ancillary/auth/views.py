"""Sign-in, the caller's identity, and user administration."""

from flask import current_app, request
from flask.views import MethodView
from sqlalchemy import select

from ancillary.auth import accounts, services
from ancillary.auth.models import Role, User
from ancillary.auth.schemas import (
    ApiTokenPageSchema,
    ApprovedUserSchema,
    MeSchema,
    PasswordResetSchema,
    RevokedSchema,
    TokenArgsSchema,
    TokenSchema,
    UserArgsSchema,
    UserListArgsSchema,
    UserPageSchema,
    UserSchema,
)
from ancillary.errors import Unauthorized
from ancillary.extensions import db
from ancillary.openapi import Blueprint, errors
from ancillary.schemas import paged, retry_later
from ancillary.web import current_user, now, public, roles

blp = Blueprint("Auth", __name__, url_prefix="/api/v1", description="Sign-in and users")

USER_EXAMPLE = {"id": 7, "username": "judge07", "display_name": "王法官", "role": "judge",
                "phone": "+8613800000007", "is_active": True, "is_president": False,
                "created_at": "2027-01-04T09:30:00+08:00"}


SIGN_IN_MESSAGE = "登录失败次数过多，请 8 秒后再试"
TOO_MANY_ATTEMPTS = {"code": 429, "status": "Too Many Requests", "error": "too_many_attempts",
                     "message": SIGN_IN_MESSAGE, "field": "password", "errors": {"password": [SIGN_IN_MESSAGE]},
                     "retry_after": 8}


@blp.route("/auth/tokens")
class TokensView(MethodView):
    @public
    @blp.arguments(TokenArgsSchema, example={"username": "sched01", "password": "demo-password"})
    @blp.response(201, TokenSchema, example={"token": "anc_Zk3q…", "role": "scheduler",
                                                "expires_at": "2027-02-03T09:30:00+08:00"})
    @retry_later(blp, "too many failed sign-ins for this account (after 5) or from this address (after 20): each "
                      "further failure doubles the wait, at most 60 s for an account and 15 min for an address; "
                      "wait Retry-After seconds, even with the right password", TOO_MANY_ATTEMPTS)
    @errors(401, 403, 409)
    def post(self, args):
        """Exchange a username and password for a bearer token.

        Repeated failures per account and per client address wait longer each time (429 with
        Retry-After). An account that must choose a new password answers 403 until
        ``new_password`` is sent along.
        """
        address = request.remote_addr or "unknown"
        try:
            user, token, row = accounts.sign_in(
                db.session, username=args["username"], password=args["password"],
                new_password=args.get("new_password"), address=address, now=now(),
                lifetime=current_app.config["SETTINGS"].token_lifetime)
        except Unauthorized:
            db.session.rollback()
            accounts.record_failed_sign_in(db.session, username=args["username"], address=address, now=now())
            db.session.commit()  # the failure counts even though the answer is a refusal
            raise
        return {"token": token, "role": user.role.value, "expires_at": row.expires_at}


ALL_ROLES = tuple(Role)


@blp.route("/auth/tokens/current")
class CurrentTokenView(MethodView):
    @roles(*ALL_ROLES)
    @blp.response(204)
    def delete(self):
        """Revoke the token this request was made with (sign out)."""
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
        if "pending" in args:
            query = query.where(User.is_approved.is_(not args["pending"]))
        page, total = paged(db.session, query.order_by(User.id), args)
        items = db.session.scalars(page).all()
        return {"items": items, "total": total}

    @roles(Role.sysadmin)
    @blp.arguments(UserArgsSchema, example={"username": "judge07", "role": "judge", "phone": "+8613800000007"})
    @blp.response(201, UserSchema, example=USER_EXAMPLE)
    @errors(409)
    def post(self, args):
        """Add a user (system administrators).

        A role that sees party data (judge, enforcement officer, court_admin, intake clerk,
        scheduler, service clerk) or the president flag waits, without a password, for a
        court_admin's approval; other accounts are active at once.
        """
        return services.create_user(db.session, actor=current_user(), now=now(), **args)


@blp.route("/users/<int:user_id>/approve")
class ApproveView(MethodView):
    @roles(Role.court_admin)
    @blp.response(200, ApprovedUserSchema, example={**USER_EXAMPLE, "is_approved": True,
                                                     "must_change_password": True,
                                                     "temporary_password": "x3Jq9VbLk2PzR7wA"})
    @errors(409)
    def post(self, user_id):
        """Approve a grant waiting for the court; answers the person's one-time password."""
        user = accounts.get_user(db.session, user_id)
        user.temporary_password = accounts.approve(db.session, user, actor=current_user(), now=now())
        return user


@blp.route("/users/<int:user_id>/disable")
class DisableView(MethodView):
    @roles(Role.court_admin, Role.sysadmin)
    @blp.response(200, UserSchema, example={**USER_EXAMPLE, "is_active": False})
    def post(self, user_id):
        """Disable an account: its tokens and sessions stop at once."""
        user = accounts.get_user(db.session, user_id)
        return accounts.set_active(db.session, user, False, actor=current_user(), now=now())


@blp.route("/users/<int:user_id>/enable")
class EnableView(MethodView):
    @roles(Role.court_admin, Role.sysadmin)
    @blp.response(200, UserSchema, example=USER_EXAMPLE)
    def post(self, user_id):
        """Enable a disabled account again (its old tokens stay revoked)."""
        user = accounts.get_user(db.session, user_id)
        return accounts.set_active(db.session, user, True, actor=current_user(), now=now())


@blp.route("/users/<int:user_id>/reset-password")
class ResetPasswordView(MethodView):
    @roles(Role.court_admin, Role.sysadmin)
    @blp.response(200, PasswordResetSchema, example={"user_id": 7, "temporary_password": "x3Jq9VbLk2PzR7wA"})
    def post(self, user_id):
        """Reset a password: a one-time password the person replaces at next sign-in."""
        user = accounts.get_user(db.session, user_id)
        password = accounts.reset_password(db.session, user, actor=current_user(), now=now())
        return {"user_id": user.id, "temporary_password": password}


TOKEN_EXAMPLE = {"id": 31, "created_at": "2027-01-04T09:30:00+08:00", "expires_at": "2027-02-03T09:30:00+08:00",
                 "last_used_at": None, "revoked_at": None}


@blp.route("/users/<int:user_id>/tokens")
class UserTokensView(MethodView):
    @roles(Role.court_admin, Role.sysadmin)
    @blp.response(200, ApiTokenPageSchema, example={"items": [TOKEN_EXAMPLE]})
    def get(self, user_id):
        """A person's API tokens (never the token text), newest first."""
        user = accounts.get_user(db.session, user_id)
        return {"items": accounts.tokens_of(db.session, user, actor=current_user())}


@blp.route("/users/<int:user_id>/tokens/revoke")
class RevokeAllView(MethodView):
    @roles(Role.court_admin, Role.sysadmin)
    @blp.response(200, RevokedSchema, example={"revoked": 3})
    def post(self, user_id):
        """Revoke every token and browser session of a person."""
        user = accounts.get_user(db.session, user_id)
        return {"revoked": accounts.revoke_all(db.session, user, actor=current_user(), now=now())}


@blp.route("/users/<int:user_id>/tokens/<int:token_id>")
class UserTokenView(MethodView):
    @roles(Role.court_admin, Role.sysadmin)
    @blp.response(204)
    def delete(self, user_id, token_id):
        """Revoke one of a person's tokens."""
        user = accounts.get_user(db.session, user_id)
        accounts.revoke_one(db.session, user, token_id, actor=current_user(), now=now())
