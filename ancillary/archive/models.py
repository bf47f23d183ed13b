"""Archive records of dossiers, and the backlog of files closed before the system."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ancillary.db import Base


class ArchiveRecord(Base):
    """One dossier's way into the archive: counted, bound, digitised, shelved."""

    __tablename__ = "archive_records"
    __table_args__ = (
        CheckConstraint("material_count IS NULL OR material_count BETWEEN 1 AND 100000", name="count_range"),
        CheckConstraint("archived_at IS NULL OR archive_location IS NOT NULL", name="archived_has_location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), unique=True)
    archivist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    material_count: Mapped[int | None] = mapped_column(Integer)
    counted_at: Mapped[datetime | None]
    bound_at: Mapped[datetime | None]
    scan_sha256: Mapped[str | None] = mapped_column(String(64), index=True)  # the orphan sweep looks scans up
    scan_bytes: Mapped[int | None] = mapped_column(Integer)
    scan_path: Mapped[str | None] = mapped_column(String(300))
    digitised_at: Mapped[datetime | None]
    archive_location: Mapped[str | None] = mapped_column(String(100))
    archived_at: Mapped[datetime | None] = mapped_column(index=True)

    dossier: Mapped[Dossier] = relationship()  # noqa: F821


class BacklogFile(Base):
    """A case file closed before the system existed, imported to be worked off, oldest first."""

    __tablename__ = "archive_backlog"
    __table_args__ = (CheckConstraint("volumes BETWEEN 1 AND 200", name="volumes_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_number: Mapped[str] = mapped_column(String(64), unique=True)
    closed_on: Mapped[date] = mapped_column(Date, index=True)
    volumes: Mapped[int] = mapped_column(Integer)
    location: Mapped[str | None] = mapped_column(String(100))
    cause: Mapped[str | None] = mapped_column(String(200))
    imported_at: Mapped[datetime]
    material_count: Mapped[int | None] = mapped_column(Integer)
    archive_location: Mapped[str | None] = mapped_column(String(100))
    archived_at: Mapped[datetime | None]
    archived_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
