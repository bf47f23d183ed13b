"""The notification outbox: every message to a person is a row written in the same
transaction as the change that caused it, then delivered after commit."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ancillary.db import Base, str_enum


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
        Index("ix_notifications_open_loops", "needs_ack", "resolved_at", "escalation_level"),
        CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # (rule, object, recipient, day): the same reminder is never created twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None]
    is_urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status"), default=NotificationStatus.pending
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
    # The sender's claim: set, with status queued, in a transaction committed BEFORE the
    # provider is called, so a crash after the provider accepted cannot lead to a resend.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    claimed_at: Mapped[datetime | None]
    first_attempt_at: Mapped[datetime | None]
    # Printed in the SMS ("reply OK 4821"); a reply naming it acknowledges this row.
    ack_code: Mapped[str | None] = mapped_column(String(8))
    # The closed loop of an action reminder: 0 sent to the officer, 1 escalated to the
    # management office, 2 to the court president; resolved when someone acknowledged it
    # (the officer, or an escalation's recipient) or every case it names was closed.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    escalated_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]

    items: Mapped[list[NotificationItem]] = relationship(
        back_populates="notification", foreign_keys="NotificationItem.notification_id", order_by="NotificationItem.id"
    )


class NotificationItem(Base):
    """One thing a message is about: a rule firing for one case (or task) and one recipient.

    ``key`` (rule, object, recipient, and the day or threshold) is unique, so a rule
    firing again, or a sweep run twice, never stages the same item twice. A sweep first
    stages items (``notification_id`` empty), then folds each recipient's staged items
    into one message.
    """

    __tablename__ = "notification_items"
    __table_args__ = (
        Index("ix_notification_items_staged", "notification_id", "recipient_id"),
        Index("ix_notification_items_root", "root_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(32))  # the kind of message it is folded into
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[int | None]
    due_at: Mapped[datetime | None]
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    root_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))  # escalations: the reminder escalated
    created_at: Mapped[datetime]

    notification: Mapped[Notification | None] = relationship(back_populates="items", foreign_keys=[notification_id])


class SmsOptOut(Base):
    """A number that replied STOP (Twilio's conventions); START removes it."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
