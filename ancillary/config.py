"""Settings, read once from the environment at the edge and passed to create_app."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scanners.tokens import Keyring

INSTANCE_DIR = Path(os.environ.get("ANCILLARY_INSTANCE_DIR", Path.cwd() / "instance"))

# Statutory periods from filing to closing, in months, by kind (SPEC section 2).
DEFAULT_STATUTORY_MONTHS = {"speedy": 1, "summary": 3, "ordinary": 6, "enforcement": 6}
# Hearing length in minutes by kind (SPEC section 2).
DEFAULT_HEARING_MINUTES = {"speedy": 30, "summary": 60, "ordinary": 120, "enforcement": 60}


class SettingsError(ValueError):
    """A setting that makes no sense; the process refuses to start with this message."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    qr_keyring: Keyring
    timezone: ZoneInfo
    sms_backend: str = "console"
    twilio_account_sid: str = ""
    twilio_auth_token: str = ""
    twilio_from_number: str = ""
    twilio_api_base: str = ""
    public_url: str = ""
    storage_dir: Path = INSTANCE_DIR / "storage"
    court_name: str = "威海市环翠区人民法院"
    token_lifetime: timedelta = timedelta(days=30)
    max_content_length: int = 20 * 1024 * 1024
    scheduling_task_hours: int = 3
    serve_task_days: int = 10
    archive_days: int = 30
    statutory_months: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_STATUTORY_MONTHS))
    hearing_minutes: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_HEARING_MINUTES))
    # Scheduling: whole days between booking and hearing (the summons must reach the
    # parties), speedy cases heard within this many days of filing, longest auto window.
    hearing_notice_days: int = 3
    speedy_notice_days: int = 1
    speedy_hearing_days: int = 7
    auto_schedule_max_days: int = 31
    # Service of process (SPEC section 3; a "(default)" figure there is a setting here).
    carrier_secret: str = ""
    service_documents: str = "起诉状副本、应诉通知书、举证通知书、传票"
    service_electronic_days: int = 3
    service_direct_attempts: int = 2
    service_direct_days: int = 7
    service_mail_days: int = 15
    service_posting_days: int = 5
    service_public_notice_days: int = 30
    service_warn_hours: int = 24
    posting_max_distance_m: int = 200
    posting_max_age_hours: int = 24
    photo_max_bytes: int = 15 * 1024 * 1024
    photo_max_pixels: int = 60_000_000
    run_scheduler: bool = False
    testing: bool = False
    # --- reminders (SPEC section 3 defaults; see docs/reminders.md) ---
    smtp_url: str = ""  # smtp://user:pass@host:25?starttls=1 or smtps://...; empty: console e-mail
    smtp_sender: str = "ancillary@court.example.cn"
    quiet_start: time = time(21, 0)  # no non-urgent SMS from here ...
    quiet_end: time = time(8, 0)  # ... to here, local time; what falls there waits
    digest_time: time = time(18, 0)  # tomorrow's hearings, one digest per judge
    heard_not_closed_days: int = 15
    deadline_warning_days: tuple[int, ...] = (30, 15, 7, 1)
    escalation_hours: int = 24
    property_search_days: int = 7  # (default) enforcement: search started within N days of filing
    seized_close_days: int = 30  # (default) fully seized -> closed within N days
    auction_measures_days: int = 10  # (default) auction held -> follow-up measures within N days
    payment_release_days: int = 30  # (default) payment received -> released within N days
    archive_warning_days: int = 3  # (default) warn archivists N days before the archive deadline
    sweep_lookback_days: int = 30  # nodes that fell due longer ago than this are not picked up again
    command_center: tuple[str, ...] = ()  # usernames of the enforcement command center
    sms_rate_per_second: float = 10.0  # per sender process and From number
    sms_give_up_hours: float = 6.0  # retries stop this long after the first attempt
    sms_retry_base_seconds: float = 30.0
    claim_timeout_seconds: int = 300  # a claimed row older than this, unanswered, is outcome-unknown
    sms_timeout_seconds: float = 10.0
    # --- operations (see docs/deploy.md) ---
    tick_seconds: int = 300  # the scheduler runs every sweep at instants aligned to this period
    heartbeat_seconds: int = 10  # scheduler heartbeat; /readyz wants one younger than twice this
    log_format: str = "text"  # "json": one JSON line per request (request id, user id, status, duration)
    proxy_count: int = 0  # reverse proxies whose X-Forwarded-* headers are trusted (1 behind nginx)
    storage_backend: str = "local"  # "s3": an S3-compatible object store (see ancillary/storage.py)
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        """Build settings from ``ANCILLARY_*`` and ``TWILIO_*`` variables."""
        env = dict(os.environ if env is None else env)
        tz_name = env.get("ANCILLARY_TIMEZONE", "Asia/Shanghai")
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"ANCILLARY_TIMEZONE={tz_name!r} is not a known time zone") from exc
        secret_key = env.get("ANCILLARY_SECRET_KEY") or ""
        if not secret_key:
            secret_key = _instance_secret("secret_key")
        qr_keys = env.get("ANCILLARY_QR_KEYS") or f"K1:{_instance_secret('qr_key')}"
        try:
            keyring = Keyring.parse(qr_keys)
        except ValueError as exc:
            raise SettingsError(f"ANCILLARY_QR_KEYS: {exc}") from exc
        sms_backend = env.get("ANCILLARY_SMS_BACKEND", "console")
        if sms_backend not in ("twilio", "console"):
            raise SettingsError("ANCILLARY_SMS_BACKEND must be 'twilio' or 'console'")
        values = dict(
            database_url=env.get("ANCILLARY_DATABASE_URL")
            or f"sqlite:///{INSTANCE_DIR / 'ancillary.sqlite3'}",
            secret_key=secret_key,
            qr_keyring=keyring,
            timezone=tz,
            sms_backend=sms_backend,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
            twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
            twilio_api_base=env.get("TWILIO_API_BASE", ""),
            public_url=env.get("ANCILLARY_PUBLIC_URL", "").rstrip("/"),
            storage_dir=Path(env.get("ANCILLARY_STORAGE_DIR") or INSTANCE_DIR / "storage"),
            carrier_secret=env.get("ANCILLARY_CARRIER_SECRET", ""),
        )
        values.update(_ops_settings(env))
        if "ANCILLARY_COURT_NAME" in env:
            values["court_name"] = env["ANCILLARY_COURT_NAME"]
        values.update(_reminder_settings(env))
        values.update(overrides)
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that cannot work, naming the variable."""
        if self.sms_backend == "twilio":
            missing = [
                name
                for name, value in (
                    ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                    ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                    ("TWILIO_FROM_NUMBER", self.twilio_from_number),
                )
                if not value
            ]
            if missing:
                raise SettingsError(f"ANCILLARY_SMS_BACKEND=twilio needs {', '.join(missing)}")
        for kind, months in self.statutory_months.items():
            if not 0 < months <= 36:
                raise SettingsError(f"statutory period for {kind} must be 1-36 months")
        for kind, minutes in self.hearing_minutes.items():
            if not 10 <= minutes <= 480:
                raise SettingsError(f"hearing length for {kind} must be 10-480 minutes")
        if not 1 <= self.scheduling_task_hours <= 72:
            raise SettingsError("scheduling task window must be 1-72 hours")
        if not 1 <= self.archive_days <= 365:
            raise SettingsError("archive window must be 1-365 days")

        self._check_reminders()
        self._check_ops()

    def _check_ops(self) -> None:
        if not 10 <= self.tick_seconds <= 3600:
            raise SettingsError(f"ANCILLARY_TICK_SECONDS={self.tick_seconds} must be 10-3600 seconds")
        if not 1 <= self.heartbeat_seconds <= 300:
            raise SettingsError(f"ANCILLARY_HEARTBEAT_SECONDS={self.heartbeat_seconds} must be 1-300 seconds")
        if self.proxy_count not in (0, 1):
            raise SettingsError("ANCILLARY_PROXY_COUNT must be 0 or 1 (the number of proxies in front)")
        if self.log_format not in ("text", "json"):
            raise SettingsError(f"ANCILLARY_LOG_FORMAT={self.log_format!r} must be 'text' or 'json'")
        if self.storage_backend not in ("local", "s3"):
            raise SettingsError(f"ANCILLARY_STORAGE={self.storage_backend!r} must be 'local' or 's3'")
        if self.storage_backend == "s3" and not self.s3_bucket:
            raise SettingsError("ANCILLARY_STORAGE=s3 needs ANCILLARY_S3_BUCKET")
        scheme = self.database_url.partition(":")[0]
        if scheme != "sqlite" and not scheme.startswith("postgresql"):
            raise SettingsError("ANCILLARY_DATABASE_URL must start with postgresql+psycopg:// or sqlite:///")

    def _check_reminders(self) -> None:
        if self.smtp_url:
            _parse_smtp_url(self.smtp_url)
        if _in_window(self.digest_time, self.quiet_start, self.quiet_end):
            raise SettingsError(
                f"ANCILLARY_DIGEST_TIME={self.digest_time:%H:%M} falls in the quiet hours "
                f"{self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}: the digest would never go out on time"
            )
        if self.quiet_start == self.quiet_end:
            raise SettingsError("ANCILLARY_QUIET_HOURS: start and end must differ")
        quiet = _minutes_between(self.quiet_start, self.quiet_end)
        if quiet > 14 * 60:
            raise SettingsError("ANCILLARY_QUIET_HOURS: at most 14 hours a day may be quiet")
        days = self.deadline_warning_days
        if not days or len(set(days)) != len(days) or any(not 1 <= d <= 365 for d in days):
            raise SettingsError("ANCILLARY_DEADLINE_WARNINGS must be distinct whole days, each 1-365")
        for name, value, low, high in (
            ("ANCILLARY_HEARD_NOT_CLOSED_DAYS", self.heard_not_closed_days, 1, 365),
            ("ANCILLARY_ESCALATION_HOURS", self.escalation_hours, 1, 168),
            ("ANCILLARY_PROPERTY_SEARCH_DAYS", self.property_search_days, 1, 365),
            ("ANCILLARY_SEIZED_CLOSE_DAYS", self.seized_close_days, 1, 365),
            ("ANCILLARY_AUCTION_MEASURES_DAYS", self.auction_measures_days, 1, 365),
            ("ANCILLARY_PAYMENT_RELEASE_DAYS", self.payment_release_days, 1, 365),
            ("ANCILLARY_ARCHIVE_WARNING_DAYS", self.archive_warning_days, 1, 60),
            ("ANCILLARY_SWEEP_LOOKBACK_DAYS", self.sweep_lookback_days, 1, 366),
        ):
            if not low <= value <= high:
                raise SettingsError(f"{name}={value} is absurd: it must be {low}-{high}")
        if not 0 < self.sms_rate_per_second <= 1000:
            raise SettingsError("ANCILLARY_SMS_RATE must be more than 0 and at most 1000 messages a second")
        if not 0.01 <= self.sms_give_up_hours <= 72:
            raise SettingsError("ANCILLARY_SMS_GIVE_UP_HOURS must be 0.01-72 hours")
        if not 0.1 <= self.sms_retry_base_seconds <= 3600:
            raise SettingsError("ANCILLARY_SMS_RETRY_SECONDS must be 0.1-3600 seconds")
        if not 1 <= self.sms_timeout_seconds <= 120:
            raise SettingsError("ANCILLARY_SMS_TIMEOUT must be 1-120 seconds")
        if self.claim_timeout_seconds < 2 * self.sms_timeout_seconds:
            raise SettingsError(
                "ANCILLARY_CLAIM_TIMEOUT must be at least twice ANCILLARY_SMS_TIMEOUT, "
                "or a slow send would be taken for a dead sender"
            )

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


def _instance_secret(name: str) -> str:
    """Return a random secret kept in the instance folder, made on first use."""
    path = INSTANCE_DIR / f".{name}"
    if path.exists():
        return path.read_text().strip()
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _ops_settings(env: dict[str, str]) -> dict:
    values: dict = {}
    names = (("ANCILLARY_TICK_SECONDS", "tick_seconds"), ("ANCILLARY_HEARTBEAT_SECONDS", "heartbeat_seconds"))
    for name, attr in names:
        if env.get(name):
            try:
                values[attr] = int(env[name])
            except ValueError:
                raise SettingsError(f"{name}={env[name]!r} is not a whole number of seconds") from None
    if env.get("ANCILLARY_PROXY_COUNT"):
        try:
            values["proxy_count"] = int(env["ANCILLARY_PROXY_COUNT"])
        except ValueError:
            raise SettingsError("ANCILLARY_PROXY_COUNT must be 0 or 1 (the number of proxies in front)") from None
    if env.get("ANCILLARY_LOG_FORMAT"):
        values["log_format"] = env["ANCILLARY_LOG_FORMAT"]
    if env.get("ANCILLARY_STORAGE"):
        values["storage_backend"] = env["ANCILLARY_STORAGE"]
    for name in ("endpoint", "bucket", "region", "access_key", "secret_key"):
        if env.get(f"ANCILLARY_S3_{name.upper()}"):
            values[f"s3_{name}"] = env[f"ANCILLARY_S3_{name.upper()}"]
    return values


# --- reminder settings -----------------------------------------------------------------

_INT_SETTINGS = {
    "ANCILLARY_HEARD_NOT_CLOSED_DAYS": "heard_not_closed_days",
    "ANCILLARY_ESCALATION_HOURS": "escalation_hours",
    "ANCILLARY_PROPERTY_SEARCH_DAYS": "property_search_days",
    "ANCILLARY_SEIZED_CLOSE_DAYS": "seized_close_days",
    "ANCILLARY_AUCTION_MEASURES_DAYS": "auction_measures_days",
    "ANCILLARY_PAYMENT_RELEASE_DAYS": "payment_release_days",
    "ANCILLARY_ARCHIVE_WARNING_DAYS": "archive_warning_days",
    "ANCILLARY_SWEEP_LOOKBACK_DAYS": "sweep_lookback_days",
    "ANCILLARY_CLAIM_TIMEOUT": "claim_timeout_seconds",
}
_FLOAT_SETTINGS = {
    "ANCILLARY_SMS_RATE": "sms_rate_per_second",
    "ANCILLARY_SMS_GIVE_UP_HOURS": "sms_give_up_hours",
    "ANCILLARY_SMS_RETRY_SECONDS": "sms_retry_base_seconds",
    "ANCILLARY_SMS_TIMEOUT": "sms_timeout_seconds",
}


def _clock_time(name: str, value: str) -> time:
    try:
        hours, minutes = value.strip().split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not a time of day written HH:MM") from None


def _reminder_settings(env: dict[str, str]) -> dict:
    values: dict = {}
    for name, attr in _INT_SETTINGS.items():
        if env.get(name):
            try:
                values[attr] = int(env[name])
            except ValueError:
                raise SettingsError(f"{name}={env[name]!r} is not a whole number") from None
    for name, attr in _FLOAT_SETTINGS.items():
        if env.get(name):
            try:
                values[attr] = float(env[name])
            except ValueError:
                raise SettingsError(f"{name}={env[name]!r} is not a number") from None
    if env.get("ANCILLARY_QUIET_HOURS"):
        start, sep, end = env["ANCILLARY_QUIET_HOURS"].partition("-")
        if not sep:
            raise SettingsError("ANCILLARY_QUIET_HOURS must look like 21:00-08:00")
        values["quiet_start"] = _clock_time("ANCILLARY_QUIET_HOURS", start)
        values["quiet_end"] = _clock_time("ANCILLARY_QUIET_HOURS", end)
    if env.get("ANCILLARY_DIGEST_TIME"):
        values["digest_time"] = _clock_time("ANCILLARY_DIGEST_TIME", env["ANCILLARY_DIGEST_TIME"])
    if env.get("ANCILLARY_DEADLINE_WARNINGS"):
        try:
            values["deadline_warning_days"] = tuple(
                sorted((int(d) for d in env["ANCILLARY_DEADLINE_WARNINGS"].split(",")), reverse=True))
        except ValueError:
            raise SettingsError("ANCILLARY_DEADLINE_WARNINGS must be whole days, e.g. 30,15,7,1") from None
    if env.get("ANCILLARY_COMMAND_CENTER"):
        values["command_center"] = tuple(u.strip() for u in env["ANCILLARY_COMMAND_CENTER"].split(",") if u.strip())
    if "ANCILLARY_SMTP_URL" in env:
        values["smtp_url"] = env["ANCILLARY_SMTP_URL"]
    if env.get("ANCILLARY_SMTP_SENDER"):
        values["smtp_sender"] = env["ANCILLARY_SMTP_SENDER"]
    return values


def _minutes_between(start: time, end: time) -> int:
    """Length of the daily window start..end in minutes (it may wrap past midnight)."""
    a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return (b - a) % (24 * 60)


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def _parse_smtp_url(url: str) -> dict:
    """``smtp://[user[:password]@]host[:port][?starttls=1]`` or ``smtps://...`` -> SmtpEmail kwargs."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SettingsError(f"ANCILLARY_SMTP_URL={url!r} must look like smtp://user:password@host:25")
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 25)
    except ValueError:
        raise SettingsError("ANCILLARY_SMTP_URL has a bad port") from None
    query = parse_qs(parts.query)
    return {
        "host": parts.hostname,
        "port": port,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password) if parts.password else None,
        "use_ssl": parts.scheme == "smtps",
        "starttls": query.get("starttls", ["0"])[0] in ("1", "true", "yes"),
    }


def smtp_options(settings: Settings) -> dict:
    """The SMTP adapter's keyword arguments from ``ANCILLARY_SMTP_URL``."""
    return _parse_smtp_url(settings.smtp_url)
