"""GET /custody/verify/stream: progress lines as the walk goes, then what GET /custody/verify answers."""

from __future__ import annotations

import json

from sqlalchemy import text

from tests.custody.conftest import guards_off
from tests.custody.test_verify import _build_chains, _event_id


def _lines(client, path="/api/v1/custody/verify/stream"):
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in answer.get_data(as_text=True).splitlines()]


def test_a_sound_court_streams_its_progress_then_the_answer(court, dossiers, app):
    _build_chains(app, court, dossiers)
    admin = court["court_admin"]
    whole = admin.get("/api/v1/custody/verify").get_json()
    lines = _lines(admin)
    total = lines[0]["total"]
    assert lines[0] == {"done": 0, "total": total} and total == whole["events_checked"] > 3
    progress = [line["done"] for line in lines[:-1]]
    assert progress == sorted(progress) and len(progress) > 2 and max(progress) <= total
    assert all(set(line) == {"done", "total"} and line["total"] == total for line in lines[:-1])
    assert lines[-1] == {"done": total, "total": total, "result": whole}
    assert whole["ok"] is True


def test_a_tampered_chain_is_named_at_the_end_of_the_stream(court, dossiers, app):
    a, _, _ = _build_chains(app, court, dossiers)
    with guards_off(app) as conn:
        bad_id = _event_id(conn, a, 2)
        conn.execute(text("UPDATE custody_events SET location = '别处' WHERE id = :id"), {"id": bad_id})
    lines = _lines(court["court_admin"])
    result = lines[-1]["result"]
    assert result["ok"] is False and result["first_bad_event"]["id"] == bad_id
    assert result["message"].startswith("卷宗") and "第2个事件" in result["message"]
    assert lines[-1]["done"] == result["events_checked"] < lines[-1]["total"]  # stopped at the bad event


def test_only_the_management_office_may_run_it(court, dossiers, app):
    for role in ("file_clerk", "contractor_manager", "judge", "sysadmin"):
        assert court[role].get("/api/v1/custody/verify/stream").status_code == 403, role
    assert app.test_client().get("/api/v1/custody/verify/stream").status_code == 401


def test_the_stream_is_described_in_the_openapi_document(court):
    spec = court["court_admin"].get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/custody/verify/stream"]["get"]
    assert "application/x-ndjson" in operation["responses"]["200"]["content"]
