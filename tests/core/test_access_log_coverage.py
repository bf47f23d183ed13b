"""Every read of party data is logged: walk every GET of the OpenAPI document as several
roles, and fail for any answer that shows a party's name, ID number, contact or address
(JSON, text, PDF) without writing an access-log row."""

import re
import shutil
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ancillary.audit.models import AccessLogEntry
from tests.conftest import NOW

# What the court fixture's case body says about its parties.
SENTINELS = ("张三", "李四", "371002198001010010", "371002198505050024", "13800000001", "13900000002",
             "zhangsan@example.cn", "新威路1号", "统一路2号")
ROLES = ("court_admin", "intake_clerk", "scheduler", "judge", "service_clerk", "follow_up", "file_clerk",
         "archivist", "contractor_manager", "enforcement_officer", "sysadmin")


def _log_count(app):
    from ancillary.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AccessLogEntry))
        db.session.remove()
        return count


def _party_notification(app, case_id):
    """What a service SMS to a party looks like in the outbox: the party's name and phone."""
    from ancillary.extensions import db
    from ancillary.outbox import Channel, Notification

    with app.app_context():
        db.session.add(Notification(
            idempotency_key=f"service-sms:{case_id}", recipient_id=None, to_address="+8613900000002",
            channel=Channel.sms, kind="service_sms", body="李四：法院送达通知，请联系 +8613900000002",
            case_id=case_id, not_before=NOW, created_at=NOW))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def world(app, court):
    case = court.file_case()
    admin = court["court_admin"]
    order = admin.get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"][0]
    claimed = court["service_clerk"].post(f"/api/v1/tasks/{order['task_id']}/claim")
    assert claimed.status_code == 200
    court["service_clerk"].post(f"/api/v1/service-orders/{order['id']}/attempts", json={
        "channel": "phone", "outcome": "no_answer", "attempted_at": "2027-01-04T09:20:00+08:00"})
    _party_notification(app, case["id"])
    hearing = court["scheduler"].post("/api/v1/hearings", json={
        "case_id": case["id"], "courtroom_id": admin.get("/api/v1/courtrooms").get_json()[0]["id"],
        "starts_at": "2027-01-08T09:00:00+08:00", "ends_at": "2027-01-08T10:00:00+08:00"}).get_json()
    return {
        "case_id": case["id"], "order_id": order["id"], "task_id": order["task_id"],
        "hearing_id": hearing.get("id", 1), "dossier_id": case["dossiers"][0]["id"],
        "judge_id": court["judge"].id, "user_id": court["judge"].id, "post_id": 1,
    }


def _query(operation, world):
    values = {"case_id": world["case_id"], "from": (NOW - timedelta(days=3)).date().isoformat(),
              "to": (NOW + timedelta(days=10)).date().isoformat(), "limit": "1000"}
    parts = []
    for parameter in operation.get("parameters", []):
        name = parameter["name"]
        if parameter.get("in") != "query" or name not in values:
            continue
        value = values[name]
        if name in ("from", "to") and parameter.get("schema", {}).get("format") == "date-time":
            value = f"{value}T00:00:00%2B08:00"
        parts.append(f"{name}={value}")
    return "?" + "&".join(parts) if parts else ""


def _text(response) -> str:
    if response.mimetype == "application/pdf":
        if not shutil.which("pdftotext"):
            pytest.skip("pdftotext (poppler-utils) is needed to read PDFs")
        result = subprocess.run(["pdftotext", "-", "-"], input=response.get_data(), capture_output=True, check=True)
        return result.stdout.decode()
    if response.mimetype.startswith("image/"):
        return ""
    return response.get_data(as_text=True)


def test_every_answer_showing_party_data_writes_an_access_log_row(app, court, world):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    unlogged, shown = [], set()
    for path, operations in spec["paths"].items():
        if "get" not in operations or not path.startswith("/api/"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: str(world[m.group(1)]), path) + _query(operations["get"], world)
        for role in ROLES:
            before = _log_count(app)
            response = court[role].get(url)
            if response.status_code != 200:
                continue
            body = _text(response)
            if any(sentinel in body for sentinel in SENTINELS):
                shown.add(path)
                if _log_count(app) == before:
                    unlogged.append(f"{role} GET {url}")
    assert unlogged == []
    # The walk did reach the places that carry party data.
    assert {"/api/v1/cases/{case_id}", "/api/v1/notifications", "/api/v1/service-orders/{order_id}"} <= shown
