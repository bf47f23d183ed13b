"""The notification outbox: every message to a person is a row written in the same
transaction as the change that caused it, then delivered after commit."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ancillary.db import Base


def _enum(cls, name):
    return Enum(cls, name=name, native_enum=False, length=32, validate_strings=True)


class Channel(enum.StrEnum):
    sms = "sms"
    voice = "voice"
    email = "email"


class NotificationStatus(enum.StrEnum):
    """Ours until the provider has it; then Twilio's own words."""

    pending = "pending"  # waiting: for quiet hours to end, or for a retry
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_due", "status", "not_before"),
        Index("ix_notifications_recipient", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # (rule, object, recipient, day): the same reminder is never created twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None]
    is_urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[NotificationStatus] = mapped_column(
        _enum(NotificationStatus, "notification_status"), default=NotificationStatus.pending
    )
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    acked_at: Mapped[datetime | None]
    acked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
