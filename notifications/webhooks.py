"""Signature checks for incoming webhooks: Twilio's, and a shared-secret HMAC for carriers.

Twilio signs the exact URL it requested. Behind a reverse proxy or a load balancer the
app sees another URL (``http://internal:8000/hooks/twilio/status`` while Twilio called
``https://court.example.cn/hooks/twilio/status``), and a check built from
``request.url`` fails for every genuine callback: the most common Twilio integration
bug. So the URL is always rebuilt from the configured public base URL
(``ANCILLARY_PUBLIC_URL``) and the path and query the app received. When the proxy
strips a path prefix (``https://court.example.cn/ancillary/...`` forwarded as
``/...``), put the prefix in the public base URL.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from twilio.request_validator import RequestValidator

SIGNATURE_PREFIX = "sha256="


def public_url(public_base_url: str, path_with_query: str) -> str:
    """Join the public base URL and the path (with query string) the app received."""
    path = path_with_query if path_with_query.startswith("/") else "/" + path_with_query
    if path.endswith("?"):  # werkzeug's request.full_path adds "?" to a bare path
        path = path[:-1]
    return public_base_url.rstrip("/") + path


def check_twilio_signature(
    auth_token: str,
    public_base_url: str,
    path_with_query: str,
    form_params: Mapping[str, Any],
    signature: str | None,
) -> bool:
    """Return whether ``signature`` (the ``X-Twilio-Signature`` header) is Twilio's.

    ``path_with_query`` is the path and query string as received (Flask:
    ``request.full_path``); ``form_params`` the POSTed form (a werkzeug ``MultiDict``
    works: repeated keys are all signed). The URL that is checked is
    ``public_base_url + path_with_query``, never the URL the app saw.
    """
    if not signature or not auth_token:
        return False
    url = public_url(public_base_url, path_with_query)
    return RequestValidator(auth_token).validate(url, form_params, signature)


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign_body(secret: str | bytes, body: bytes) -> str:
    """Return the header value ``sha256=<hex HMAC-SHA256 of body>``."""
    digest = hmac.new(_key(secret), body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def check_body_signature(secret: str | bytes, body: bytes, header_value: str | None) -> bool:
    """Return whether ``header_value`` is ``sign_body(secret, body)``, in constant time.

    A missing header, another scheme than ``sha256=``, or an empty secret fails.
    """
    if not secret or not header_value:
        return False
    value = header_value.strip()
    if value[:len(SIGNATURE_PREFIX)].lower() != SIGNATURE_PREFIX:
        return False
    try:
        given = value[len(SIGNATURE_PREFIX):].lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    expected = sign_body(secret, body)[len(SIGNATURE_PREFIX):].encode("ascii")
    return hmac.compare_digest(given, expected)
