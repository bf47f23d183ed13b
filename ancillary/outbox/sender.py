"""The outbox sender: deliver due rows after commit, one claim at a time.

Delivery semantics (docs/reminders.md, "Nothing lost, nothing sent twice"):

1. *Claim* — in its own committed transaction, take one due ``pending`` row
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several senders never take the same
   row; SQLite serialises writers with ``BEGIN IMMEDIATE``), set it ``queued`` with a
   fresh ``claim_token``, ``claimed_at`` and one more attempt.
2. *Send* — call the provider outside any transaction.
3. *Record* — in another transaction, store the provider's id and status, or schedule a
   retry, or mark the row failed.

A sender killed between 1 and 3 leaves the row ``queued`` without a provider id. Nobody
knows whether the provider accepted it, so it is never sent again automatically: after
``claim_timeout`` it becomes ``failed`` with "outcome unknown" (at most once). The same
holds for a read timeout or a dropped connection once the request was written. Errors
that prove the provider did *not* take the message (HTTP 429, 5xx, a refused connection)
are retried with exponential backoff, never sooner than the provider's Retry-After,
until ``sms_give_up_hours`` after the first attempt. An action reminder that failed is
still unacknowledged, so the closed loop escalates it after 24 h: the loop, not the SMS,
is what is at least once.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.config import smtp_options
from ancillary.extensions import db
from ancillary.outbox.models import Channel, Notification, NotificationStatus, SmsOptOut
from ancillary.outbox.quiet import QUIET_CHANNELS, held_back, in_quiet_hours, release_time
from ancillary.outbox.services import (
    RANK,
    audit_step,
    cases_of_many,
    is_opted_out,
    map_provider_status,
    notify_status_change,
)
from ancillary.timeutil import utcnow
from notifications.channels import ChannelError

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=1)
UNKNOWN = "outcome unknown"


@dataclass
class Channels:
    sms: object
    email: object | None = None
    voice: object | None = None
    # False: the provider needs no pacing (the replay's simulated one, on a simulated clock:
    # waiting for the wall clock there only costs time); SMS and calls go unpaced
    paced: bool = True


def build_channels(settings) -> Channels:
    """The adapters the settings name: Twilio or console SMS, SMTP or console e-mail."""
    from notifications.channels import ConsoleEmail, ConsoleSms

    if settings.sms_backend == "twilio":
        from notifications.twilio import TwilioSms, TwilioVoice, build_client

        # the SDK logs every request's headers at INFO: too loud for a sender sending thousands
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

        client = build_client(settings.twilio_account_sid, settings.twilio_auth_token,
                              api_base=settings.twilio_api_base or None, timeout=settings.sms_timeout_seconds)
        sms = TwilioSms(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from_number,
                        client=client)
        voice = TwilioVoice(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from_number,
                            client=client)
    else:
        sms, voice = ConsoleSms(), None
    if settings.smtp_url:
        from notifications.smtp import SmtpEmail

        email = SmtpEmail(sender=settings.smtp_sender, timeout=settings.sms_timeout_seconds, **smtp_options(settings))
    else:
        email = ConsoleEmail()
    return Channels(sms=sms, email=email, voice=voice)


def channels_for(app) -> Channels:
    """The app's channels: ``app.config["CHANNELS"]`` when a test set fakes, else built once."""
    if app.config.get("CHANNELS") is not None:
        return app.config["CHANNELS"]
    cached = app.extensions.get("reminder_channels")
    if cached is None:
        cached = app.extensions["reminder_channels"] = build_channels(app.config["SETTINGS"])
    return cached


class RateLimiter:
    """At most ``rate`` sends a second from this process (Twilio's per-number pace)."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        self.next_at = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            delay = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if delay > 0:
            time.sleep(delay)


_limiters: dict[float, RateLimiter] = {}


def _limiter(settings) -> RateLimiter:
    return _limiters.setdefault(settings.sms_rate_per_second, RateLimiter(settings.sms_rate_per_second))


def status_callback_url(settings, notification_id: int) -> str | None:
    """Where Twilio reports delivery; it names our row, since a callback can arrive before
    the sender has recorded the message's SID."""
    if not settings.public_url:
        return None
    return f"{settings.public_url}/api/v1/webhooks/twilio/status?notification={notification_id}"


def recover_stale_claims(session: Session, now: datetime, settings) -> int:
    """Rows claimed by a sender that died before recording: failed, outcome unknown."""
    cutoff = now - timedelta(seconds=settings.claim_timeout_seconds)
    stale = session.scalars(
        select(Notification).where(Notification.status == NotificationStatus.queued,
                                   Notification.provider_id.is_(None), Notification.claimed_at < cutoff)
        .with_for_update(skip_locked=True)
    ).all()
    for row in stale:
        _fail(session, row, now, f"{UNKNOWN}: the sender stopped after claiming it; not resent, "
                                 "check the provider's log before sending again")
    session.commit()
    return len(stale)


def _fail(session, row: Notification, now: datetime, error: str) -> None:
    row.status = NotificationStatus.failed
    row.last_error = error[:500]
    session.flush()
    audit_step(session, None, "reminder.failed", row, now=now, after={"error": row.last_error})
    notify_status_change(session, row, now)


def claim_one(session: Session, now: datetime, settings) -> tuple[int, str] | str | None:
    """Claim one due row and commit the claim before anything is sent.

    Returns (id, claim token); or "failed" for a row that cannot be sent (no address,
    STOP); or None when nothing is due.
    """
    while True:
        row = session.scalars(_due(now).limit(1)).first()
        if row is None:
            session.commit()
            return None
        claim = _claim_row(session, row, now, settings, lambda phone: is_opted_out(session, phone))
        session.commit()
        if claim is not None:
            return claim


def claim_batch(session: Session, now: datetime, settings, size: int,
                snapshots: dict | None = None) -> tuple[list, int]:
    """Claim up to ``size`` due rows in one committed transaction, in ``claim_one``'s order.

    Answers the claims (as ``claim_one``'s: (id, token) or "failed") and how many due rows
    were looked at (0: nothing is due). A row held back by the quiet hours is moved, not claimed.
    ``snapshots``, when given, receives what ``send_batch`` sends of each claimed row (by id).
    """
    rows = session.scalars(_due(now).limit(size)).all()
    phones = {row.to_address for row in rows if row.channel == Channel.sms and row.to_address}
    stopped = set(session.scalars(select(SmsOptOut.phone).where(SmsOptOut.phone.in_(phones)))) if phones else set()
    claims = [claim for row in rows
              if (claim := _claim_row(session, row, now, settings, stopped.__contains__)) is not None]
    if snapshots is not None:
        by_id = {row.id: row for row in rows}
        snapshots.update((claim[0], _snapshot(by_id[claim[0]])) for claim in claims if not isinstance(claim, str))
    session.commit()
    return claims, len(rows)


def _snapshot(row: Notification) -> Notification:
    """What is sent of a row, detached from the session (read before the claim's commit)."""
    return Notification(channel=row.channel, to_address=row.to_address, body=row.body, subject=row.subject)


def _due(now: datetime):
    return (select(Notification)
            .where(Notification.status == NotificationStatus.pending, Notification.not_before <= now)
            .order_by(Notification.not_before, Notification.id)
            .with_for_update(skip_locked=True))


def _claim_row(session: Session, row: Notification, now: datetime, settings, opted_out) -> tuple[int, str] | str | None:
    """Set one due row ``queued`` under a fresh token (not committed); None: it waits for the quiet hours' end."""
    if held_back(row.channel, row.is_urgent) and in_quiet_hours(now, settings):
        row.not_before = release_time(now, settings)  # written outside the quiet hours' rules: wait
        return None
    if not row.to_address:
        _fail(session, row, now, "the recipient has no phone number or e-mail address")
        return "failed"
    if row.channel == Channel.sms and opted_out(row.to_address):
        _fail(session, row, now, "the recipient replied STOP; reply START to receive SMS again")
        return "failed"
    token = str(uuid.uuid4())
    row.status = NotificationStatus.queued
    row.claim_token = token
    row.claimed_at = now
    row.first_attempt_at = row.first_attempt_at or now
    row.attempts = (row.attempts or 0) + 1
    return row.id, token


def _ambiguous(error: ChannelError) -> bool:
    """Whether the provider may have accepted the request although we got no answer."""
    cause = error.__cause__
    if isinstance(cause, requests.ConnectTimeout):
        return False
    if isinstance(cause, requests.ReadTimeout):
        return True
    if isinstance(cause, requests.ConnectionError):
        from urllib3.exceptions import NewConnectionError

        reason = getattr(cause.args[0], "reason", None) if cause.args else None
        return not isinstance(reason, NewConnectionError)
    return False


def _send(channels: Channels, row: Notification, settings, row_id: int):
    if row.channel == Channel.sms:
        return channels.sms.send_sms(row.to_address, row.body, status_callback=status_callback_url(settings, row_id))
    if row.channel == Channel.voice:
        if channels.voice is None:
            raise ChannelError("no voice channel is configured", retryable=False, code="no_channel")
        return channels.voice.call(row.to_address, row.body, status_callback=status_callback_url(settings, row_id))
    return channels.email.send_email(row.to_address, row.subject or settings.court_name, row.body)


def send_one(session: Session, claim: tuple[int, str], now: datetime, settings, channels: Channels) -> str:
    """Send a claimed row and record the outcome; returns sent / retry / failed / unknown."""
    return send_batch(session, [claim], now, settings, channels)[0]


def send_batch(session: Session, claims: list[tuple[int, str]], now: datetime, settings, channels: Channels,
               snapshots: dict | None = None) -> list:
    """Send claimed rows one after the other, then record every outcome in one transaction.

    No transaction is held open while the provider answers. Answers each row's outcome
    (sent / retry / failed / unknown), in the claims' order. ``snapshots``: what the claim
    read of each row (``claim_batch``), so the rows are not read again before sending.
    """
    if not claims:
        return []
    ids = [row_id for row_id, _ in claims]
    if snapshots is None:
        rows = {row.id: row for row in session.scalars(select(Notification).where(Notification.id.in_(ids)))}
        snapshots = {row_id: _snapshot(row) for row_id, row in rows.items()}
    session.commit()  # no transaction is held open while the provider answers
    answers = [_attempt(channels, snapshots[row_id], settings, row_id) for row_id in ids]
    rows = {row.id: row for row in session.scalars(
        select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id).with_for_update())}
    cases = cases_of_many(session, list(rows.values()))  # one read for the batch, not one per row
    outcomes = [_record(session, rows[row_id], token, *answer, now, settings, cases[row_id])
                for (row_id, token), answer in zip(claims, answers, strict=True)]
    session.commit()
    return outcomes


def _attempt(channels: Channels, snapshot: Notification, settings, row_id: int) -> tuple:
    """Hand one message to its channel: (result, None) or (None, the channel's error)."""
    if snapshot.channel in QUIET_CHANNELS and channels.paced:
        _limiter(settings).wait()
    try:
        return _send(channels, snapshot, settings, row_id), None
    except ChannelError as exc:
        return None, exc
    except ValueError as exc:  # not E.164, empty body: a programming or data error
        return None, ChannelError(str(exc), retryable=False, code="invalid")


def _record(session: Session, row: Notification, token: str, result, error, now: datetime, settings,
            cases: list[int]) -> str:
    """Store what the provider answered for one claimed row (flushed, not committed); ``cases``: its case ids."""
    if row.claim_token != token:
        log.warning("notification %s was re-claimed while it was being sent", row.id)
    if result is not None:
        before = row.status
        row.provider_id = result.provider_id
        answered = map_provider_status(result.status) or NotificationStatus.queued
        if RANK[answered] > RANK[row.status]:  # a callback may already have moved it further
            row.status = answered
        row.sent_at = now
        row.last_error = None
        audit_step(session, None, "reminder.sent", row, now=now, cases=cases,
                   after={"provider_id": result.provider_id, "status": row.status.value, "attempt": row.attempts})
        if row.status != before:
            notify_status_change(session, row, now)
        return "sent"
    if _ambiguous(error):
        _fail(session, row, now, f"{UNKNOWN}: {error.message}")
        return "unknown"
    give_up_at = (row.first_attempt_at or now) + timedelta(hours=settings.sms_give_up_hours)
    if error.retryable:
        delay = timedelta(seconds=settings.sms_retry_base_seconds * 2 ** max(0, row.attempts - 1))
        delay = max(min(delay, MAX_BACKOFF), timedelta(seconds=error.retry_after or 0))
        if now + delay <= give_up_at:
            row.status = NotificationStatus.pending
            row.not_before = now + delay
            row.claim_token = None
            row.last_error = f"attempt {row.attempts}: {error.message}"[:500]
            return "retry"
        _fail(session, row, now, f"gave up after {row.attempts} attempt(s): {error.message}")
    else:
        _fail(session, row, now, error.message)
    return "failed"


def deliver_due(session: Session, now: datetime, settings, channels: Channels, *, limit: int | None = None) -> dict:
    """Deliver every row due at ``now`` (each row at most once per call); commit as it goes.

    ``settings.sender_batch`` rows are claimed in one transaction and their outcomes
    recorded in one (1, the default: one row at a time).
    """
    session.commit()
    counts: Counter = Counter()
    stale = recover_stale_claims(session, now, settings)
    if stale:
        counts["unknown"] += stale
    done = stale
    while limit is None or done < limit:
        size = settings.sender_batch if limit is None else min(settings.sender_batch, limit - done)
        snapshots: dict = {}
        claims, seen = claim_batch(session, now, settings, size, snapshots)
        if not seen:
            break
        sendable = [claim for claim in claims if not isinstance(claim, str)]
        outcomes = [claim for claim in claims if isinstance(claim, str)]
        outcomes += send_batch(session, sendable, now, settings, channels, snapshots)
        counts.update(outcomes)
        done += len(outcomes)
        if seen < size:  # the claim saw every row due (and not locked by another sender): none is left
            break
    return dict(counts)


def run_sender(app, *, until_idle: bool = False, poll_seconds: float = 1.0, clock=None, stop=None) -> dict:
    """Deliver forever (or until nothing is due): the ``ancillary send`` process."""
    clock = clock or app.config.get("CLOCK") or utcnow
    total: Counter = Counter()
    with app.app_context():
        settings = app.config["SETTINGS"]
        channels = channels_for(app)
        while stop is None or not stop.is_set():
            counts = deliver_due(db.session, clock(), settings, channels, limit=100)
            total.update(counts)
            if not counts:
                if until_idle:
                    break
                time.sleep(poll_seconds)
        db.session.remove()
    return dict(total)
