"""The quiet hours: one rule, a function of the settings, for every message to a phone.

``ANCILLARY_QUIET_HOURS`` (21:00-08:00 local by default) holds back non-urgent SMS and
calls; what falls inside waits for the end of the quiet hours. E-mail is never held.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ancillary.outbox.models import Channel

QUIET_CHANNELS = (Channel.sms, Channel.voice)


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def in_quiet_hours(at: datetime, settings) -> bool:
    """Whether ``at`` falls in the quiet hours (21:00-08:00 local by default)."""
    return _in_window(at.astimezone(settings.timezone).time(), settings.quiet_start, settings.quiet_end)


def release_time(at: datetime, settings) -> datetime:
    """The first instant at or after ``at`` outside the quiet hours (UTC)."""
    if not in_quiet_hours(at, settings):
        return at
    tz = settings.timezone
    local = at.astimezone(tz)
    end = datetime.combine(local.date(), settings.quiet_end, tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), settings.quiet_end, tz)
    return end.astimezone(UTC)


def held_back(channel: Channel, is_urgent: bool) -> bool:
    """Whether quiet hours apply to a message on ``channel``."""
    return channel in QUIET_CHANNELS and not is_urgent
