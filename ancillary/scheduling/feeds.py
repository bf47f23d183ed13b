"""Judges' calendar feeds: a secret URL per judge for the phone's calendar, stored only as its hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ancillary.audit.services import record
from ancillary.auth.models import User
from ancillary.scheduling.models import CalendarFeed


def feed_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(session: Session, judge: User, *, actor, now: datetime) -> str:
    """A new secret feed token for ``judge`` (the old one stops working)."""
    token = "ics_" + secrets.token_urlsafe(32)
    feed = session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == judge.id))
    if feed is None:
        feed = CalendarFeed(user_id=judge.id, token_hash=feed_token_digest(token), created_at=now)
        session.add(feed)
    else:
        feed.token_hash, feed.created_at = feed_token_digest(token), now
    session.flush()
    record(session, actor, "calendar_feed.issue", feed, now=now, after={"user_id": judge.id})
    return token


def feed_user(session: Session, token: str) -> int | None:
    return session.scalar(select(CalendarFeed.user_id).where(CalendarFeed.token_hash == feed_token_digest(token)))
