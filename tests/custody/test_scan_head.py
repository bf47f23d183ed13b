"""The chain's head kept on the dossier's row: scans read it with the lock, verify checks it."""

import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from tests.custody.conftest import guards_off, scan


def _heads(app, dossier_id):
    """(the dossier's copy of its head, custody_heads' record of it)."""
    from ancillary.extensions import db

    with app.app_context():
        copy = db.session.execute(text("SELECT head_seq, head_hash, head_last_at FROM dossiers WHERE id = :d"),
                                  {"d": dossier_id}).one()
        head = db.session.execute(text("SELECT seq, hash, last_at FROM custody_heads WHERE dossier_id = :d"),
                                  {"d": dossier_id}).one()
        db.session.remove()
        return tuple(copy), tuple(head)


def _verify(app):
    return app.test_cli_runner().invoke(args=["custody", "verify"])


def test_every_kind_of_scan_keeps_the_copy_equal_to_the_head(court, dossiers, app, clock):
    clerk, archivist = court["file_clerk"], court["archivist"]
    token = dossiers[0]["qr_token"]
    clock.set("2027-01-04T10:00:00+08:00")
    first = scan(clerk, token).get_json()
    assert _heads(app, dossiers[0]["id"])[0][:2] == (1, first["hash"])
    clock.set("2027-01-04T11:00:00+08:00")
    scan(archivist, token, action="store", location="档案室")
    clock.set("2027-01-04T11:30:00+08:00")
    late = scan(court["intake_clerk"], token, location="立案大厅", scanned_at="2027-01-04T10:30:00+08:00")
    assert late.status_code == 201 and late.get_json()["seq"] == 3
    copy, head = _heads(app, dossiers[0]["id"])
    assert copy == head and copy[0] == 3
    assert _verify(app).exit_code == 0


def test_a_changed_or_missing_copy_is_named_by_verify(court, dossiers, app):
    for dossier in dossiers:
        scan(court["file_clerk"], dossier["qr_token"])
    assert _verify(app).exit_code == 0
    with guards_off(app) as conn:
        conn.execute(text("UPDATE dossiers SET head_hash = :z WHERE id = :d"), {"z": "0" * 64, "d": dossiers[1]["id"]})
    result = _verify(app)
    assert result.exit_code == 1 and "head_mismatch" in result.output and f"dossier {dossiers[1]['id']}" in result.output
    with guards_off(app) as conn:
        conn.execute(text("UPDATE dossiers SET head_seq = NULL, head_hash = NULL, head_last_at = NULL"))
    result = _verify(app)
    assert result.exit_code == 1 and f"dossier {dossiers[0]['id']}" in result.output


def test_a_copy_that_waited_for_the_lock_is_answered_as_the_replay_it_is(court, dossiers, app):
    """Two copies of one scan queue behind a third party's lock on the dossier: one event."""
    from ancillary.extensions import db

    clerk, results = court["file_clerk"], []

    def send():
        response = app.test_client().post("/api/v1/scans", json={
            "code": dossiers[0]["qr_token"], "action": "receive", "client_scan_id": "queued-1"},
            headers={"Authorization": f"Bearer {clerk.token}"})
        results.append((response.status_code, response.get_json()))

    with app.app_context(), db.engine.connect() as holder:
        postgres = holder.dialect.name == "postgresql"
        with holder.begin():
            holder.execute(text("SELECT id FROM dossiers WHERE id = :d" + (" FOR UPDATE" if postgres else "")),
                           {"d": dossiers[0]["id"]})
            threads = [threading.Thread(target=send) for _ in range(2)]
            [t.start() for t in threads]
            if postgres:  # both copies have read, and wait for the row lock
                with db.engine.connect() as watcher:
                    while watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type "
                                               "= 'Lock' AND query LIKE '%FOR UPDATE OF dossiers%'")).scalar() < 2:
                        watcher.rollback()
            else:
                threads[0].join(0.2)
    [t.join() for t in threads]
    assert sorted(status for status, _ in results) == [200, 201], results
    assert results[0][1] == results[1][1]
    with app.app_context():
        from ancillary.custody.models import CustodyEvent

        assert db.session.scalar(select(func.count()).select_from(CustodyEvent)) == 1
        db.session.remove()
    assert _verify(app).exit_code == 0


def test_a_step_after_a_scan_in_one_transaction_follows_on(court, dossiers, app, clock):
    """A scan writes past the ORM: a dossier object held in the same session is refreshed, not stale."""
    from ancillary.auth.models import User
    from ancillary.cases.models import Dossier
    from ancillary.custody.models import CustodyAction
    from ancillary.custody.services import append_event
    from ancillary.custody.services import scan as scan_service
    from ancillary.extensions import db

    with app.app_context():
        settings = app.config["SETTINGS"]
        archivist = db.session.get(User, court["archivist"].id)
        dossier = db.session.get(Dossier, dossiers[0]["id"])
        now = app.config["CLOCK"]()
        scan_service(db.session, keyring=settings.qr_keyring, code=dossier.qr_token, action="receive",
                     location="档案室", client_scan_id=None, device_at=None, actor=archivist, now=now)
        assert dossier.holder_id == archivist.id and dossier.head_seq == 1
        event = append_event(db.session, dossier, action=CustodyAction.count, actor=archivist, now=now,
                             to_holder_id=archivist.id, location="档案室", details={"material_count": 12})
        assert (event.seq, event.from_holder_id) == (2, archivist.id)
        db.session.commit()
        db.session.remove()
    assert _verify(app).exit_code == 0


@pytest.fixture
def scratch_app(new_database, tmp_path):
    from ancillary import create_app
    from ancillary.extensions import db
    from tests.conftest import make_settings

    app = create_app(make_settings(new_database(), tmp_path))
    yield app
    with app.app_context():
        db.engine.dispose()


def test_the_migration_fills_the_copy_from_the_heads(scratch_app):
    from ancillary.extensions import db

    with scratch_app.app_context():
        upgrade(revision="0014")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, username, display_name, role, is_active, is_president, created_at)"
                " VALUES (1, 'judge', 'Judge', 'judge', true, false, '2027-01-04 01:00:00+00')"))
            conn.execute(text(
                "INSERT INTO cases (id, number, kind, venue, filed_at, judge_id, volumes, status, deadline_at, "
                "mediation_likely, created_by_id, created_at) VALUES (1, 'N1', 'summary', 'main', "
                "'2027-01-04 01:00:00+00', 1, 2, 'open', '2027-04-04 01:00:00+00', false, 1, "
                "'2027-01-04 01:00:00+00')"))
            conn.execute(text("INSERT INTO dossiers (id, case_id, volume, code, qr_token, created_at) VALUES "
                              "(1, 1, 1, 'DS1', 't1', '2027-01-04 01:00:00+00'), "
                              "(2, 1, 2, 'DS2', 't2', '2027-01-04 01:00:00+00')"))
            conn.execute(text("INSERT INTO custody_heads (dossier_id, seq, hash, last_at) "
                              "VALUES (1, 7, :h, '2027-01-05 02:00:00+00')"), {"h": "ab" * 32})
        upgrade(revision="0015")
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, head_seq, head_hash FROM dossiers ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 7, "ab" * 32), (2, None, None)]


def test_a_scan_leaves_one_audit_entry_and_its_replay_none(court, dossiers, app):
    from ancillary.audit.models import AuditEntry
    from ancillary.custody.models import CustodyEvent
    from ancillary.extensions import db

    clerk = court["file_clerk"]
    first = scan(clerk, dossiers[0]["qr_token"], action="store", location="档案室 A-3", client_scan_id="audit-1")
    again = scan(clerk, dossiers[0]["qr_token"], action="store", location="档案室 A-3", client_scan_id="audit-1")
    assert (first.status_code, again.status_code) == (201, 200)
    with app.app_context():
        event = db.session.scalars(select(CustodyEvent)).one()
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("custody.%"))).all()
        assert [(e.action, e.object_type, e.object_id, e.case_id, e.actor_id) for e in entries] == [
            ("custody.store", "custody_events", event.id, dossiers[0]["case_id"], clerk.id)]
        assert entries[0].after == {"dossier_id": dossiers[0]["id"], "seq": 1, "to_holder_id": clerk.id,
                                    "location": "档案室 A-3", "conflict": False}
        assert entries[0].at == event.server_at
        db.session.remove()
