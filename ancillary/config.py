"""Settings, read once from the environment at the edge and passed to create_app."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
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
        if "ANCILLARY_COURT_NAME" in env:
            values["court_name"] = env["ANCILLARY_COURT_NAME"]
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
