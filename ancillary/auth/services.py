"""Accounts and tokens: hash passwords with argon2, store only token digests."""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached

from ancillary.audit.services import record
from ancillary.auth.models import PARTY_DATA_ROLES, ApiToken, Role, User
from ancillary.auth.passwords import check_password
from ancillary.driversql import DriverStatement
from ancillary.errors import Conflict, Invalid, Unauthorized

E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")
CN_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
TOKEN_PREFIX = "anc_"

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not tell.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def normalize_phone(value: str, field: str = "phone") -> str:
    """Return E.164; a bare Chinese mobile number (138...) gets +86."""
    cleaned = re.sub(r"[\s\-()]", "", value or "")
    if CN_MOBILE_RE.match(cleaned):
        cleaned = "+86" + cleaned
    if not E164_RE.match(cleaned):
        raise Invalid("invalid_phone", "not an E.164 phone number: {value}", field=field, value=value)
    return cleaned


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_court_approval(role: Role, is_president: bool, actor: User | None) -> bool:
    """A grant by a system administrator that reaches party data waits for a court_admin.

    The server console (``actor`` None) is trusted: it makes the first court_admin.
    """
    return actor is not None and actor.role == Role.sysadmin and (role in PARTY_DATA_ROLES or is_president)


def _checked_role(role) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise Invalid("invalid_role", "unknown role {role}", field="role", role=role) from None


def create_user(
    session: Session,
    *,
    username: str,
    role: Role | str,
    now: datetime,
    actor: User | None,
    display_name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    password: str | None = None,
    is_president: bool = False,
) -> User:
    """Add a user; the username is unique, the phone E.164, the password strong.

    A grant that needs the court's approval starts inactive and without a password: the
    approving court_admin hands the person a one-time password, so the system
    administrator never knows a password that opens party data.
    """
    if not re.match(r"^[A-Za-z0-9_.\-]{2,64}$", username or ""):
        raise Invalid("invalid_username", "username: 2-64 letters, digits, _ . -", field="username")
    role = _checked_role(role)
    if is_president and role != Role.court_admin:
        raise Invalid("president_not_court_admin", "only a court_admin account can be the president",
                      field="is_president")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("username_taken", "username {username} is taken", field="username", username=username)
    pending = needs_court_approval(role, is_president, actor)
    if pending and password is not None:
        raise Invalid("password_set_by_court", "the court gives this person their first password when it approves"
                      " the account; leave the password out", field="password")
    if password is not None:
        check_password(password, username=username, display_name=display_name)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        phone=normalize_phone(phone) if phone else None,
        email=email,
        password_hash=hash_password(password) if password else None,
        is_active=True,
        is_president=is_president,
        is_approved=not pending,
        must_change_password=actor is not None and password is not None,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record(session, actor, "user.create", user, now=now, after={
        "username": username, "role": role.value, "is_president": is_president, "pending_approval": pending})
    return user


def authenticate_password(session: Session, username: str, password: str) -> User:
    """Return the active user with this password, else raise Unauthorized."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.password_hash or not user.may_act():
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password or "x")
        raise Unauthorized("bad_credentials", "wrong username or password")
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("bad_credentials", "wrong username or password") from None
    return user


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, user: User, *, now: datetime, lifetime: timedelta
) -> tuple[str, ApiToken]:
    """Create a token; the clear text is returned once and never stored."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=digest(token), created_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    record(session, user, "token.issue", row, after={"expires_at": row.expires_at.isoformat()}, now=now)
    return token, row


def user_for_token(session: Session, token: str, *, now: datetime) -> User | None:
    """Return the active user holding a valid, unexpired, unrevoked token.

    Every request pays for this lookup, so the token's dates and its user come in one
    statement, read from the database each time (a revocation made by another process
    counts at once). In a fresh session (every request's) the statement reads plain
    columns and the user is put into the session as if a query had loaded it: the ORM's
    query machinery cost a request more than the statement. A session already holding
    objects (a caller's own, across requests) gets the ORM's query, with its autoflush
    and identity map, as before.
    """
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    fresh = not (session.identity_map or session.new or session.dirty or session.deleted)
    if fresh:
        row = next(iter(_TOKEN_AND_USER.rows(session, {"token_hash": digest(token)})), None)
    else:
        row = session.execute(_TOKEN_AND_USER_ORM, {"token_hash": digest(token)}).first()
    if row is None:
        return None
    *user, created_at, expires_at, revoked_at = row
    if revoked_at is not None or expires_at <= now:
        return None
    user = _as_loaded(session, dict(zip(_USER_COLUMNS, user, strict=True))) if fresh else user[0]
    return user if user.may_act(created_at) else None


def _as_loaded(session: Session, values: dict) -> User:
    """The user of these column values, in ``session`` as loaded (the columns not read load when first used)."""
    # Made as the ORM's loading makes it (no constructor: setting each column through the
    # instrumented attributes cost more than the statement's own Python).
    user = User.__mapper__.class_manager.new_instance()
    user.__dict__.update(values)
    make_transient_to_detached(user)  # every column given counts as committed; the rest as expired
    session.add(user)
    return user


# Built once: every request runs it, and a statement object reused keeps its cache key
# (SQLAlchemy otherwise rebuilds the expression and its key on every call). Every column
# of the user but the password's hash, which no request but a sign-in reads.
_USER_COLUMNS = tuple(column.key for column in User.__table__.columns if column.key != "password_hash")
_TOKEN_DATES = (ApiToken.created_at, ApiToken.expires_at, ApiToken.revoked_at)
_TOKEN_AND_USER = DriverStatement(select(*(User.__table__.c[key] for key in _USER_COLUMNS), *_TOKEN_DATES)
                                  .join(ApiToken, ApiToken.user_id == User.id)
                                  .where(ApiToken.token_hash == bindparam("token_hash")))
_TOKEN_AND_USER_ORM = (select(User, *_TOKEN_DATES).join(ApiToken, ApiToken.user_id == User.id)
                       .where(ApiToken.token_hash == bindparam("token_hash")))


def revoke_token(session: Session, token: str, *, actor: User, now: datetime) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        record(session, actor, "token.revoke", row, now=now)
