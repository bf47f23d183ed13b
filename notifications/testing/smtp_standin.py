"""A local SMTP server (aiosmtpd) that records what it receives, with injectable faults.

Usage::

    with SmtpStandin() as server:
        mail = SmtpEmail("127.0.0.1", server.port, sender="court <a@court.example.cn>")
        mail.send_email(...)
        server.messages[0].message["Subject"]
        server.fail_next(1, code=451)            # temporary failure at DATA
        server.fail_next(1, code=550, stage="RCPT")

Give ``credentials=("user", "password")`` to offer AUTH PLAIN/LOGIN over the plain
connection (TLS is not required here: it is a loopback test server).
"""

from __future__ import annotations

import email
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

REPLIES = {
    421: "421 4.3.2 Service not available, closing channel",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary local problem, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    552: "552 5.3.4 Message size exceeds fixed limit",
    554: "554 5.7.1 Message rejected",
}


@dataclass(frozen=True)
class ReceivedMail:
    """An accepted message: the envelope and the raw bytes."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    login: str | None = None

    @property
    def message(self) -> EmailMessage:
        """The parsed message (modern ``email`` API: decoded headers, ``iter_attachments``)."""
        msg = email.message_from_bytes(self.data, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class _Fault:
    code: int
    stage: str


@dataclass
class _Handler:
    standin: SmtpStandin

    async def handle_RCPT(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        fault = self.standin._take_fault("RCPT")
        if fault is not None:
            return REPLIES.get(fault, f"{fault} Injected fault")
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        fault = self.standin._take_fault("DATA")
        if fault is not None:
            return REPLIES.get(fault, f"{fault} Injected fault")
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.standin._record(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=bytes(envelope.original_content or envelope.content),
                login=login,
            )
        )
        return "250 2.0.0 OK: queued"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class SmtpStandin:
    """An SMTP server on 127.0.0.1 and a free port, recording every accepted message."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = host
        self.port = port or _free_port(host)
        self.credentials = credentials
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._faults: list[_Fault] = []
        self._controller: Controller | None = None

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.credentials and isinstance(auth_data, LoginPassword):
            user, password = self.credentials
            if auth_data.login == user.encode() and auth_data.password == password.encode():
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpStandin:
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {}
        if self.credentials:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=False)
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    def fail_next(self, n: int = 1, *, code: int = 451, stage: str = "DATA") -> None:
        """Answer ``code`` (e.g. 451 temporary, 550 permanent) at the next ``n`` RCPT or DATA."""
        if stage not in ("RCPT", "DATA"):
            raise ValueError("stage is RCPT or DATA")
        with self._lock:
            self._faults.extend(_Fault(code, stage) for _ in range(n))

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._faults.clear()

    def _take_fault(self, stage: str) -> int | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.stage == stage:
                    return self._faults.pop(i).code
        return None

    def _record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._messages.append(mail)
