"""E-mail over SMTP with the standard library (``smtplib``, ``email.message.EmailMessage``).

Subjects, bodies and attachment names are often Chinese: the message is built with the
``email`` package's default policy, which encodes headers per RFC 2047 and file names per
RFC 2231; a non-ASCII body is sent as UTF-8 in base64, which any relay carries.

Reply codes decide retries: 4xx (e.g. 421, 450, 451, 452) are temporary and retryable,
5xx (e.g. 550 no such mailbox, 535 bad credentials) are not; a dropped connection, a
timeout or a refused connection are retryable.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from notifications.channels import Attachment, ChannelError, SendResult

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0


def _retryable(code: int) -> bool:
    return not 500 <= code < 600


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class SmtpEmail:
    """``EmailChannel`` sending through an SMTP relay.

    ``sender`` is the From header, e.g. ``"环翠区法院送达中心 <service@court.example.cn>"``.
    ``starttls`` upgrades a plain connection (port 587); ``use_ssl`` connects with TLS
    from the start (port 465); ``username``/``password`` log in after TLS when given.
    """

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if starttls and use_ssl:
            raise ValueError("choose starttls or use_ssl, not both")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        envelope_from = parseaddr(sender)[1]
        if "@" not in envelope_from:
            raise ValueError(f"sender must contain an e-mail address, got {sender!r}")
        self.host = host
        self.port = port
        self.sender = sender
        self.envelope_from = envelope_from
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.local_hostname = local_hostname
        self.message_id_domain = envelope_from.rsplit("@", 1)[1]

    def build_message(
        self, to: str, subject: str, body: str, attachments: Iterable[Attachment] = ()
    ) -> EmailMessage:
        """Return the MIME message that ``send_email`` would send."""
        if "@" not in parseaddr(to)[1]:
            raise ValueError(f"to must be an e-mail address, got {to!r}")
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain=self.message_id_domain)
        if body.isascii():
            msg.set_content(body)
        else:
            msg.set_content(body, charset="utf-8", cte="base64")
        for att in attachments:
            maintype, _, subtype = att.mime_type.partition("/")
            if not subtype:
                maintype, subtype = "application", "octet-stream"
            msg.add_attachment(att.content, maintype=maintype, subtype=subtype, filename=att.filename)
        return msg

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(
                self.host, self.port, local_hostname=self.local_hostname,
                timeout=self.timeout, context=self.ssl_context or ssl.create_default_context(),
            )
        return smtplib.SMTP(
            self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
        )

    def send_email(
        self,
        to: str,
        subject: str,
        body: str,
        attachments: Iterable[Attachment] = (),
    ) -> SendResult:
        msg = self.build_message(to, subject, body, attachments)
        recipient = parseaddr(to)[1]
        try:
            with self._connect() as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg, from_addr=self.envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise ChannelError(
                f"SMTP server refused recipient {recipient}: {code} {_text(reply)}",
                retryable=_retryable(code),
                code=code,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            # sender refused, data refused, auth failed, bad greeting, HELO refused
            raise ChannelError(
                f"SMTP server answered {exc.smtp_code} {_text(exc.smtp_error)}",
                retryable=_retryable(exc.smtp_code),
                code=exc.smtp_code,
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise ChannelError(
                f"SMTP server does not support what is configured: {exc}", retryable=False
            ) from exc
        except ssl.SSLCertVerificationError as exc:
            raise ChannelError(f"SMTP server certificate rejected: {exc}", retryable=False) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # disconnects, timeouts, refused connections, TLS handshake failures
            raise ChannelError(f"SMTP network error: {exc!r}", retryable=True) from exc
        message_id = msg["Message-ID"]
        log.info("smtp mail %s to %s sent", message_id, recipient)
        return SendResult(
            provider_id=message_id,
            status="sent",
            raw={"message_id": message_id, "envelope_from": self.envelope_from, "to": recipient},
        )
