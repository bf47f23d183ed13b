"""Users, their roles, and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Enum, ForeignKey, String
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
    created_at: Mapped[datetime]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def is_contractor(self) -> bool:
        return self.role in CONTRACTOR_ROLES


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
