"""The court's chains verified in dossier ranges at once give the report one walk gives,
wherever the tampering is: in the first range, the last, or several at once."""

from __future__ import annotations

import dataclasses
import os

import pytest
from sqlalchemy import text

from ancillary.custody.verify import MAX_WORKERS, default_workers, verify_chains
from tests.custody.conftest import EVENTS, guards_off

WORKERS = 3  # six dossiers (the ``chains`` fixture): three ranges of two


def _verify(app, workers, **options):
    from ancillary.extensions import db

    with app.app_context():
        try:
            return verify_chains(db.session, workers=workers, holders=True, **options)
        finally:
            db.session.rollback()


def _both(app):
    """The same check with ranges at once and as one walk; both answers, which must agree."""
    parallel, serial = _verify(app, WORKERS), _verify(app, 1)
    assert parallel == serial
    return parallel


def _tamper(app, *statements, **params):
    with guards_off(app) as conn:
        for statement in statements:
            conn.execute(text(statement), params)


def _event_id(app, dossier_id, seq):
    from ancillary.extensions import db

    with app.app_context():
        return db.session.execute(text("SELECT id FROM custody_events WHERE dossier_id = :d AND seq = :s"),
                                  {"d": dossier_id, "s": seq}).scalar_one()


def test_a_sound_court_verifies_in_ranges_as_in_one_walk(app, chains):
    result = _both(app)
    assert result.ok and result.events_checked == 6 * EVENTS


def test_a_tampered_event_in_the_last_range_is_found(app, chains):
    last = chains[-1]
    bad_id = _event_id(app, last, 2)
    _tamper(app, "UPDATE custody_events SET location = '别处' WHERE id = :id", id=bad_id)
    result = _both(app)
    assert not result.ok
    assert result.first_bad_event.as_dict() == {"id": bad_id, "dossier_id": last, "seq": 2,
                                                "reason": "content_altered"}
    assert result.events_checked == 5 * EVENTS + 2  # every earlier chain, then up to the bad event


def test_a_tampered_event_in_the_first_range_is_found(app, chains):
    first = chains[0]
    bad_id = _event_id(app, first, 1)
    _tamper(app, "UPDATE custody_events SET location = '别处' WHERE id = :id", id=bad_id)
    result = _both(app)
    assert (result.first_bad_event.event_id, result.first_bad_event.reason) == (bad_id, "content_altered")
    assert result.events_checked == 1


def test_when_several_ranges_are_tampered_the_first_in_dossier_order_is_named(app, chains):
    _tamper(app, "DELETE FROM custody_events WHERE dossier_id = :last AND seq = 3",
            "UPDATE custody_events SET prev_hash = :zeros WHERE dossier_id = :middle AND seq = 2",
            last=chains[-1], middle=chains[2], zeros="0" * 64)
    result = _both(app)
    assert (result.first_bad_event.dossier_id, result.first_bad_event.reason) == (chains[2], "broken_link")
    assert result.events_checked == 2 * EVENTS + 2


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_deleted_tail_or_chain_is_found_in_any_range(app, chains, where):
    target = chains[0] if where == "first" else chains[-1]
    _tamper(app, "DELETE FROM custody_events WHERE dossier_id = :d", d=target)
    result = _both(app)
    assert result.first_bad_event.as_dict() == {"id": None, "dossier_id": target, "seq": 1,
                                                "reason": "chain_truncated"}


def test_a_broken_chain_is_named_before_an_earlier_holder_mismatch(app, chains):
    """As one walk does: every chain first, then the holders."""
    _tamper(app, "UPDATE dossiers SET location = '不明' WHERE id = :first", first=chains[0])
    _tamper(app, "UPDATE custody_heads SET hash = :zeros WHERE dossier_id = :last", last=chains[-1], zeros="0" * 64)
    result = _both(app)
    assert (result.first_bad_event.dossier_id, result.first_bad_event.reason) == (chains[-1], "head_mismatch")
    _tamper(app, "UPDATE custody_heads SET hash = (SELECT hash FROM custody_events WHERE dossier_id = :last "
                 "AND seq = 3) WHERE dossier_id = :last", last=chains[-1])
    result = _both(app)
    assert result.first_bad_event.as_dict() == {"id": None, "dossier_id": chains[0], "seq": EVENTS,
                                                "reason": "holder_mismatch"}


def test_progress_counts_up_in_steps_and_a_reader_who_leaves_stops_every_range(app, chains):
    seen = []
    result = _verify(app, WORKERS, progress=seen.append, every=4)
    assert result.ok and seen == [4, 8, 12, 16]

    class Left(Exception):
        pass

    def leave(done):
        raise Left

    with pytest.raises(Left):
        _verify(app, WORKERS, progress=leave, every=1)


def test_the_cli_takes_the_number_of_workers(app, chains):
    runner = app.test_cli_runner()
    for workers in ("1", "3"):
        result = runner.invoke(args=["custody", "verify", "--workers", workers])
        assert result.exit_code == 0 and "18 event(s) checked" in result.output, result.output
    refused = runner.invoke(args=["custody", "verify", "--workers", "0"])
    assert refused.exit_code == 2 and "--workers" in refused.output


def test_the_setting_is_checked(app):
    from ancillary.config import Settings, SettingsError

    with pytest.raises(SettingsError, match="ANCILLARY_CUSTODY_VERIFY_WORKERS"):
        Settings.from_env({**_env(app), "ANCILLARY_CUSTODY_VERIFY_WORKERS": "many"})
    assert Settings.from_env({**_env(app), "ANCILLARY_CUSTODY_VERIFY_WORKERS": "4"}).custody_verify_workers == 4


def test_the_api_uses_the_configured_workers(app, court, chains, monkeypatch):
    settings = dataclasses.replace(app.config["SETTINGS"], custody_verify_workers=WORKERS)
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    bad_id = _event_id(app, chains[-1], 3)
    _tamper(app, "UPDATE custody_events SET location = '别处' WHERE id = :id", id=bad_id)
    report = court["court_admin"].get("/api/v1/custody/verify").get_json()
    assert report["first_bad_event"] == {"id": bad_id, "dossier_id": chains[-1], "seq": 3,
                                         "reason": "content_altered"}
    assert report["events_checked"] == 6 * EVENTS


def _env(app) -> dict:
    settings = app.config["SETTINGS"]
    return {"ANCILLARY_DATABASE_URL": settings.database_url, "ANCILLARY_SECRET_KEY": "x" * 32,
            "ANCILLARY_QR_KEYS": "K1:test-secret-0123456789abcdef"}


def test_one_dossier_is_still_checked_alone(app, chains):
    from ancillary.extensions import db

    with app.app_context():
        result = verify_chains(db.session, chains[3], workers=WORKERS)
    assert result.ok and result.events_checked == EVENTS


def test_by_default_both_databases_walk_a_range_per_core():
    # PostgreSQL: connections in threads; SQLite: processes (Python hashes there).
    for dialect in ("sqlite", "postgresql"):
        assert default_workers(dialect) == max(1, min(MAX_WORKERS, os.cpu_count() or 1))
