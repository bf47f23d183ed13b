"""Signed checkpoints anchor the custody chains outside the database: a chain rewritten,
deleted or truncated by someone with write access to the database is named."""

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from ancillary.custody.checkpoint_sinks import LOG_NAME, leaves_name
from ancillary.custody.checkpoints import leaf_hash, merkle_root
from ancillary.custody.models import event_digest
from tests.conftest import NOW
from tests.custody.conftest import guards_off, scan

SEED = bytes(range(32))


@pytest.fixture
def anchored(app, tmp_path, monkeypatch):
    """The app with a signing key and a checkpoint folder outside the database."""
    settings = dataclasses.replace(app.config["SETTINGS"], custody_signing_key=SEED,
                                   custody_checkpoint_dir=tmp_path / "checkpoints")
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    monkeypatch.setattr("ancillary.custody.checkpoints.PINNED_BATCH", 2)  # several lookups, as with many chains
    return settings


def _checkpoint(app):
    result = app.test_cli_runner().invoke(args=["custody", "checkpoint"])
    assert result.exit_code == 0, result.output
    return result.output


def _verify(court):
    return court["court_admin"].get("/api/v1/custody/verify").get_json()


def _rewrite(app, dossier_id, seq, location):
    """What an insider with the database file does: edit an event, recompute every later hash and the head."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ancillary.custody.models import CustodyEvent, CustodyHead

    with guards_off(app) as conn:
        session = Session(bind=conn)
        events = session.scalars(select(CustodyEvent).where(CustodyEvent.dossier_id == dossier_id)
                                 .order_by(CustodyEvent.seq)).all()
        prev = "0" * 64
        for event in events:
            if event.seq == seq:
                event.location = location
            event.prev_hash = prev
            event.hash = prev = event_digest(event.content(), prev)
        session.get(CustodyHead, dossier_id).hash = prev
        session.flush()
        session.close()


def test_a_rewritten_chain_passes_the_hash_check_but_not_the_checkpoint(app, court, dossiers, anchored):
    """The finding: drop the guard, edit an event, recompute the chain and its head: verify passed."""
    for dossier in dossiers:
        assert scan(court["file_clerk"], dossier["qr_token"]).status_code == 201
    assert "checkpoint 1" in _checkpoint(app)
    assert _verify(court)["ok"] is True and _verify(court)["checkpoint"]["number"] == 1
    target = dossiers[1]["id"]
    _rewrite(app, target, 1, "伪造的库房")
    from ancillary.custody.services import verify_chains
    from ancillary.extensions import db

    with app.app_context():
        assert verify_chains(db.session).ok  # the chain alone is self-consistent again
        db.session.remove()
    report = _verify(court)
    assert report["ok"] is False
    assert report["first_bad_event"]["dossier_id"] == target
    assert report["first_bad_event"]["reason"] == "chain_rewritten"
    result = app.test_cli_runner().invoke(args=["custody", "verify"])
    assert result.exit_code == 1 and "chain_rewritten" in result.output and f"dossier {target}" in result.output


def test_a_deleted_or_truncated_chain_is_named(app, court, dossiers, anchored):
    clerk = court["file_clerk"]
    for dossier in (dossiers[0], dossiers[0], dossiers[1]):
        scan(clerk, dossier["qr_token"])
    _checkpoint(app)
    first, second = dossiers[0]["id"], dossiers[1]["id"]
    with guards_off(app) as conn:  # cut the tail and move the head back, consistently
        conn.execute(text("DELETE FROM custody_events WHERE dossier_id = :d AND seq = 2"), {"d": first})
        conn.execute(text("UPDATE custody_heads SET seq = 1, hash = (SELECT hash FROM custody_events "
                          "WHERE dossier_id = :d AND seq = 1) WHERE dossier_id = :d"), {"d": first})
    bad = _verify(court)["first_bad_event"]
    assert (bad["dossier_id"], bad["seq"], bad["reason"]) == (first, 2, "chain_truncated")
    with guards_off(app) as conn:  # and the whole of another chain, with its head
        conn.execute(text("DELETE FROM custody_events WHERE dossier_id = :d"), {"d": second})
        conn.execute(text("DELETE FROM custody_heads WHERE dossier_id = :d"), {"d": second})
        conn.execute(text("DELETE FROM custody_events WHERE dossier_id = :d"), {"d": first})
        conn.execute(text("DELETE FROM custody_heads WHERE dossier_id = :d"), {"d": first})
    bad = _verify(court)["first_bad_event"]
    assert (bad["dossier_id"], bad["reason"]) == (first, "chain_deleted")


def test_events_after_the_checkpoint_verify_and_the_next_checkpoint_links_to_it(app, court, dossiers, anchored):
    _checkpoint(app)
    scan(court["file_clerk"], dossiers[0]["qr_token"])
    assert _verify(court)["ok"] is True
    _checkpoint(app)
    lines = (anchored.custody_checkpoint_dir / LOG_NAME).read_text().splitlines()
    import hashlib

    assert json.loads(lines[1])["payload"]["prev"] == hashlib.sha256(lines[0].encode()).hexdigest()


def test_a_forged_or_altered_checkpoint_is_refused(app, court, dossiers, anchored):
    _checkpoint(app)
    log = anchored.custody_checkpoint_dir / LOG_NAME
    record = json.loads(log.read_text())
    record["payload"]["root"] = "00" * 32
    log.write_text(json.dumps(record) + "\n")
    assert _verify(court)["first_bad_event"]["reason"] == "checkpoint_signature_invalid"
    _checkpoint(app)  # a fresh, valid one
    leaves = sorted(anchored.custody_checkpoint_dir.glob("leaves-*.json"))[-1]
    leaves.write_text(leaves.read_text().replace("[", "[ ", 1))
    assert _verify(court)["first_bad_event"]["reason"] == "checkpoint_leaves_missing"


def test_holder_and_location_are_checked_against_the_chain_head(app, court, dossiers, anchored):
    scan(court["file_clerk"], dossiers[0]["qr_token"])
    assert _verify(court)["ok"] is True
    with guards_off(app) as conn:
        conn.execute(text("UPDATE dossiers SET location = '私人住所' WHERE id = :d"), {"d": dossiers[0]["id"]})
    bad = _verify(court)["first_bad_event"]
    assert (bad["dossier_id"], bad["reason"]) == (dossiers[0]["id"], "holder_mismatch")


def test_the_scheduler_signs_a_checkpoint_at_least_hourly(app, court, dossiers, anchored):
    from ancillary.jobs import run_sweeps

    def tick(at):
        return dict(run_sweeps(app, at, ["sweep"], deliver=False)).get("ancillary.custody.checkpoints.sweep")

    assert tick(NOW)["checkpoint"] == 1
    assert tick(NOW + timedelta(minutes=5)) == {}
    assert tick(NOW + timedelta(minutes=60))["checkpoint"] == 2


def test_without_a_key_the_sweep_says_so(app, court):
    from ancillary.custody.checkpoints import sweep

    assert "unsigned" in sweep(None, NOW, app.config["SETTINGS"])
    assert app.test_cli_runner().invoke(args=["custody", "checkpoint"]).exit_code == 1


def test_the_merkle_root_is_rfc_6962s():
    import hashlib

    leaves = [leaf_hash(i, 1, "ab" * 32) for i in range(5)]

    def mth(items):  # RFC 6962 section 2.1, written recursively as the RFC does
        if len(items) == 1:
            return items[0]
        k = 1
        while k * 2 < len(items):
            k *= 2
        return hashlib.sha256(b"\x01" + mth(items[:k]) + mth(items[k:])).digest()

    for n in range(1, 6):
        assert merkle_root(leaves[:n]) == mth(leaves[:n])
    assert merkle_root([]) == hashlib.sha256(b"").digest()


def _last_payload(settings):
    return json.loads((settings.custody_checkpoint_dir / LOG_NAME).read_text().splitlines()[-1])["payload"]


def test_a_checkpoint_reading_only_the_moved_chains_signs_what_a_full_read_signs(app, court, dossiers, anchored):
    """The sweep's checkpoints read only the chains with a new event; a process that kept nothing
    (a restart) reads every head, and both sign the same leaves, root and event count."""
    from ancillary.custody import checkpoint_tree

    checkpoint_tree.forget()
    assert scan(court["file_clerk"], dossiers[1]["qr_token"]).status_code == 201
    with app.app_context():
        from ancillary.custody.checkpoints import sweep
        from ancillary.extensions import db

        assert sweep(db.session, NOW, anchored)["checkpoint"] == 1  # reads every head, and keeps them
        before = _last_payload(anchored)
        assert scan(court["file_clerk"], dossiers[1]["qr_token"], location="档案室").status_code == 201  # moved
        assert scan(court["file_clerk"], dossiers[0]["qr_token"]).status_code == 201  # a new chain
        later = court.file_case(volumes=1)["dossiers"][0]  # a new case's chain
        assert scan(court["file_clerk"], later["qr_token"]).status_code == 201
        sweep(db.session, NOW + timedelta(hours=2), anchored)
        incremental = _last_payload(anchored)
        checkpoint_tree.forget()
        sweep(db.session, NOW + timedelta(hours=4), anchored)
        full = _last_payload(anchored)
        db.session.remove()
    assert incremental["tree_size"] == full["tree_size"] == before["tree_size"] + 2 == 3
    assert incremental["events"] == before["events"] + 3
    assert (incremental["root"], incremental["events"], incremental["leaves"]["sha256"]) == (
        full["root"], full["events"], full["leaves"]["sha256"])
    # The snapshot is the leaves' canonical JSON (sorted keys, no spaces), each chain's head in dossier order.
    snapshot = (anchored.custody_checkpoint_dir / leaves_name(full["number"])).read_bytes()
    leaves = json.loads(snapshot)
    assert snapshot == json.dumps(leaves, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert [leaf[0] for leaf in leaves] == sorted(leaf[0] for leaf in leaves) and len(leaves) == 3
    assert _verify(court)["ok"] is True
