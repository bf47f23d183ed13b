"""Hand checks of the hottest bodies (a scan, a booking), ahead of their marshmallow schemas.

Loading a small body with marshmallow (or through webargs) cost a scan or a booking more
than its checks. A hand check here accepts only the plainest well-formed body and returns
exactly what the schema's ``load`` would; for ANY irregularity (an unknown key, a wrong
type, a value out of range, an unusual date) it returns None and the schema loads the body
as before, so every error answer stays the schema's. Tests hold each hand check to its
schema over good and bad bodies (``tests/core/test_fast_arguments.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

MAX_ID = 2**31 - 1
FIRST_YEAR, LAST_YEAR = 2000, 2100  # as ``LocalDateTime`` bounds a date


def is_id(value) -> bool:
    """What ``Id`` loads unchanged: a JSON integer (not a boolean) that fits the column."""
    return type(value) is int and 1 <= value <= MAX_ID


def is_text(value, shortest: int, longest: int) -> bool:
    """What ``fields.String(validate=Length(shortest, longest))`` loads unchanged."""
    return type(value) is str and shortest <= len(value) <= longest


def aware_datetime(value) -> datetime | None:
    """What ``LocalDateTime`` loads from an ISO 8601 text with an offset, or None to let it decide."""
    if type(value) is not str:
        return None
    try:
        result = datetime.fromisoformat(value)
    except ValueError:
        return None
    if result.tzinfo is None or result.utcoffset() is None or not FIRST_YEAR <= result.year <= LAST_YEAR:
        return None
    return result


def plain_fields(body, checks: dict[str, Callable[[object], bool]], required: frozenset[str]) -> bool:
    """Whether ``body`` is an object of known keys, every required one present, each passing its check."""
    if type(body) is not dict or not required <= body.keys():
        return False
    for name, value in body.items():
        check = checks.get(name)
        if check is None or not check(value):
            return False
    return True
