"""Settings, read once from the environment at the edge and passed to create_app."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ancillary.config_env import (
    INSTANCE_DIR,
    SettingsError,
    _custody_settings,
    _instance_secret,
    _ops_settings,
    _parse_smtp_url,
    _reminder_settings,
    _scheduling_settings,
)
from scanners.tokens import Keyring

__all__ = ["INSTANCE_DIR", "DEFAULT_HEARING_MINUTES", "DEFAULT_STATUTORY_MONTHS", "Settings", "SettingsError",
           "smtp_options"]


# Statutory periods from filing to closing, in months, by kind (SPEC section 2).
DEFAULT_STATUTORY_MONTHS = {"speedy": 1, "summary": 3, "ordinary": 6, "enforcement": 6}
# Hearing length in minutes by kind (SPEC section 2).
DEFAULT_HEARING_MINUTES = {"speedy": 30, "summary": 60, "ordinary": 120, "enforcement": 60}


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
    # The scheduling sweep (docs/scheduling.md): proposes slots for new cases every few
    # minutes for a scheduler to accept, or books them itself when the court says so.
    auto_schedule_sweep: bool = True  # ANCILLARY_AUTO_SCHEDULE=0 turns it off
    auto_book: bool = False  # ANCILLARY_AUTO_BOOK=1: book instead of proposing
    auto_schedule_minutes: int = 5  # ANCILLARY_AUTO_SCHEDULE_MINUTES: how often it plans
    auto_schedule_days: int = 21  # ANCILLARY_AUTO_SCHEDULE_DAYS: how far ahead it looks
    # The speedy reserve (docs/scheduling.md): on every day it plans, the planner keeps free at
    # each venue this percentage of the speedy minutes the venue is expected to need that day,
    # judged from its speedy filings of the last ``speedy_demand_days`` days.
    # ANCILLARY_SPEEDY_RESERVE_PERCENT (0: off), ANCILLARY_SPEEDY_DEMAND_DAYS. On by default: a case it
    # holds back waits for a later plan without a repair search, so a month planned in one go stays fast.
    speedy_reserve_percent: int = 150
    speedy_demand_days: int = 28
    # A new courtroom's lunch break, local times *(default 12:00-13:30)*; each room keeps its own.
    lunch_break: tuple[time, time] = (time(12, 0), time(13, 30))
    # The longest period the dashboard reports at once, in days.
    dashboard_max_days: int = 366
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
    service_address_reuse: bool = True  # layer 0: attach addresses confirmed in the person's other cases
    service_timed_escalation: bool = True  # the sweep moves an order on when its electronic window closes
    posting_max_distance_m: int = 200
    posting_max_age_hours: int = 24
    photo_max_bytes: int = 15 * 1024 * 1024
    photo_max_pixels: int = 60_000_000
    # Contact harvesting (docs/service.md): a service clerk's claims and releases of serve
    # tasks per rolling hour; a release this soon after reading the contacts, with nothing
    # attempted, is shown to the managers.
    serve_moves_per_hour: int = 20
    quick_release_minutes: int = 60
    # Custody checkpoints (docs/custody.md): Ed25519 seed, the append-only log's folder.
    custody_signing_key: bytes | None = None
    custody_public_key: str | None = None  # hex; an auditor's machine holds only this
    custody_checkpoint_dir: Path = INSTANCE_DIR / "checkpoints"
    custody_checkpoint_minutes: int = 60
    custody_verify_workers: int = 0  # ranges verified at once; 0: one per core
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
    # PostgreSQL: a sweep writing at least this many items checks their foreign keys once (0: never)
    sweep_bulk_check_rows: int = 100_000
    command_center: tuple[str, ...] = ()  # usernames of the enforcement command center
    sms_rate_per_second: float = 10.0  # per sender process and From number
    sms_give_up_hours: float = 6.0  # retries stop this long after the first attempt
    sms_retry_base_seconds: float = 30.0
    claim_timeout_seconds: int = 300  # a claimed row older than this, unanswered, is outcome-unknown
    sender_batch: int = 1  # rows the sender claims in one transaction and records in one
    sms_timeout_seconds: float = 10.0
    # --- operations (see docs/deploy.md) ---
    tick_seconds: int = 300  # the scheduler runs every sweep at instants aligned to this period
    heartbeat_seconds: int = 10  # scheduler heartbeat; /readyz wants one younger than twice this
    log_format: str = "text"  # "json": one JSON line per request (request id, user id, status, duration)
    secure_cookies: bool | None = None  # None: Secure exactly when public_url is https
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
        values.update(_custody_settings(env, testing=overrides.get("testing", False)))
        if "ANCILLARY_COURT_NAME" in env:
            values["court_name"] = env["ANCILLARY_COURT_NAME"]
        values.update(_reminder_settings(env))
        values.update(_scheduling_settings(env))
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
        if not 1 <= self.auto_schedule_days <= self.auto_schedule_max_days:
            raise SettingsError(f"ANCILLARY_AUTO_SCHEDULE_DAYS must be 1-{self.auto_schedule_max_days}")
        if not 1 <= self.auto_schedule_minutes <= 24 * 60:
            raise SettingsError("ANCILLARY_AUTO_SCHEDULE_MINUTES must be 1-1440")
        if not 0 <= self.speedy_reserve_percent <= 500 or not 7 <= self.speedy_demand_days <= 365:
            raise SettingsError("ANCILLARY_SPEEDY_RESERVE_PERCENT must be 0-500, "
                                "ANCILLARY_SPEEDY_DEMAND_DAYS 7-365")
        if not 1 <= self.archive_days <= 365:
            raise SettingsError("archive window must be 1-365 days")
        if not 2 <= self.serve_moves_per_hour <= 1000:
            raise SettingsError("ANCILLARY_SERVE_MOVES_PER_HOUR must be 2-1000 (a claim and a release at least)")
        if not 1 <= self.quick_release_minutes <= 24 * 60:
            raise SettingsError("ANCILLARY_QUICK_RELEASE_MINUTES must be 1-1440")

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
            ("ANCILLARY_SWEEP_BULK_CHECK_ROWS", self.sweep_bulk_check_rows, 0, 10**9),
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
        if not 1 <= self.sender_batch <= 1000:
            raise SettingsError("ANCILLARY_SENDER_BATCH must be 1-1000 messages")
        if self.claim_timeout_seconds < 2 * self.sms_timeout_seconds * self.sender_batch:
            raise SettingsError(
                "ANCILLARY_CLAIM_TIMEOUT must be at least twice ANCILLARY_SMS_TIMEOUT times ANCILLARY_SENDER_BATCH, "
                "or a slow batch would be taken for a dead sender"
            )

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)


def _minutes_between(start: time, end: time) -> int:
    """Length of the daily window start..end in minutes (it may wrap past midnight)."""
    a, b = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    return (b - a) % (24 * 60)


def _in_window(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def smtp_options(settings: Settings) -> dict:
    """The SMTP adapter's keyword arguments from ``ANCILLARY_SMTP_URL``."""
    return _parse_smtp_url(settings.smtp_url)
