"""Backoff for failed sign-ins, per account and per client address, kept in the database.

Being in the database, the count holds across every web process and worker. The first
few failures cost nothing; after that each failure doubles the wait, up to a ceiling.
The per-account ceiling is short (a minute by default) so that an attacker who knows a
username can slow its owner down but never lock them out for long; the per-address
ceiling is long, since that is where a guessing attack comes from. A quiet hour forgets
the failures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ancillary.auth.models import SignInThrottle
from ancillary.errors import DomainError


class TooManyAttempts(DomainError):
    status = 429


@dataclass(frozen=True)
class Rule:
    free: int  # failures allowed before any wait
    ceiling: timedelta  # the longest wait


RULES = {
    "account": Rule(free=5, ceiling=timedelta(seconds=60)),
    "address": Rule(free=20, ceiling=timedelta(minutes=15)),
}
FORGET_AFTER = timedelta(hours=1)


def _keys(username: str, address: str) -> list[tuple[str, str]]:
    return [("account", (username or "").strip().lower()[:128]), ("address", (address or "unknown")[:128])]


def check(session: Session, username: str, address: str, *, now: datetime) -> None:
    """Raise TooManyAttempts (429, with the seconds to wait) while a backoff is running."""
    waits = []
    for scope, key in _keys(username, address):
        until = session.scalar(select(SignInThrottle.blocked_until).where(
            SignInThrottle.scope == scope, SignInThrottle.key == key))
        if until is not None and until > now:
            waits.append((until - now).total_seconds())
    if waits:
        seconds = max(1, math.ceil(max(waits)))
        raise TooManyAttempts("too_many_attempts", "too many failed sign-ins; try again in {seconds} seconds",
                              field="password", seconds=seconds, retry_after=seconds)


def _wait(rule: Rule, failures: int) -> timedelta:
    if failures <= rule.free:
        return timedelta(0)
    exponent = min(failures - rule.free - 1, 30)
    return min(timedelta(seconds=2**exponent), rule.ceiling)


def _bump(session: Session, scope: str, key: str, now: datetime) -> int:
    """Count one more failure atomically (several processes may fail at once); the new count."""
    stale = now - FORGET_AFTER
    session.execute(update(SignInThrottle).where(
        SignInThrottle.scope == scope, SignInThrottle.key == key, SignInThrottle.last_failed_at < stale,
    ).values(failures=0))
    failures = session.scalar(update(SignInThrottle).where(
        SignInThrottle.scope == scope, SignInThrottle.key == key,
    ).values(failures=SignInThrottle.failures + 1, last_failed_at=now).returning(SignInThrottle.failures))
    if failures is not None:
        return failures
    try:
        with session.begin_nested():
            session.add(SignInThrottle(scope=scope, key=key, failures=1, last_failed_at=now, blocked_until=now))
        return 1
    except IntegrityError:  # another process created it first
        return _bump(session, scope, key, now)


def record_failure(session: Session, username: str, address: str, *, now: datetime) -> None:
    """Count a failed sign-in against the account and the address and set their backoff."""
    for scope, key in _keys(username, address):
        failures = _bump(session, scope, key, now)
        until = now + _wait(RULES[scope], failures)
        session.execute(update(SignInThrottle).where(
            SignInThrottle.scope == scope, SignInThrottle.key == key, SignInThrottle.blocked_until < until,
        ).values(blocked_until=until))
    session.flush()


def record_success(session: Session, username: str) -> None:
    """A right password forgets the account's failures (not the address's)."""
    scope, key = _keys(username, "")[0]
    session.execute(delete(SignInThrottle).where(SignInThrottle.scope == scope, SignInThrottle.key == key))
