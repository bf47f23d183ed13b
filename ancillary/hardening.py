"""The request edge against hostile input and hostile pages.

- Ids in paths are bounded by a URL converter, so ``/cases/99999999999999999999``
  matches no route (404) instead of reaching the database as an overflowing integer.
- JSON bodies are parsed once, here, with a depth and a number-size bound: a body nested
  1,000 levels or carrying a 100,000-digit number is answered 400 naming the body.
- Every answer carries security headers. A small ``after_request`` rather than
  flask-talisman: we need five fixed headers and per-path caching, while talisman's
  defaults (forced HTTPS redirects, session-cookie rewriting) fight a court intranet
  served behind its own proxy, and its last release is years old.
"""

from __future__ import annotations

import json
import math

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from ancillary.errors import DomainError

MAX_ID = 2**31 - 1  # ids are 32-bit columns on PostgreSQL
MAX_JSON_DEPTH = 32
MAX_NUMBER_CHARS = 40

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Files that carry no party data and may be cached by the browser.
CACHEABLE_PREFIXES = ("/static/", "/api/v1/docs/assets/")


class BadBody(DomainError):
    status = 400


class BoundedInt(IntegerConverter):
    """``<int:...>`` that matches only ids a column can hold (1 .. 2**31-1)."""

    def __init__(self, map, fixed_digits=0, min=1, max=MAX_ID, signed=False):  # noqa: A002 (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def init_app(app: Flask) -> None:
    """Install the converter (before any blueprint), the body bound and the headers."""
    app.url_map.converters["int"] = BoundedInt
    app.before_request(_refuse_unbounded_json)
    app.after_request(_security_headers)


def _number(text: str):
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError("number too long")
    if not any(c in text for c in ".eE"):
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number too large")
    return value


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _depth(value, limit: int) -> int:
    """The nesting depth of ``value``, walking iteratively (no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


# Made once: ``json.loads`` with hooks builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_int=_number, parse_float=_number, parse_constant=_refuse_constant)


def load_bounded_json(raw: bytes | str):
    """Parse JSON with bounded depth and number size; ValueError says what is wrong."""
    try:
        text = raw if isinstance(raw, str) else raw.decode(json.detect_encoding(raw), "surrogatepass")
        value = _DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if _depth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise ValueError("nested too deeply")
    return value


def _refuse_unbounded_json():
    if not request.is_json or not request.content_length:
        return None
    raw = request.get_data(cache=True)
    try:
        value = load_bounded_json(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc)
        if "deep" in reason:
            raise BadBody("json_too_deep", "the JSON body is nested more than {depth} levels deep",
                          field="body", depth=MAX_JSON_DEPTH) from None
        if "number" in reason:
            raise BadBody("json_number_too_long", "a number in the JSON body has more than {digits} characters",
                          field="body", digits=MAX_NUMBER_CHARS) from None
        raise BadBody("invalid_json", "the body is not valid JSON", field="body") from None
    request._cached_json = (value, value)  # later readers (webargs, the NUL check) reuse this parse
    return None


_SECURITY_HEADERS_BY_KEY = [(name.lower(), name, value) for name, value in SECURITY_HEADERS.items()]


def _security_headers(response):
    """Add the headers an answer does not set itself (one pass over its headers, not one per name)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for key, name, value in _SECURITY_HEADERS_BY_KEY:
        if key not in present:
            headers.add(name, value)
    if not request.path.startswith(CACHEABLE_PREFIXES):
        headers["Cache-Control"] = "no-store"
        if "expires" in present:
            del headers["Expires"]
    return response
