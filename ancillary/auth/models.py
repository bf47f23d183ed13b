"""Users, their roles, and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ancillary.db import Base, str_enum


class Role(enum.StrEnum):
    intake_clerk = "intake_clerk"
    scheduler = "scheduler"
    service_clerk = "service_clerk"
    file_clerk = "file_clerk"
    archivist = "archivist"
    follow_up = "follow_up"
    judge = "judge"
    enforcement_officer = "enforcement_officer"
    court_admin = "court_admin"
    contractor_manager = "contractor_manager"
    sysadmin = "sysadmin"


CONTRACTOR_ROLES = frozenset(
    {
        Role.intake_clerk,
        Role.scheduler,
        Role.service_clerk,
        Role.file_clerk,
        Role.archivist,
        Role.follow_up,
        Role.contractor_manager,
    }
)
COURT_ROLES = frozenset({Role.judge, Role.enforcement_officer, Role.court_admin})
# Roles that can reach party data (names, ID numbers, contacts): granting one needs the
# court's approval, and only the management office may reset such an account's password.
PARTY_DATA_ROLES = COURT_ROLES | {Role.intake_clerk, Role.scheduler, Role.service_clerk}
OFFICER_ROLES = frozenset({Role.judge, Role.enforcement_officer})


def role_enum(name: str) -> Enum:
    return str_enum(Role, name)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("phone IS NULL OR phone LIKE '+%'", name="phone_e164"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(role_enum("role"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_president: Mapped[bool] = mapped_column(Boolean, default=False)
    # False while a grant made by a system administrator waits for a court_admin's approval.
    is_approved: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # The person must choose a new password at their next sign-in (after a reset or a grant).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Tokens and browser sessions issued before this instant no longer work.
    credentials_revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_contractor(self) -> bool:
        return self.role in CONTRACTOR_ROLES

    def may_act(self, issued_at: datetime | None = None) -> bool:
        """Whether a credential issued at ``issued_at`` still lets this person in.

        The one check every way in shares (bearer tokens, browser sessions): a disabled
        or not yet approved account stops at once, and so does a credential older than
        the last "revoke all".
        """
        if not (self.is_active and self.is_approved):
            return False
        if self.credentials_revoked_at is not None and issued_at is not None:
            return issued_at > self.credentials_revoked_at
        return True


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a database leak reveals none."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class SignInThrottle(Base):
    """Recent failed sign-ins for one account or one client address, shared by every process."""

    __tablename__ = "sign_in_throttles"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # "account" or "address"
    key: Mapped[str] = mapped_column(String(128))
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[datetime]
    blocked_until: Mapped[datetime]
