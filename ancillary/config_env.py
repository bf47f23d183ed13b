"""Parsers of the environment's sections for ``ancillary.config.Settings.from_env``.

Each returns the settings it read, or raises ``SettingsError`` naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from datetime import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

INSTANCE_DIR = Path(os.environ.get("ANCILLARY_INSTANCE_DIR", Path.cwd() / "instance"))


class SettingsError(ValueError):
    """A setting that makes no sense; the process refuses to start with this message."""


def parse_signing_key(text: str) -> bytes:
    """An Ed25519 seed: 64 hex digits or 32 bytes in URL-safe base64."""
    text = text.strip()
    try:
        seed = bytes.fromhex(text) if len(text) == 64 else base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, binascii.Error):
        seed = b""
    if len(seed) != 32:
        raise SettingsError("ANCILLARY_CUSTODY_SIGNING_KEY must be 32 bytes: 64 hex digits or URL-safe base64")
    return seed


def parse_public_key(text: str, name: str = "ANCILLARY_CUSTODY_PUBLIC_KEY") -> str:
    """An Ed25519 public key as 64 hex digits (what ``ancillary custody public-key`` prints)."""
    text = text.strip().lower()
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        raise SettingsError(f"{name} must be an Ed25519 public key: 64 hex digits, "
                            "as `ancillary custody public-key` prints it") from None
    return text


def _public_half(seed: bytes) -> str:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _custody_settings(env: dict[str, str], *, testing: bool) -> dict:
    """The checkpoint key never enters the database; the demo keeps a random one in instance/.

    An auditor's machine holds only the public key, ``ANCILLARY_CUSTODY_PUBLIC_KEY``.
    """
    auditor = bool(env.get("ANCILLARY_CUSTODY_PUBLIC_KEY")) and not env.get("ANCILLARY_CUSTODY_SIGNING_KEY")
    text = env.get("ANCILLARY_CUSTODY_SIGNING_KEY") or ("" if testing or auditor else _instance_secret("custody_key"))
    values: dict = {"custody_signing_key": parse_signing_key(text) if text else None}
    if env.get("ANCILLARY_CUSTODY_PUBLIC_KEY"):
        values["custody_public_key"] = parse_public_key(env["ANCILLARY_CUSTODY_PUBLIC_KEY"])
        seed = values["custody_signing_key"]
        if seed is not None and _public_half(seed) != values["custody_public_key"]:
            raise SettingsError("ANCILLARY_CUSTODY_PUBLIC_KEY is not the public half of ANCILLARY_CUSTODY_SIGNING_KEY")
    if env.get("ANCILLARY_CUSTODY_CHECKPOINT_DIR"):
        values["custody_checkpoint_dir"] = Path(env["ANCILLARY_CUSTODY_CHECKPOINT_DIR"])
    minutes = env.get("ANCILLARY_CUSTODY_CHECKPOINT_MINUTES")
    if minutes:
        if not minutes.isdigit() or not 1 <= int(minutes) <= 60:
            raise SettingsError("ANCILLARY_CUSTODY_CHECKPOINT_MINUTES must be 1-60 (a checkpoint at least hourly)")
        values["custody_checkpoint_minutes"] = int(minutes)
    workers = env.get("ANCILLARY_CUSTODY_VERIFY_WORKERS")
    if workers:
        if not workers.isdigit() or not 0 <= int(workers) <= 16:
            raise SettingsError("ANCILLARY_CUSTODY_VERIFY_WORKERS must be 0-16 (0: one per core)")
        values["custody_verify_workers"] = int(workers)
    return values


def _instance_secret(name: str) -> str:
    """Return a random secret kept in the instance folder, made on first use.

    Several processes may start at once (senders, workers): the secret is written to a
    private temporary file and linked into place, so a reader sees the whole secret or
    none, and exactly one writer wins.
    """
    path = INSTANCE_DIR / f".{name}"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        temporary = INSTANCE_DIR / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        temporary.write_text(secrets.token_urlsafe(32))
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first; theirs is the secret
        finally:
            temporary.unlink()
    return path.read_text().strip()


def _flag(env: dict[str, str], name: str, hint: str = "") -> bool | None:
    """A yes-or-no setting: None when unset; anything but 1/0 (true/false, yes/no, on/off) is refused."""
    value = env.get(name, "").strip().lower()
    if not value:
        return None
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {env[name]!r}" + (f" ({hint})" if hint else ""))


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
    if env.get("ANCILLARY_SECURE_COOKIES"):
        values["secure_cookies"] = _flag(env, "ANCILLARY_SECURE_COOKIES",
                                         "default: 1 when ANCILLARY_PUBLIC_URL is https")
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
    "ANCILLARY_SWEEP_BULK_CHECK_ROWS": "sweep_bulk_check_rows",
    "ANCILLARY_CLAIM_TIMEOUT": "claim_timeout_seconds",
    "ANCILLARY_SENDER_BATCH": "sender_batch",
    "ANCILLARY_SERVE_MOVES_PER_HOUR": "serve_moves_per_hour",
    "ANCILLARY_QUICK_RELEASE_MINUTES": "quick_release_minutes",
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


def _scheduling_settings(env: dict[str, str]) -> dict:
    """The scheduling sweep (on or off, proposing or booking, how often, how far ahead); the speedy reserve."""
    values: dict = {}
    for name, attr in (("ANCILLARY_AUTO_SCHEDULE", "auto_schedule_sweep"), ("ANCILLARY_AUTO_BOOK", "auto_book")):
        flag = _flag(env, name)
        if flag is not None:
            values[attr] = flag
    for name, attr in (("ANCILLARY_AUTO_SCHEDULE_MINUTES", "auto_schedule_minutes"),
                       ("ANCILLARY_AUTO_SCHEDULE_DAYS", "auto_schedule_days"),
                       ("ANCILLARY_SPEEDY_RESERVE_MINUTES", "speedy_reserve_minutes"),
                       ("ANCILLARY_SPEEDY_RESERVE_TIGHT_DAYS", "speedy_reserve_tight_days")):
        if env.get(name):
            if not env[name].strip().isdigit():
                raise SettingsError(f"{name}={env[name]!r} is not a whole number")
            values[attr] = int(env[name])
    return values
