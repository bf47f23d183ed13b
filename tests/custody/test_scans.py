"""Scanning a label by its text: custody moves, replays change nothing, forgeries are refused."""

import re
import threading

from sqlalchemy import func, select, text

from scanners.tokens import Keyring, sign
from tests.conftest import QR_KEYS
from tests.custody.conftest import guards_off, scan


def _events(app):
    from ancillary.custody.models import CustodyEvent
    from ancillary.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CustodyEvent))


def test_receive_moves_custody_to_the_scanner_and_the_chain_verifies(court, dossiers, app):
    clerk = court["file_clerk"]
    response = scan(clerk, dossiers[0]["qr_token"] + "\r\n", location="审判组 3楼 卷宗柜A")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["dossier_id"] == dossiers[0]["id"]
    assert body["holder"]["id"] == clerk.id and body["holder"]["username"] == clerk.username
    assert body["location"] == "审判组 3楼 卷宗柜A"
    assert body["seq"] == 1 and re.fullmatch(r"[0-9a-f]{64}", body["hash"])
    assert body["case_number"].startswith("(2027)") and body["volume"] == 1

    archivist = court["archivist"]
    second = scan(archivist, dossiers[0]["qr_token"], location="档案室").get_json()
    assert second["seq"] == 2 and second["holder"]["id"] == archivist.id

    case = court["file_clerk"].get(f"/api/v1/cases/{dossiers[0]['case_id']}").get_json()
    first = next(d for d in case["dossiers"] if d["id"] == dossiers[0]["id"])
    assert first["holder_id"] == archivist.id and first["location"] == "档案室"

    chain = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert chain["verified"] is True
    assert [(e["seq"], e["action"], e["to_holder"]["id"]) for e in chain["events"]] == [
        (1, "receive", clerk.id), (2, "receive", archivist.id)]
    assert chain["events"][1]["from_holder"]["id"] == clerk.id
    assert chain["events"][1]["prev_hash"] == chain["events"][0]["hash"]
    assert "parties" not in str(chain)


def test_store_keeps_the_holder_and_needs_a_location(court, dossiers):
    clerk = court["file_clerk"]
    scan(clerk, dossiers[0]["qr_token"])
    missing = clerk.post("/api/v1/scans", json={"code": dossiers[0]["qr_token"], "action": "store",
                                                 "client_scan_id": "s-no-location"})
    assert missing.status_code == 422 and missing.get_json()["field"] == "location"
    stored = scan(clerk, dossiers[0]["qr_token"], action="store", location="卷宗库 B-12").get_json()
    assert stored["holder"]["id"] == clerk.id and stored["location"] == "卷宗库 B-12" and stored["seq"] == 2


def test_a_replay_answers_200_with_the_same_body_and_changes_nothing(court, dossiers, app):
    clerk = court["file_clerk"]
    first = scan(clerk, dossiers[0]["qr_token"], client_scan_id="phone-42")
    again = scan(clerk, dossiers[0]["qr_token"], client_scan_id="phone-42")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    assert _events(app) == 1
    # The same id for another dossier is a client bug: refused, not merged.
    other = scan(clerk, dossiers[1]["qr_token"], client_scan_id="phone-42")
    assert other.status_code == 409 and other.get_json()["error"] == "scan_id_reused"
    # Another user may use the same id: ids are per user.
    assert scan(court["archivist"], dossiers[0]["qr_token"], client_scan_id="phone-42").status_code == 201


def test_forged_altered_and_foreign_codes_are_refused_and_nothing_is_written(court, dossiers, app):
    clerk = court["file_clerk"]
    token = dossiers[0]["qr_token"]
    prefix, kid, code, sig = token.split(".")
    altered_sig = f"{prefix}.{kid}.{code}.{('A' if sig[0] != 'A' else 'B') + sig[1:]}"
    other_code = f"{prefix}.{kid}.{dossiers[1]['code']}.{sig}"
    foreign_key = sign(Keyring.parse("K9:someone-elses-secret-123456"), code)
    cases = {
        altered_sig: "forged_label",
        other_code: "forged_label",
        foreign_key: "unknown_key",
        "https://weixin.qq.com/r/abc": "not_a_label",
        "6901234567892": "not_a_label",
        "   \r\n": "empty_code",
        "A" * 5000: "validation_error",
        "": "validation_error",
    }
    for code_text, error in cases.items():
        response = clerk.post("/api/v1/scans", json={"code": code_text, "action": "receive", "client_scan_id": "x1"})
        assert response.status_code == 422, (code_text[:40], response.get_json())
        assert response.get_json()["error"] == error, code_text[:40]
    assert _events(app) == 0


def test_unknown_dossier_archived_dossier_and_bad_fields(court, dossiers, app):
    clerk = court["file_clerk"]
    ghost = sign(Keyring.parse(QR_KEYS), "DS9999999-01")
    assert scan(clerk, ghost).status_code == 404
    for body, field in [
        ({"code": dossiers[0]["qr_token"], "action": "steal"}, "action"),
        ({"code": dossiers[0]["qr_token"], "action": "receive", "location": "x" * 101}, "location"),
        ({"code": dossiers[0]["qr_token"], "action": "receive", "scanned_at": "2027-01-04T09:00:00"}, "scanned_at"),
        ({"code": dossiers[0]["qr_token"], "action": "receive", "scanned_at": "2027-01-05T09:00:00+08:00"},
         "scanned_at"),
        ({"action": "receive"}, "code"),
    ]:
        response = clerk.post("/api/v1/scans", json=body)
        assert response.status_code == 422 and response.get_json()["field"] == field, (body, response.get_json())
    assert clerk.post("/api/v1/scans", data="not json", headers={"Content-Type": "application/json"}
                      ).status_code == 400
    with app.app_context():
        from ancillary.cases.models import Case, CaseStatus
        from ancillary.extensions import db

        case = db.session.get(Case, dossiers[0]["case_id"])
        case.status, case.closed_at = CaseStatus.archived, case.filed_at
        db.session.commit()
    archived = scan(clerk, dossiers[0]["qr_token"])
    assert archived.status_code == 409 and archived.get_json()["error"] == "dossier_archived"
    assert _events(app) == 0


def test_the_same_scan_sent_twice_at_once_makes_one_event(court, dossiers, app):
    clerk = court["file_clerk"]
    results = []
    barrier = threading.Barrier(2)

    def send():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/scans", json={"code": dossiers[0]["qr_token"], "action": "receive",
                                                       "client_scan_id": "flaky-phone-1"},
                                headers={"Authorization": f"Bearer {clerk.token}"})
        results.append((response.status_code, response.get_json()))

    for _ in range(3):  # a few rounds, so the race is really run
        threads = [threading.Thread(target=send) for _ in range(2)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 5 + [201], results
    assert all(body == results[0][1] for _, body in results)
    assert _events(app) == 1


def test_concurrent_scans_of_one_dossier_get_consecutive_links(court, dossiers, app):
    actors = [court["file_clerk"], court["archivist"], court["intake_clerk"], court.make_actor("file_clerk")]
    barrier = threading.Barrier(len(actors))
    statuses = []

    def send(actor):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/scans", json={"code": dossiers[0]["qr_token"], "action": "receive",
                                                       "client_scan_id": f"c-{actor.id}"},
                               headers={"Authorization": f"Bearer {actor.token}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send, args=(a,)) for a in actors]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert statuses == [201] * 4
    chain = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert sorted(e["seq"] for e in chain["events"]) == [1, 2, 3, 4] and chain["verified"]


def test_offline_scans_keep_device_time_and_conflicts_are_flagged(court, dossiers, clock):
    clerk, archivist, intake = court["file_clerk"], court["archivist"], court["intake_clerk"]
    token = dossiers[0]["qr_token"]
    clock.set("2027-01-04T10:00:00+08:00")
    scan(clerk, token, location="审判组")
    clock.set("2027-01-04T11:00:00+08:00")
    scan(archivist, token, location="档案室")
    # The intake clerk's phone was offline: it scanned at 10:30, and sends it now.
    clock.set("2027-01-04T11:30:00+08:00")
    late = scan(intake, token, location="立案大厅", scanned_at="2027-01-04T10:30:00+08:00").get_json()
    assert late["seq"] == 3 and late["conflict"] is True  # the archivist took it from the file clerk, not intake
    chain = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert [e["to_holder"]["id"] for e in chain["events"]] == [clerk.id, intake.id, archivist.id]
    assert chain["events"][1]["happened_at"] == "2027-01-04T10:30:00+08:00"
    assert chain["holder"]["id"] == archivist.id and chain["location"] == "档案室"  # the late scan moved nothing
    assert chain["verified"] is True


def test_the_database_refuses_edits_and_verify_names_the_first_bad_event(court, dossiers, app):
    import pytest
    from sqlalchemy.exc import DatabaseError

    clerk = court["file_clerk"]
    for dossier in dossiers:
        for _ in range(3):
            assert scan(clerk, dossier["qr_token"]).status_code == 201
    admin = court["court_admin"]
    ok = admin.get("/api/v1/custody/verify").get_json()
    assert ok == {"ok": True, "events_checked": 6, "first_bad_event": None, "checkpoint": None}

    from ancillary.extensions import db

    for statement in ("UPDATE custody_events SET location = 'x'", "DELETE FROM custody_events"):
        with app.app_context(), pytest.raises(DatabaseError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))

    target = dossiers[1]["id"]
    with guards_off(app) as conn:
        bad_id = conn.execute(text("SELECT id FROM custody_events WHERE dossier_id = :d AND seq = 2"),
                              {"d": target}).scalar_one()
        conn.execute(text("UPDATE custody_events SET location = '别处' WHERE id = :id"), {"id": bad_id})
    report = admin.get("/api/v1/custody/verify").get_json()
    assert report["ok"] is False
    assert report["first_bad_event"] == {"id": bad_id, "dossier_id": target, "seq": 2, "reason": "content_altered"}
    chain = admin.get(f"/api/v1/dossiers/{target}/custody").get_json()
    assert chain["verified"] is False and chain["first_bad_event"]["id"] == bad_id
    assert admin.get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()["verified"] is True

    runner = app.test_cli_runner()
    result = runner.invoke(args=["custody", "verify"])
    assert result.exit_code == 1
    assert f"event {bad_id}" in result.output and "content_altered" in result.output


def test_a_deleted_tail_and_a_deleted_middle_are_detected(court, dossiers, app):
    clerk = court["file_clerk"]
    for _ in range(3):
        scan(clerk, dossiers[0]["qr_token"])
    admin = court["court_admin"]
    with guards_off(app) as conn:
        conn.execute(text("DELETE FROM custody_events WHERE seq = 3"))
    bad = admin.get("/api/v1/custody/verify").get_json()["first_bad_event"]
    assert bad["dossier_id"] == dossiers[0]["id"] and bad["reason"] == "chain_truncated"
    with guards_off(app) as conn:
        conn.execute(text("DELETE FROM custody_events WHERE seq = 1"))
    bad = admin.get("/api/v1/custody/verify").get_json()["first_bad_event"]
    assert bad["seq"] == 2 and bad["reason"] == "missing_event"
    result = app.test_cli_runner().invoke(args=["custody", "verify"])
    assert result.exit_code == 1


def test_cli_verify_passes_on_a_sound_log(court, dossiers, app):
    scan(court["file_clerk"], dossiers[0]["qr_token"])
    result = app.test_cli_runner().invoke(args=["custody", "verify"])
    assert result.exit_code == 0, result.output
    assert "1 event" in result.output


def test_a_scanner_in_a_german_layout_still_signs_for_the_dossier(court, dossiers):
    """QWERTZ swaps Y and Z: every repair that looks like a token is tried until one verifies."""
    token = dossiers[0]["qr_token"]
    swap = str.maketrans("YZyz", "ZYzy")
    garbled = token.translate(swap) + "\r\n"
    assert garbled.strip() != token, "the test keys give this dossier a token with Y or Z"
    response = scan(court["file_clerk"], garbled)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["dossier_id"] == dossiers[0]["id"]
