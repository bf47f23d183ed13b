"""/healthz, /readyz and the request log."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import delete

from ancillary import create_app
from ancillary.ops.queries import migration_head
from ancillary.timeutil import utcnow
from tests.conftest import make_settings


def _beat(app, age_seconds: float, *, is_leader=True):
    from ancillary.extensions import db
    from ancillary.ops.models import SchedulerBeat

    with app.app_context():
        at = utcnow() - timedelta(seconds=age_seconds)
        db.session.execute(delete(SchedulerBeat))
        db.session.add(SchedulerBeat(node="host:1", is_leader=is_leader, started_at=at, beat_at=at))
        db.session.commit()
        db.session.remove()


def test_healthz_answers_without_a_token(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.get_json() == {"ok": True}


def test_readyz_names_the_missing_scheduler_in_chinese(app, client):
    answer = client.get("/readyz")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["ready"] is False
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    assert body["checks"]["scheduler"] == {"ok": False, "message": "还没有任何调度程序担任过主调度:请启动 ancillary scheduler。"}


def test_readyz_is_ready_with_a_fresh_heartbeat_and_not_with_an_old_one(app, client):
    period = app.config["SETTINGS"].heartbeat_seconds
    _beat(app, 1)
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["ready"] is True
    _beat(app, 2 * period + 5)
    answer = client.get("/readyz", headers={"Accept-Language": "en"})
    assert answer.status_code == 503
    message = answer.get_json()["checks"]["scheduler"]["message"]
    assert "heartbeat" in message and f"under {2 * period}" in message
    _beat(app, 1, is_leader=False)  # a standby alone is not enough
    assert client.get("/readyz").status_code == 503


def test_readyz_is_503_before_db_upgrade_and_200_after(new_database, tmp_path):
    from flask_migrate import upgrade

    fresh = create_app(make_settings(new_database(), tmp_path))
    client = fresh.test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"] == {"ok": False, "message": "数据库还没有表结构:请运行 ancillary db upgrade。"}
    with fresh.app_context():
        upgrade()
    _beat(fresh, 0)
    answer = client.get("/readyz")
    assert answer.status_code == 200, answer.get_json()
    assert migration_head() in answer.get_json()["checks"]["migrations"]["message"]
    with fresh.app_context():
        from ancillary.extensions import db

        db.engine.dispose()


def test_json_request_log_names_request_user_status_and_duration(app, court, caplog):
    app.config["REQUEST_LOG"] = True
    try:
        with caplog.at_level(logging.INFO, logger="ancillary.request"):
            answer = court["judge"].get("/api/v1/cases", headers={"X-Request-ID": "req-0123456789"})
            court["judge"].get("/api/v1/cases", headers={"X-Request-ID": "bad id <script>"})
    finally:
        app.config["REQUEST_LOG"] = False
    assert answer.headers["X-Request-ID"] == "req-0123456789"
    records = [r.fields for r in caplog.records if getattr(r, "fields", None)]
    first, second = records[-2], records[-1]
    assert first["request_id"] == "req-0123456789" and first["status"] == 200
    assert first["user_id"] == court["judge"].id and first["path"] == "/api/v1/cases"
    assert first["duration_ms"] >= 0
    assert second["request_id"] != "bad id <script>" and len(second["request_id"]) == 32
    from ancillary.ops.requestlog import JsonFormatter

    line = JsonFormatter().format(caplog.records[-1])
    assert json.loads(line)["status"] == 200
