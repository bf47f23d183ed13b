"""An account's life: the court's approval of a grant, disable and enable, password resets,
sign-in with a forced password change, and a person's tokens. Services flush, never commit.

Who may manage whom (``may_manage``): the management office (court_admin) every account
but its own; a system administrator only the accounts that never see party data, so no
path (a reset password, a re-enabled account) gives a system administrator case access.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth import throttle
from ancillary.auth.models import PARTY_DATA_ROLES, ApiToken, Role, SignInThrottle, User
from ancillary.auth.passwords import check_password
from ancillary.auth.services import authenticate_password, hash_password, issue_token
from ancillary.errors import Conflict, Forbidden, NotFound

TEMPORARY_PASSWORD_BYTES = 12  # 16 URL-safe characters, random: strong by construction


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user_not_found", "there is no such person: choose one from the list", field="user_id",
                       user_id=user_id)
    return user


def may_manage(actor: User, target: User) -> bool:
    if actor.id == target.id:
        return False
    if actor.role == Role.court_admin:
        return True
    return actor.role == Role.sysadmin and target.role not in PARTY_DATA_ROLES and not target.is_president


def _require_manage(actor: User, target: User) -> None:
    if actor.id == target.id:
        raise Forbidden("not_on_yourself", "ask a colleague: you may not do this to your own account")
    if not may_manage(actor, target):
        raise Forbidden("account_needs_court", "only the court's management office manages an account that sees"
                                               " party data")


def _temporary_password(session: Session, user: User) -> str:
    password = secrets.token_urlsafe(TEMPORARY_PASSWORD_BYTES)
    user.password_hash = hash_password(password)
    user.must_change_password = True
    return password


def approve(session: Session, user: User, *, actor: User, now: datetime) -> str:
    """A court_admin approves a pending grant; returns the person's one-time password."""
    if actor.role != Role.court_admin:
        raise Forbidden("approval_needs_court", "only the court's management office approves a grant")
    if user.is_approved:
        raise Conflict("already_approved", "this account is already approved", field="user_id")
    user.is_approved = True
    password = _temporary_password(session, user)
    session.flush()
    record(session, actor, "user.approve", user, now=now,
           after={"role": user.role.value, "is_president": user.is_president})
    return password


def set_active(session: Session, user: User, active: bool, *, actor: User | None, now: datetime) -> User:
    """Disable (every token and session stops at once) or enable an account."""
    if actor is not None:
        _require_manage(actor, user)
    if user.is_active != active:
        user.is_active = active
        if not active:
            user.credentials_revoked_at = now
        session.flush()
        record(session, actor, "user.enable" if active else "user.disable", user, now=now,
               before={"is_active": not active}, after={"is_active": active})
    return user


def reset_password(session: Session, user: User, *, actor: User | None, now: datetime,
                   password: str | None = None) -> str:
    """Give a one-time password (``password`` from the console, else random); the person
    must choose their own at next sign-in, and their tokens and sessions stop."""
    if actor is not None:
        _require_manage(actor, user)
    if password is None:
        password = _temporary_password(session, user)
    else:
        check_password(password, username=user.username, display_name=user.display_name)
        user.password_hash = hash_password(password)
        user.must_change_password = True
    revoke_all(session, user, actor=actor, now=now, audit=False)
    session.flush()
    record(session, actor, "user.reset_password", user, now=now, after={"must_change_password": True})
    return password


def tokens_of(session: Session, user: User, *, actor: User) -> list[ApiToken]:
    if actor.id != user.id:
        _require_manage(actor, user)
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())))


def revoke_all(session: Session, user: User, *, actor: User | None, now: datetime, audit: bool = True) -> int:
    """Revoke every token and browser session of ``user``; the number of tokens revoked."""
    if actor is not None and audit:
        _require_manage(actor, user)
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = now
    user.credentials_revoked_at = now
    session.flush()
    if audit:
        record(session, actor, "user.revoke_tokens", user, now=now, after={"tokens": len(rows)})
    return len(rows)


def revoke_one(session: Session, user: User, token_id: int, *, actor: User, now: datetime) -> ApiToken:
    _require_manage(actor, user)
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound("token_not_found",
                       "this person has no such token: it may have expired or been revoked; reload the list",
                       field="token_id")
    if row.revoked_at is None:
        row.revoked_at = now
        record(session, actor, "token.revoke", row, now=now, after={"user_id": user.id})
    return row


def sign_in(session: Session, *, username: str, password: str, new_password: str | None, address: str,
            now: datetime, lifetime: timedelta) -> tuple[User, str, ApiToken]:
    """Check the backoff, the password and a pending forced change; issue a token."""
    throttle.check(session, username, address, now=now)
    user = authenticate_password(session, username, password)
    if user.must_change_password:
        if not new_password:
            raise Forbidden("password_change_required", "choose a new password: send it as new_password",
                            field="new_password")
        if new_password == password:
            raise Conflict("password_unchanged", "the new password must differ from the one you were given",
                           field="new_password")
        check_password(new_password, username=user.username, display_name=user.display_name, field="new_password")
        user.password_hash = hash_password(new_password)
        user.must_change_password = False
        record(session, user, "user.change_password", user, now=now)
    throttle.record_success(session, username)
    token, row = issue_token(session, user, now=now, lifetime=lifetime)
    return user, token, row


def record_failed_sign_in(session: Session, *, username: str, address: str, now: datetime) -> None:
    """Count the failure for backoff and put it in the audit trail (who tried, from where)."""
    throttle.record_failure(session, username, address, now=now)
    account = session.scalar(select(SignInThrottle).where(
        SignInThrottle.scope == "account", SignInThrottle.key == (username or "").strip().lower()[:128]))
    user_id = session.scalar(select(User.id).where(User.username == username))
    record(session, None, "auth.sign_in_failed", account, now=now,
           after={"username": (username or "")[:64], "user_id": user_id, "address": address,
                  "failures": account.failures if account else None})
