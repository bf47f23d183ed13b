"""A scan's answer is built by hand and its body checked by hand: the documented schema's output,
field for field, and every refusal the same as the schema's."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ancillary.custody import views
from ancillary.custody.models import CustodyEvent
from ancillary.custody.schemas import ScanResultSchema
from tests.custody.conftest import scan, scan_id


def test_the_hand_built_answers_are_the_schemas_dump(court, dossiers, app, clock):
    clerk, token = court["file_clerk"], dossiers[0]["qr_token"]
    first = scan(clerk, token, client_scan_id="same-scan")
    stored = scan(court["archivist"], token, action="store", location="档案室 A-3")
    clock.advance(minutes=5)
    offline = scan(clerk, token, scanned_at="2027-01-04T09:32:00+08:00")
    typed = scan(clerk, dossiers[1]["code"], typed=True)
    replay = scan(clerk, token, client_scan_id="same-scan")
    assert [r.status_code for r in (first, stored, offline, typed, replay)] == [201, 201, 201, 201, 200]
    answers = [r.get_json() for r in (first, stored, offline, typed)]
    assert set(answers[0]) == set(ScanResultSchema().fields)
    assert replay.get_json() == answers[0]
    assert answers[2]["scanned_at"] == "2027-01-04T09:32:00+08:00" and answers[3]["typed"] is True

    with app.test_request_context():
        from ancillary.extensions import db

        events = db.session.scalars(select(CustodyEvent).order_by(CustodyEvent.id)).all()
        assert len(events) == 4
        for event, answer in zip(events, answers, strict=True):
            assert ScanResultSchema().dump(views.scan_body(db.session, event)) == answer


BAD_BODIES = [
    ({"action": "receive"}, 422), ({"code": "x", "action": "steal"}, 422), ({"code": "", "action": "receive"}, 422),
    ({"code": "x" * 4097, "action": "receive"}, 422), ({"code": "x", "action": "receive", "extra": 1}, 422),
    ({"code": "x", "action": "receive", "typed": "maybe"}, 422), ({"code": "x", "action": "receive", "location": ""},
                                                                  422),
    ({"code": "x", "action": "receive", "client_scan_id": "c" * 65}, 422),
    ({"code": "x", "action": "receive", "scanned_at": "2027-01-04T09:00:00"}, 422),
    ({"code": "not a label", "action": "receive"}, 422), ({"code": "DS0000123-01", "action": "receive"}, 422),
    ({"code": "x", "action": "store", "typed": True}, 422), ([], 400),
]


@pytest.mark.parametrize(("body", "status"), BAD_BODIES)
def test_a_refused_scan_is_answered_as_the_schema_answers_it(court, dossiers, monkeypatch, body, status):
    clerk = court["file_clerk"]
    if isinstance(body, dict) and body.get("code") == "DS0000123-01":
        body = {**body, "code": dossiers[0]["qr_token"][:-1] + "A"}  # well formed, wrong signature
    by_hand = clerk.post("/api/v1/scans", json=body)
    monkeypatch.setattr(views, "scan_args", lambda body: None)  # the schema alone, as before
    by_schema = clerk.post("/api/v1/scans", json=body)
    assert by_hand.status_code == by_schema.status_code == status
    assert by_hand.get_json() == by_schema.get_json()
    assert by_hand.get_json()["message"]


def test_a_scan_the_hand_check_accepts_records_what_the_schema_would(court, dossiers, monkeypatch):
    clerk = court["file_clerk"]
    by_hand = scan(clerk, dossiers[0]["qr_token"], location=None, client_scan_id=scan_id()).get_json()
    monkeypatch.setattr(views, "scan_args", lambda body: None)
    by_schema = scan(clerk, dossiers[1]["qr_token"], location=None, client_scan_id=scan_id()).get_json()
    assert by_hand["location"] is None and by_schema["location"] is None
    assert {k for k, v in by_hand.items() if v is None} == {k for k, v in by_schema.items() if v is None}
