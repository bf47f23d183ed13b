"""Shared set-up for the benchmarks: a fresh database (SQLite file or a database on the
PostgreSQL server named by ANCILLARY_TEST_POSTGRES_URL), migrated, and an app on it."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
QR_KEYS = "K1:bench-signing-secret-0123456789"


def fresh_database(kind: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='ancillary-bench-')}/bench.sqlite3"
    server = os.environ.get("ANCILLARY_TEST_POSTGRES_URL")
    if not server:
        sys.exit("PostgreSQL: run under scripts/with-postgres.sh (it sets ANCILLARY_TEST_POSTGRES_URL)")
    from sqlalchemy import create_engine, text

    name = f"bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return f"{server}/{name}"


def env_for(url: str, **extra) -> dict:
    env = {"ANCILLARY_DATABASE_URL": url, "ANCILLARY_SECRET_KEY": "bench", "ANCILLARY_QR_KEYS": QR_KEYS,
           "ANCILLARY_INSTANCE_DIR": tempfile.mkdtemp(prefix="ancillary-bench-instance-")}
    env.update(extra)
    return env


def make_app(url: str, **overrides):
    import logging

    from flask_migrate import upgrade

    from ancillary import create_app
    from ancillary.config import Settings

    app = create_app(Settings.from_env(env_for(url), **overrides))
    logging.getLogger().setLevel(logging.WARNING)
    with app.app_context():
        upgrade()
    logging.getLogger().setLevel(logging.WARNING)
    return app


def write(name: str, data: dict) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False))
    print(json.dumps(data, indent=2, ensure_ascii=False))
    print(f"written to {path}")
    return path
