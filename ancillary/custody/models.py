"""Custody events: an append-only, hash-chained log per dossier.

Each event's ``hash`` is SHA-256 over the canonical JSON of its content and the
previous event's hash (see :func:`event_digest`), so editing, reordering or
deleting an event breaks every later link. The database refuses UPDATE and
DELETE of events itself (triggers, see :data:`GUARD_DDL`); ``verify`` detects
what a privileged user does behind the triggers' back.
"""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ancillary.db import Base, str_enum

GENESIS = "0" * 64


class CustodyAction(enum.StrEnum):
    receive = "receive"  # sign for the dossier: custody moves to the scanning user
    store = "store"  # put it into a storage location; the holder stays responsible
    count = "count"  # archivist counted the materials
    bind = "bind"  # archivist bound the volume
    digitise = "digitise"  # archivist uploaded the scanned PDF
    archive = "archive"  # put on the archive shelf: the end of the chain's working life


class CustodyEvent(Base):
    __tablename__ = "custody_events"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq"),
        UniqueConstraint("actor_id", "client_scan_id"),
        CheckConstraint("seq >= 1", name="seq_positive"),
        Index("ix_custody_events_actor_server_at", "actor_id", "server_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[CustodyAction] = mapped_column(
        str_enum(CustodyAction, "custody_action")
    )
    from_holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_holder_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    location: Mapped[str | None] = mapped_column(String(100))
    device_at: Mapped[datetime | None]
    server_at: Mapped[datetime]
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_scan_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def effective_at(self) -> datetime:
        """When it happened: the device's time for offline scans, else the server's."""
        return self.device_at or self.server_at

    def content(self) -> dict[str, Any]:
        return event_content(
            dossier_id=self.dossier_id, seq=self.seq, action=self.action, from_holder_id=self.from_holder_id,
            to_holder_id=self.to_holder_id, location=self.location, device_at=self.device_at,
            server_at=self.server_at, actor_id=self.actor_id, client_scan_id=self.client_scan_id,
            details=self.details, conflict=self.conflict,
        )


class CustodyHead(Base):
    """The last link of each dossier's chain: makes a deleted tail detectable."""

    __tablename__ = "custody_heads"

    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    last_at: Mapped[datetime]  # effective time of the latest event, for offline ordering


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_content(**fields) -> dict[str, Any]:
    """The hashed content of an event, with times as UTC ISO strings (microseconds)."""
    return {
        "dossier_id": fields["dossier_id"],
        "seq": fields["seq"],
        "action": str(fields["action"]),
        "from_holder_id": fields["from_holder_id"],
        "to_holder_id": fields["to_holder_id"],
        "location": fields["location"],
        "device_at": _iso(fields["device_at"]),
        "server_at": _iso(fields["server_at"]),
        "actor_id": fields["actor_id"],
        "client_scan_id": fields["client_scan_id"],
        "details": fields["details"],
        "conflict": bool(fields["conflict"]),
    }


def event_digest(content: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 hex of ``{"content": ..., "prev": prev_hash}`` as canonical JSON.

    Canonical: keys sorted, no spaces, UTF-8 (ensure_ascii off), so the same event
    hashes the same on any machine and database.
    """
    payload = json.dumps({"content": content, "prev": prev_hash}, sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# Database guards: events are append-only. Kept here for the purge helper of the test
# suite; the migration carries its own frozen copy.
SQLITE_GUARDS = (
    "CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events "
    "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END",
    "CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events "
    "BEGIN SELECT RAISE(ABORT, 'custody events are append-only'); END",
)
SQLITE_UNGUARD = (
    "DROP TRIGGER IF EXISTS custody_events_no_update",
    "DROP TRIGGER IF EXISTS custody_events_no_delete",
)
POSTGRES_GUARDS = (
    "CREATE OR REPLACE FUNCTION custody_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'custody events are append-only' USING ERRCODE = 'integrity_constraint_violation'; "
    "END $$",
    "CREATE TRIGGER custody_events_append_only BEFORE UPDATE OR DELETE ON custody_events "
    "FOR EACH ROW EXECUTE FUNCTION custody_events_append_only()",
)
POSTGRES_UNGUARD = (
    "DROP TRIGGER IF EXISTS custody_events_append_only ON custody_events",
    "DROP FUNCTION IF EXISTS custody_events_append_only()",
)
