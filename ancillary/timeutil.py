"""Clock at the edge, calendars in local time: periods that skip their first day."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The one place that reads the clock; everything below it takes ``now``."""
    return datetime.now(UTC)


def app_now() -> datetime:
    """The current app's clock: a test injects one as ``app.config["CLOCK"]``."""
    from flask import current_app

    return current_app.config.get("CLOCK", utcnow)()


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_day_start(day: date, tz: ZoneInfo) -> datetime:
    """The first instant of ``day`` in ``tz`` (00:00), as UTC."""
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The last instant of ``day`` in ``tz`` (23:59:59), as UTC."""
    return datetime.combine(day, time(23, 59, 59), tz).astimezone(UTC)


def period_end_months(start: datetime, months: int, tz: ZoneInfo) -> datetime:
    """End of a period of ``months`` from ``start``: the first day is not counted and
    the period runs to the end of the corresponding day of the last month."""
    return end_of_local_day(add_months(start.astimezone(tz).date(), months), tz)


def period_end_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """End of a period of ``days`` from ``start`` (first day not counted)."""
    return end_of_local_day(start.astimezone(tz).date() + timedelta(days=days), tz)
