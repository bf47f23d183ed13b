"""Service of process: orders, the addresses they may use, attempts and carrier events.

The ladder (SPEC section 2 item 4) as layers:

    0  address_reuse                  addresses confirmed in the person's other cases (automatic)
    1  phone, sms, email, law_firm_email   electronic; open for 3 days (setting)
    2  personal                       direct service; 2 failed attempts, then mail (setting)
    3  mail, then posting             posting opens when mail comes back unclaimed
    4  public_notice                  ordered by the judge when everything failed

An order only climbs: a clerk may move to a later layer early with a recorded reason,
never back. Each order carries its legal service date (``served_at``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
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


class OrderStatus(enum.StrEnum):
    pending = "pending"
    in_progress = "in_progress"
    served = "served"
    exhausted = "exhausted"
    # The case was closed before the order was served: nothing more is attempted.
    withdrawn = "withdrawn"


class AttemptChannel(enum.StrEnum):
    address_reuse = "address_reuse"
    phone = "phone"
    sms = "sms"
    email = "email"
    law_firm_email = "law_firm_email"
    personal = "personal"
    mail = "mail"
    posting = "posting"
    public_notice = "public_notice"


class AttemptOutcome(enum.StrEnum):
    sent = "sent"
    delivered = "delivered"
    served = "served"
    failed = "failed"
    no_answer = "no_answer"
    refused = "refused"
    moved = "moved"
    wrong_address = "wrong_address"
    unclaimed = "unclaimed"
    posted = "posted"


class Layer(enum.IntEnum):
    address_reuse = 0
    electronic = 1
    direct = 2
    mail = 3
    public_notice = 4


CHANNEL_LAYER: dict[AttemptChannel, Layer] = {
    AttemptChannel.address_reuse: Layer.address_reuse,
    AttemptChannel.phone: Layer.electronic,
    AttemptChannel.sms: Layer.electronic,
    AttemptChannel.email: Layer.electronic,
    AttemptChannel.law_firm_email: Layer.electronic,
    AttemptChannel.personal: Layer.direct,
    AttemptChannel.mail: Layer.mail,
    AttemptChannel.posting: Layer.mail,
    AttemptChannel.public_notice: Layer.public_notice,
}
ELECTRONIC = frozenset({AttemptChannel.sms, AttemptChannel.email, AttemptChannel.law_firm_email})
# Outcomes of direct service that count against the attempts allowed before mail.
FAILED_OUTCOMES = frozenset({
    AttemptOutcome.failed, AttemptOutcome.no_answer, AttemptOutcome.moved, AttemptOutcome.wrong_address,
})
# Outcomes that say the address itself is bad: it is marked, not tried again blindly.
BAD_ADDRESS_OUTCOMES = frozenset({AttemptOutcome.moved, AttemptOutcome.wrong_address})


class ServiceOrder(Base):
    """One recipient, one set of documents to serve, and where the ladder stands."""

    __tablename__ = "service_orders"
    __table_args__ = (
        CheckConstraint("layer BETWEEN 0 AND 4", name="layer_range"),
        CheckConstraint("status != 'served' OR served_at IS NOT NULL", name="served_has_date"),
        Index("ix_service_orders_status_due", "status", "layer_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    recipient_party_id: Mapped[int] = mapped_column(ForeignKey("parties.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), unique=True)
    documents: Mapped[str] = mapped_column(String(500))
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus, "service_order_status"),
                                                default=OrderStatus.pending)
    layer: Mapped[int] = mapped_column(Integer, default=1)
    layer_entered_at: Mapped[datetime]
    layer_due_at: Mapped[datetime | None]
    # Set when mail came back unclaimed (or its window ran out): posting is open.
    posting_open_at: Mapped[datetime | None]
    # A party's signed consent to electronic service (a law firm's agreement needs none here).
    consent_at: Mapped[datetime | None]
    # Public notice: published at, deemed served 30 days later.
    notice_published_at: Mapped[datetime | None]
    served_at: Mapped[datetime | None] = mapped_column(index=True)  # the legal service date
    served_channel: Mapped[AttemptChannel | None] = mapped_column(str_enum(AttemptChannel, "service_served_channel"))
    served_layer: Mapped[int | None] = mapped_column(Integer)
    exhausted_at: Mapped[datetime | None]
    # Layer 2's window closed before the clerk had made the visits it needs: the order waits
    # in layer 2 (the serve task is overdue) instead of skipping direct service.
    overdue_at: Mapped[datetime | None]
    # The case was closed while the order was still open.
    withdrawn_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(index=True)

    case: Mapped[Case] = relationship()  # noqa: F821
    recipient: Mapped[Party] = relationship()  # noqa: F821
    task: Mapped[Task | None] = relationship()  # noqa: F821
    attempts: Mapped[list[ServiceAttempt]] = relationship(
        back_populates="order", order_by="ServiceAttempt.seq", cascade="all, delete-orphan"
    )
    addresses: Mapped[list[ServiceAddress]] = relationship(
        back_populates="order", order_by="ServiceAddress.rank", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.pending, OrderStatus.in_progress)

    def failed_direct_attempts(self) -> int:
        return sum(
            1 for a in self.attempts if a.channel == AttemptChannel.personal and a.outcome in FAILED_OUTCOMES
        )

    def mail_attempt(self) -> ServiceAttempt | None:
        mails = [a for a in self.attempts if a.channel == AttemptChannel.mail]
        return mails[-1] if mails else None


class ServiceAddress(Base):
    """An address the order may use, with where it came from; failed ones are marked."""

    __tablename__ = "service_addresses"
    __table_args__ = (UniqueConstraint("order_id", "text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)  # the order to try them in
    text: Mapped[str] = mapped_column(String(500))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(32))  # "confirmed" (another case) or "filing"
    source_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    source_case_number: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    failed_reason: Mapped[str | None] = mapped_column(String(32))

    order: Mapped[ServiceOrder] = relationship(back_populates="addresses")


class ServiceAttempt(Base):
    """One try at service: who, when, how, where, what came of it, and the evidence."""

    __tablename__ = "service_attempts"
    __table_args__ = (
        UniqueConstraint("order_id", "seq"),
        # A phone that queued the attempt offline resends it with the same id: recorded once.
        UniqueConstraint("order_id", "client_id", name="uq_service_attempts_client_id"),
        CheckConstraint("latitude IS NULL OR latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR longitude BETWEEN -180 AND 180", name="longitude_range"),
        Index("ix_service_attempts_notification", "notification_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("service_orders.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    layer: Mapped[int] = mapped_column(Integer)
    channel: Mapped[AttemptChannel] = mapped_column(str_enum(AttemptChannel, "service_channel"))
    outcome: Mapped[AttemptOutcome] = mapped_column(str_enum(AttemptOutcome, "service_outcome"))
    attempted_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str | None] = mapped_column(String(500))
    contact: Mapped[str | None] = mapped_column(String(254))  # the phone or e-mail used
    received_by: Mapped[str | None] = mapped_column(String(100))
    witness: Mapped[str | None] = mapped_column(String(200))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(1000))
    # Why the clerk moved to this attempt's layer before the previous window closed.
    skip_reason: Mapped[str | None] = mapped_column(String(500))
    tracking_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    carrier: Mapped[str | None] = mapped_column(String(32))
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    delivered_at: Mapped[datetime | None]
    photo_path: Mapped[str | None] = mapped_column(String(300), index=True)  # the orphan sweep looks files up
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    photo_mime: Mapped[str | None] = mapped_column(String(32))
    photo_bytes: Mapped[int | None] = mapped_column(Integer)
    photo_taken_at: Mapped[datetime | None]
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    client_id: Mapped[str | None] = mapped_column(String(64))

    order: Mapped[ServiceOrder] = relationship(back_populates="attempts")
    carrier_events: Mapped[list[CarrierEvent]] = relationship(
        back_populates="attempt", order_by="CarrierEvent.event_at"
    )


class CarrierEvent(Base):
    """One node of a mailed envelope's journey, as the carrier reported it."""

    __tablename__ = "carrier_events"
    __table_args__ = (UniqueConstraint("tracking_number", "code", "event_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("service_attempts.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(32))
    tracking_number: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(32))
    event_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(500))
    signed_by: Mapped[str | None] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(16))  # webhook or csv
    received_at: Mapped[datetime]

    attempt: Mapped[ServiceAttempt] = relationship(back_populates="carrier_events")
