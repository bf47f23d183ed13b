"""Ports for the outside channels, the errors they raise, and fakes and console adapters.

The outbox sender talks to these three small interfaces only. Adapters (Twilio, SMTP,
console) implement them; tests of other packages use the recording fakes.

Statuses are Twilio's own words (``queued``, ``sending``, ``sent``, ``delivered``,
``undelivered``, ``failed``, ``accepted``, ``ringing``, ``in-progress``, ``completed`` ...),
so a notification row can store what the provider said without translating it.
"""

from __future__ import annotations

import itertools
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO, runtime_checkable

E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


def validate_e164(number: str, *, field_name: str = "to") -> str:
    """Return ``number`` if it is an E.164 phone number, else raise ``ValueError``."""
    if not isinstance(number, str) or not E164_RE.match(number):
        raise ValueError(
            f"{field_name} must be an E.164 phone number such as +8613800138000, got {number!r}"
        )
    return number


@dataclass(frozen=True)
class SendResult:
    """What a provider answered when it accepted a message or call."""

    provider_id: str
    status: str
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


class ChannelError(Exception):
    """A send that did not go through.

    ``retryable`` says whether trying the same send later may succeed (network errors,
    HTTP 429 and 5xx, temporary SMTP 4xx replies); ``retry_after`` is the delay in seconds
    the provider asked for, when it said one; ``code`` is the provider's error code
    (Twilio's code such as 21211, an SMTP reply code, or an HTTP status).
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        code: int | str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code

    def __repr__(self) -> str:
        return (
            f"ChannelError({self.message!r}, retryable={self.retryable}, "
            f"retry_after={self.retry_after}, code={self.code!r})"
        )


@runtime_checkable
class SmsChannel(Protocol):
    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        """Send ``body`` to the E.164 number ``to``; raise ``ChannelError`` on failure."""
        ...


@runtime_checkable
class VoiceChannel(Protocol):
    def call(self, to: str, say_text: str, status_callback: str | None = None) -> SendResult:
        """Call ``to`` and read ``say_text`` aloud; raise ``ChannelError`` on failure."""
        ...


@runtime_checkable
class EmailChannel(Protocol):
    def send_email(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Iterable[Attachment] = (),
    ) -> SendResult:
        """Send a plain-text e-mail; raise ``ChannelError`` on failure."""
        ...


# --- recording fakes -------------------------------------------------------------------


@dataclass(frozen=True)
class SentSms:
    to: str
    body: str
    status_callback: str | None
    provider_id: str


@dataclass(frozen=True)
class PlacedCall:
    to: str
    say_text: str
    status_callback: str | None
    provider_id: str


@dataclass(frozen=True)
class SentEmail:
    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...]
    provider_id: str


class _Recorder:
    """Shared machinery of the fakes: a thread-safe record and programmable failures."""

    prefix = "FAKE"

    def __init__(self, status: str = "queued") -> None:
        self.status = status
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._failures: list[ChannelError] = []
        self._sent: list[Any] = []

    def fail_next(self, error: ChannelError, times: int = 1) -> None:
        """Make the next ``times`` sends raise ``error`` (nothing is recorded for them)."""
        with self._lock:
            self._failures.extend([error] * times)

    def _record(self, make: Any) -> SendResult:
        with self._lock:
            if self._failures:
                raise self._failures.pop(0)
            provider_id = f"{self.prefix}{next(self._counter):032d}"
            item = make(provider_id)
            self._sent.append(item)
        return SendResult(provider_id=provider_id, status=self.status, raw={"fake": True})

    def clear(self) -> None:
        with self._lock:
            self._sent.clear()
            self._failures.clear()


class FakeSms(_Recorder):
    """An ``SmsChannel`` that records what it was asked to send."""

    prefix = "SM"

    @property
    def sent(self) -> list[SentSms]:
        with self._lock:
            return list(self._sent)

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        validate_e164(to)
        return self._record(lambda pid: SentSms(to, body, status_callback, pid))


class FakeVoice(_Recorder):
    """A ``VoiceChannel`` that records the calls it was asked to place."""

    prefix = "CA"

    @property
    def calls(self) -> list[PlacedCall]:
        with self._lock:
            return list(self._sent)

    def call(self, to: str, say_text: str, status_callback: str | None = None) -> SendResult:
        validate_e164(to)
        return self._record(lambda pid: PlacedCall(to, say_text, status_callback, pid))


class FakeEmail(_Recorder):
    """An ``EmailChannel`` that records the e-mails it was asked to send."""

    prefix = "EM"

    def __init__(self, status: str = "sent") -> None:
        super().__init__(status)

    @property
    def sent(self) -> list[SentEmail]:
        with self._lock:
            return list(self._sent)

    def send_email(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Iterable[Attachment] = (),
    ) -> SendResult:
        atts = tuple(attachments)
        return self._record(lambda pid: SentEmail(to, subject, body, atts, pid))


# --- console adapters (demo server) ----------------------------------------------------


class ConsoleSms:
    """An ``SmsChannel`` that prints each message to a text stream (stdout by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        validate_e164(to)
        stream = self._stream or sys.stdout
        with self._lock:
            provider_id = f"CONSOLE-SM{next(self._counter):06d}"
            stream.write(f"[sms {provider_id}] to {to}\n{body}\n\n")
            stream.flush()
        return SendResult(provider_id=provider_id, status="sent", raw={"console": True})


class ConsoleEmail:
    """An ``EmailChannel`` that prints each e-mail (attachments by name and size)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._counter = itertools.count(1)

    def send_email(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Iterable[Attachment] = (),
    ) -> SendResult:
        stream = self._stream or sys.stdout
        listed = "".join(
            f"  attachment: {a.filename} ({a.mime_type}, {len(a.content)} bytes)\n"
            for a in attachments
        )
        with self._lock:
            provider_id = f"CONSOLE-EM{next(self._counter):06d}"
            stream.write(f"[email {provider_id}] to {to}\nsubject: {subject}\n{listed}{body}\n\n")
            stream.flush()
        return SendResult(provider_id=provider_id, status="sent", raw={"console": True})
