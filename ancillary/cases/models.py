"""Cases, parties and their identities, contacts, law firms and dossiers."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ancillary.db import Base, str_enum


class CaseKind(enum.StrEnum):
    speedy = "speedy"
    summary = "summary"
    ordinary = "ordinary"
    enforcement = "enforcement"


class CaseTrack(enum.StrEnum):
    simple = "simple"
    complex = "complex"


class CaseStatus(enum.StrEnum):
    open = "open"
    closed = "closed"
    archived = "archived"


class PartyRole(enum.StrEnum):
    plaintiff = "plaintiff"
    defendant = "defendant"
    third_party = "third_party"


class PersonKind(enum.StrEnum):
    person = "person"
    company = "company"
    other = "other"


class ContactKind(enum.StrEnum):
    phone = "phone"
    email = "email"
    address = "address"


class LawFirm(Base):
    __tablename__ = "law_firms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    e_service_agreement: Mapped[bool] = mapped_column(Boolean, default=False)
    agreement_signed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Person(Base):
    """One natural person or company across cases, recognised by its ID number."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[PersonKind] = mapped_column(str_enum(PersonKind, "person_kind"))
    name: Mapped[str] = mapped_column(String(200))


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("volumes BETWEEN 1 AND 200", name="volumes_range"),
        CheckConstraint("status = 'open' OR closed_at IS NOT NULL", name="closed_has_time"),
        Index("ix_cases_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[CaseKind] = mapped_column(str_enum(CaseKind, "case_kind"))
    track: Mapped[CaseTrack | None] = mapped_column(str_enum(CaseTrack, "case_track"))
    venue: Mapped[str] = mapped_column(String(100))
    cause: Mapped[str | None] = mapped_column(String(200))
    filed_at: Mapped[datetime] = mapped_column(index=True)
    judge_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    volumes: Mapped[int] = mapped_column(Integer)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"), default=CaseStatus.open)
    deadline_at: Mapped[datetime] = mapped_column(index=True)
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))
    mediation_likely: Mapped[bool] = mapped_column(Boolean, default=False)
    hearing_minutes: Mapped[int | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    parties: Mapped[list[Party]] = relationship(
        back_populates="case", order_by="Party.id", cascade="all, delete-orphan"
    )
    dossiers: Mapped[list[Dossier]] = relationship(
        back_populates="case", order_by="Dossier.volume", cascade="all, delete-orphan"
    )


class Party(Base):
    __tablename__ = "parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[PartyRole] = mapped_column(str_enum(PartyRole, "party_role"))
    name: Mapped[str] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(32))
    law_firm_id: Mapped[int | None] = mapped_column(ForeignKey("law_firms.id"))

    case: Mapped[Case] = relationship(back_populates="parties")
    contacts: Mapped[list[PartyContact]] = relationship(
        back_populates="party", order_by="PartyContact.id", cascade="all, delete-orphan"
    )
    law_firm: Mapped[LawFirm | None] = relationship()

    def values(self, kind: ContactKind) -> list[str]:
        return [c.value for c in self.contacts if c.kind == kind]


class PartyContact(Base):
    """A phone, e-mail or address of a party, with where it came from."""

    __tablename__ = "party_contacts"
    __table_args__ = (
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind, "contact_kind"))
    value: Mapped[str] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32), default="filing")

    party: Mapped[Party] = relationship(back_populates="contacts")


class Dossier(Base):
    """One physical volume of a case file, carrying a signed QR token on its cover."""

    __tablename__ = "dossiers"
    __table_args__ = (UniqueConstraint("case_id", "volume"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    volume: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    qr_token: Mapped[str] = mapped_column(String(80), unique=True)
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    # The custody chain's head, cached here (custody_heads stays the record that verify
    # checks, and verify checks this copy against it): a scan locks this row, so the head
    # comes fresh with the lock, in the same statement.
    head_seq: Mapped[int | None] = mapped_column(Integer)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    head_last_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(back_populates="dossiers")
