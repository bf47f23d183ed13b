"""Twilio SMS and voice adapters, built on the official ``twilio`` SDK.

Pointing the SDK at another base URL (``TWILIO_API_BASE``: a local stand-in in tests and
benchmarks, or an on-premises gateway) is done in the HTTP layer. Every generated
resource builds its URL as ``Domain.base_url + path``, with ``base_url`` hard-coded per
product (``https://api.twilio.com``, ``https://messaging.twilio.com``, ...), and
``Client.request`` may rewrite the host again for ``edge``/``region``. All of those URLs
then pass through one ``HttpClient.request(method, url, ...)`` call, so
:class:`BaseUrlHttpClient` swaps the scheme and host of any ``*.twilio.com`` URL for the
configured base there, keeping the path. That covers every product and region setting at
once and does not depend on private attributes of the generated domain classes.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from notifications.channels import ChannelError, SendResult, validate_e164

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
VOICE_LANGUAGE = "cmn-CN"


class BaseUrlHttpClient(TwilioHttpClient):
    """Twilio's HTTP client, sending to ``api_base`` instead of ``https://*.twilio.com``.

    ``api_base`` may carry a path prefix (``https://gw.example.cn/twilio``); the SDK's
    path (``/2010-04-01/Accounts/...``) is appended to it. With ``api_base=None`` URLs are
    left alone. The last response seen on each thread is kept, because the SDK's
    exception drops the headers and a 429's ``Retry-After`` lives there.
    """

    def __init__(self, api_base: str | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.api_base = api_base.rstrip("/") if api_base else None
        if self.api_base:
            parts = urlsplit(self.api_base)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"api_base must be an http(s) URL, got {api_base!r}")
        self._local = threading.local()
        if self.session is not None and self.api_base and self.api_base.startswith("http://"):
            # the SDK sizes its connection pool for https:// only; a plain-HTTP stand-in
            # or gateway under concurrent senders needs the same pool
            self.session.mount("http://", HTTPAdapter(pool_maxsize=min(32, (os.cpu_count() or 1) + 4)))

    def rewrite(self, url: str) -> str:
        """Return ``url`` with a Twilio host replaced by the configured base."""
        if not self.api_base:
            return url
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host != "twilio.com" and not host.endswith(".twilio.com"):
            return url
        base = urlsplit(self.api_base)
        path = base.path.rstrip("/") + parts.path
        return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        self._local.last_response = None
        response = super().request(method, self.rewrite(url), *args, **kwargs)
        self._local.last_response = response
        return response

    @property
    def last_response(self) -> Response | None:
        """The last response received on the calling thread, if any."""
        return getattr(self._local, "last_response", None)


def build_client(
    account_sid: str,
    auth_token: str,
    *,
    api_base: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Client:
    """Return a Twilio ``Client`` that sends to ``api_base`` when one is given."""
    if not account_sid or not auth_token:
        raise ValueError("account_sid and auth_token are required for Twilio")
    # environment={} so the SDK never picks up TWILIO_EDGE / TWILIO_REGION on its own:
    # configuration comes from the app's Settings only.
    return Client(
        account_sid,
        auth_token,
        http_client=BaseUrlHttpClient(api_base, timeout=timeout),
        environment={},
    )


def _retry_after(client: Client) -> float | None:
    http = client.http_client
    response = http.last_response if isinstance(http, BaseUrlHttpClient) else None
    if response is None or not response.headers:
        return None
    value = next(
        (v for k, v in response.headers.items() if k.lower() == "retry-after"), None
    )
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:  # the HTTP-date form
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _error_from(exc: Exception, client: Client, what: str) -> ChannelError:
    """Translate an SDK or transport exception into a ``ChannelError``."""
    if isinstance(exc, (TwilioRestException, TwilioServiceException)):
        status = int(exc.status or 0)
        code = exc.code if exc.code is not None else status
        detail = exc.msg if isinstance(exc, TwilioRestException) else exc.detail or exc.title
        retryable = status == 429 or status >= 500
        retry_after = _retry_after(client) if retryable else None
        return ChannelError(
            f"Twilio refused the {what} (HTTP {status}, code {code}): {detail}",
            retryable=retryable,
            retry_after=retry_after,
            code=code,
        )
    if isinstance(exc, (requests.Timeout, requests.ConnectionError)):
        return ChannelError(f"Twilio {what}: network error: {exc}", retryable=True)
    if isinstance(exc, requests.RequestException):
        return ChannelError(f"Twilio {what}: HTTP error: {exc}", retryable=True)
    return ChannelError(f"Twilio {what}: {exc}", retryable=False)


class _TwilioAdapter:
    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        client: Client | None = None,
    ) -> None:
        self.from_number = validate_e164(from_number, field_name="from_number")
        self.client = client or build_client(
            account_sid, auth_token, api_base=api_base, timeout=timeout
        )


def _raw(client: Client, instance: Any) -> dict[str, Any]:
    """Return the provider's JSON answer, or the instance's public fields without one."""
    http = client.http_client
    response = http.last_response if isinstance(http, BaseUrlHttpClient) else None
    if response is not None and response.text:
        try:
            payload = json.loads(response.text)
        except ValueError:
            payload = None
        if isinstance(payload, dict):
            return payload
    out: dict[str, Any] = {}
    for key, value in vars(instance).items():
        if key.startswith("_"):
            continue
        if isinstance(value, (str, int, float, bool, type(None), Mapping, list)):
            out[key] = value
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = str(value)
    return out


class TwilioSms(_TwilioAdapter):
    """``SmsChannel`` sending through Twilio's Messages resource."""

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> SendResult:
        validate_e164(to)
        if not body:
            raise ValueError("body must not be empty")
        kwargs: dict[str, Any] = {"to": to, "from_": self.from_number, "body": body}
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**kwargs)
        except (TwilioException, requests.RequestException) as exc:
            raise _error_from(exc, self.client, "SMS") from exc
        log.info("twilio sms %s to %s: %s", message.sid, to, message.status)
        return SendResult(provider_id=message.sid, status=str(message.status), raw=_raw(self.client, message))


class TwilioVoice(_TwilioAdapter):
    """``VoiceChannel`` placing calls that read a text aloud in Mandarin."""

    def __init__(self, *args: Any, language: str = VOICE_LANGUAGE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = language

    def twiml(self, say_text: str) -> str:
        """Return the TwiML that reads ``say_text`` (escaped by the SDK's builder)."""
        response = VoiceResponse()
        response.say(say_text, language=self.language)
        return response.to_xml(xml_declaration=False)

    def call(self, to: str, say_text: str, status_callback: str | None = None) -> SendResult:
        validate_e164(to)
        if not say_text:
            raise ValueError("say_text must not be empty")
        kwargs: dict[str, Any] = {
            "to": to,
            "from_": self.from_number,
            "twiml": self.twiml(say_text),
        }
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            call = self.client.calls.create(**kwargs)
        except (TwilioException, requests.RequestException) as exc:
            raise _error_from(exc, self.client, "call") from exc
        log.info("twilio call %s to %s: %s", call.sid, to, call.status)
        return SendResult(provider_id=call.sid, status=str(call.status), raw=_raw(self.client, call))
