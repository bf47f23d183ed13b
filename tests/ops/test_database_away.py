"""A database that goes away mid-service: 503 in Chinese, and the service recovers by itself."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from ancillary import create_app
from tests.conftest import DB_KIND
from tests.ops.tcpproxy import TcpProxy

pytestmark = pytest.mark.skipif(DB_KIND != "postgresql", reason="a database server that can go away")


def test_a_lost_database_answers_503_in_chinese_then_recovers(app, make_actor):
    judge = make_actor("judge")
    url = make_url(app.config["SETTINGS"].database_url)
    proxy = TcpProxy(url.host, url.port)
    settings = app.config["SETTINGS"].with_overrides(
        database_url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    proxied = create_app(settings)
    client = proxied.test_client()
    headers = {"Authorization": f"Bearer {judge.token}"}
    try:
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        proxy.cut()
        for _ in range(3):
            answer = client.get("/api/v1/me", headers=headers)
            assert answer.status_code == 503
            body = answer.get_json()
            assert body["code"] == 503 and body["error"] == "database_unavailable"
            assert body["message"] == "暂时无法连接数据库,请稍后再试。"
            assert answer.headers["Retry-After"] == "1"
        english = client.get("/api/v1/me", headers={**headers, "Accept-Language": "en"})
        assert english.get_json()["message"] == "the database cannot be reached just now; try again in a moment"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.get_json()["checks"]["database"]["ok"] is False
        proxy.restore()
        answer = client.get("/api/v1/me", headers=headers)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["id"] == judge.id
    finally:
        proxy.close()
        with proxied.app_context():
            from ancillary.extensions import db

            db.engine.dispose()


def test_a_connection_that_went_away_while_idle_is_replaced_before_use(app):
    """Pooled connections are pinged only after sitting idle; the one that died is never handed out."""
    import time

    from sqlalchemy import create_engine, event, text

    from ancillary.db import ping_after_idle

    url = make_url(app.config["SETTINGS"].database_url)
    proxy = TcpProxy(url.host, url.port)
    engine = create_engine(url.set(host="127.0.0.1", port=proxy.port), pool_size=1, max_overflow=0)
    ping_after_idle(engine, seconds=0.2)
    connects = []
    event.listen(engine, "connect", lambda *args: connects.append(1))
    try:
        for _ in range(3):  # busy: the same connection, no ping between uses
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar() == 1
        assert len(connects) == 1
        proxy.cut()  # the database restarts while the connection sits in the pool
        proxy.restore()
        time.sleep(0.3)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 2")).scalar() == 2
        assert len(connects) == 2
    finally:
        proxy.close()
        engine.dispose()
