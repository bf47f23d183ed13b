"""Checks made before a server or scheduler starts: refuse at once, in one line, naming the setting."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from ancillary.config import SettingsError
from ancillary.storage import StorageError, storage_for


def _reason(exc: Exception) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text_[0][:160] if text_ else exc.__class__.__name__


def check_database(database_url: str) -> None:
    try:
        url = make_url(database_url)
        options = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
        engine = create_engine(url, poolclass=NullPool, connect_args=options)
    except (ArgumentError, ImportError, ValueError) as exc:
        raise SettingsError(f"ANCILLARY_DATABASE_URL is not a database URL ({_reason(exc)})") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise SettingsError(f"ANCILLARY_DATABASE_URL: cannot connect to the database ({_reason(exc)})") from None
    finally:
        engine.dispose()


def check_before_start(settings) -> None:
    """Database reachable and storage usable, or SettingsError naming the variable."""
    check_database(settings.database_url)
    try:
        storage_for(settings, fresh=True).check()  # a throwaway client: nothing crosses the fork
    except StorageError as exc:
        raise SettingsError(str(exc)) from None
