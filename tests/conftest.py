"""Fixtures: the app on SQLite or PostgreSQL (ANCILLARY_TEST_DB), clients per role, factories.

`make test` runs this suite twice: on a SQLite file, and on a throwaway PostgreSQL
server that scripts/with-postgres.sh starts (ANCILLARY_TEST_POSTGRES_URL).
"""

from __future__ import annotations

import itertools
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from ancillary import create_app
from ancillary.config import Settings
from tests.api_contract import ContractClient

pytest_plugins = ["tests.browser", "tests.s3"]

DB_KIND = os.environ.get("ANCILLARY_TEST_DB", "sqlite")
QR_KEYS = "K2:test-signing-secret-0123456789,K1:test-older-secret-0123456789"
NOW = datetime(2027, 1, 4, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai, a Monday


def pytest_report_header(config):
    return f"database: {DB_KIND}"


def _new_database_url(tmp_path_factory) -> tuple[str, callable]:
    """A fresh, empty database and a function that drops it."""
    if DB_KIND == "sqlite":
        path = tmp_path_factory.mktemp("db") / f"{uuid.uuid4().hex}.sqlite3"
        return f"sqlite:///{path}", lambda: None
    server = os.environ.get("ANCILLARY_TEST_POSTGRES_URL")
    if not server:
        pytest.exit("ANCILLARY_TEST_DB=postgresql needs ANCILLARY_TEST_POSTGRES_URL: run `make test`", 2)
    name = f"ancillary_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()

    def drop():
        engine = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    return f"{server}/{name}", drop


@pytest.fixture(scope="session")
def new_database(tmp_path_factory):
    """Factory of fresh empty databases, dropped at the end of the run."""
    drops = []

    def make() -> str:
        url, drop = _new_database_url(tmp_path_factory)
        drops.append(drop)
        return url

    yield make
    for drop in drops:
        drop()


def make_settings(database_url: str, tmp_path, **overrides) -> Settings:
    env = {
        "ANCILLARY_DATABASE_URL": database_url,
        "ANCILLARY_SECRET_KEY": "test-secret-key",
        "ANCILLARY_QR_KEYS": QR_KEYS,
        "ANCILLARY_STORAGE_DIR": str(tmp_path / "storage"),
        "ANCILLARY_CUSTODY_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
        "ANCILLARY_PUBLIC_URL": "https://court.example.cn",
    }
    return Settings.from_env(env, testing=True, **overrides)


@pytest.fixture(scope="session")
def app(new_database, tmp_path_factory):
    from flask_migrate import upgrade

    settings = make_settings(new_database(), tmp_path_factory.mktemp("instance"))
    application = create_app(settings)
    application.config["CLOCK"] = Clock()
    application.test_client_class = ContractClient  # every answer checked against the OpenAPI document
    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        from ancillary.extensions import db

        db.engine.dispose()


class Clock:
    """The instant the app believes it is; tests set and advance it."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, value: datetime | str) -> None:
        self.now = datetime.fromisoformat(value) if isinstance(value, str) else value

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def quiet_22_to_7(app):
    """Quiet hours of 22:00-07:00 (ANCILLARY_QUIET_HOURS) instead of the default 21:00-08:00."""
    from datetime import time

    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = original.with_overrides(quiet_start=time(22, 0), quiet_end=time(7, 0))
    yield app.config["SETTINGS"]
    app.config["SETTINGS"] = original


def waits_until(app, kind: str) -> list[str]:
    """When each outbox message of ``kind`` may go out, as local ISO times."""
    from sqlalchemy import select

    from ancillary.extensions import db
    from ancillary.outbox import Notification

    with app.app_context():
        tz = app.config["SETTINGS"].timezone
        rows = db.session.scalars(select(Notification).where(Notification.kind == kind).order_by(Notification.id))
        times = [row.not_before.astimezone(tz).isoformat() for row in rows]
        db.session.remove()
    return times


@pytest.fixture
def clock(app):
    """The app's clock, at NOW (Monday 2027-01-04 09:30 in Shanghai) for each test."""
    return app.config["CLOCK"]


@pytest.fixture(autouse=True)
def _clean_tables(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    if "in_flight" in app.extensions:  # a live server: let its last requests finish first
        app.extensions["in_flight"].wait_idle()
    app.config["CLOCK"].set(NOW)
    from ancillary.extensions import db

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                from ancillary.custody.models import SQLITE_GUARDS, SQLITE_UNGUARD

                # The custody chain is append-only: lift its guards to empty it between tests.
                for statement in SQLITE_UNGUARD:
                    conn.execute(text(statement))
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
                for statement in SQLITE_GUARDS:
                    conn.execute(text(statement))


@pytest.fixture
def db_session(app):
    from ancillary.extensions import db

    with app.app_context():
        yield db.session
        db.session.remove()


_serial = itertools.count(1)


@dataclass
class Actor:
    """A signed-in user and a client that sends their token."""

    id: int
    username: str
    role: str
    token: str
    client: object

    def _headers(self, headers):
        merged = {"Authorization": f"Bearer {self.token}"}
        merged.update(headers or {})
        return merged

    def get(self, path, headers=None, **kw):
        return self.client.get(path, headers=self._headers(headers), **kw)

    def post(self, path, json=None, headers=None, **kw):
        return self.client.post(path, json=json, headers=self._headers(headers), **kw)

    def patch(self, path, json=None, headers=None, **kw):
        return self.client.patch(path, json=json, headers=self._headers(headers), **kw)

    def delete(self, path, headers=None, **kw):
        return self.client.delete(path, headers=self._headers(headers), **kw)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_actor(app, client):
    """Create a user of ``role`` with a token: ``make_actor("judge")``."""
    from ancillary.auth.services import create_user, issue_token
    from ancillary.extensions import db

    def make(role: str, username: str | None = None, phone: str | None = None, **kw) -> Actor:
        with app.app_context():
            user = create_user(db.session, username=username or f"{role}{next(_serial)}", role=role, phone=phone,
                               actor=None, now=NOW, **kw)
            token, _ = issue_token(db.session, user, now=NOW, lifetime=timedelta(days=3650))
            db.session.commit()
            return Actor(user.id, user.username, role, token, client)

    return make


@pytest.fixture
def court(app, make_actor):
    """A small court: a main courtroom, a tribunal, officers and one clerk of each post."""
    from datetime import time

    from ancillary.extensions import db
    from ancillary.scheduling.services import create_courtroom

    with app.app_context():
        create_courtroom(db.session, name="第一法庭", venue="main", opens=time(8, 30), closes=time(17, 30),
                         actor=None, now=NOW)
        create_courtroom(db.session, name="第一法庭", venue="张村人民法庭", opens=time(8, 30), closes=time(17, 0),
                         actor=None, now=NOW)
        db.session.commit()
    actors = {role: make_actor(role) for role in (
        "intake_clerk", "scheduler", "service_clerk", "file_clerk", "archivist", "follow_up", "judge",
        "enforcement_officer", "court_admin", "contractor_manager", "sysadmin")}
    return Court(actors, make_actor)


class Court:
    def __init__(self, actors, make_actor):
        self.actors = actors
        self.make_actor = make_actor

    def __getitem__(self, role) -> Actor:
        return self.actors[role]

    def case_body(self, **overrides) -> dict:
        n = next(_serial)
        body = {
            "number": f"(2027)鲁1002民初{n}号",
            "kind": "summary",
            "venue": "main",
            "filed_at": "2027-01-04T09:00:00+08:00",
            "judge_id": self["judge"].id,
            "volumes": 2,
            "parties": [
                {"role": "plaintiff", "name": "张三", "id_number": "371002198001010010",
                 "phones": ["13800000001"], "emails": ["zhangsan@example.cn"],
                 "addresses": ["山东省威海市环翠区新威路1号"]},
                {"role": "defendant", "name": "李四", "id_number": "371002198505050024",
                 "phones": ["+8613900000002"],
                 "addresses": [{"text": "山东省威海市环翠区统一路2号", "latitude": 37.51, "longitude": 122.12}]},
            ],
        }
        body.update(overrides)
        return body

    def file_case(self, **overrides) -> dict:
        response = self["intake_clerk"].post("/api/v1/cases", json=self.case_body(**overrides))
        assert response.status_code == 201, response.get_json()
        return response.get_json()
