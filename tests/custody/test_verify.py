"""The fast verifier names the same first bad event as the reference one, whatever was tampered."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from ancillary.auth.models import User
from ancillary.cases.models import Dossier
from ancillary.custody.models import CustodyAction
from ancillary.custody.services import append_event
from ancillary.custody.verify import verify_chains
from tests.conftest import NOW
from tests.custody.conftest import guards_off
from tests.custody.reference_verify import verify_chains as reference_verify

ODD_DETAILS = {"z": [1, 2.5, None, True], "a": {"y": "卷宗 \"A\"\n", "b": -0.0}, "pages": 312}
ODD_LOCATION = '档案室 "东" \\ 柜\t3'


def _build_chains(app, court, dossiers):
    """Three chains: plain scans, odd text and details, and an offline scan placed late."""
    from ancillary.extensions import db

    clerk, archivist = court["file_clerk"], court["archivist"]
    third = court.file_case(volumes=1)["dossiers"][0]
    with app.app_context():
        actors = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([clerk.id, archivist.id])))}
        found = {d.id: d for d in db.session.scalars(select(Dossier))}
        plan = [(dossiers[0]["id"], 4, None), (dossiers[1]["id"], 3, ODD_DETAILS), (third["id"], 3, None)]
        for d_id, count, details in plan:
            for n in range(count):
                actor = actors[clerk.id if n % 2 == 0 else archivist.id]
                late = n == 2 and d_id == third["id"]
                append_event(db.session, found[d_id], action=CustodyAction.receive if n % 2 == 0 else
                             CustodyAction.count, actor=actor, now=NOW + timedelta(minutes=10 * n),
                             to_holder_id=actor.id, location=ODD_LOCATION if details else "审判组 3楼",
                             device_at=NOW - timedelta(minutes=5) if late else None,
                             client_scan_id=f"v-{d_id}-{n}", details=details)
        db.session.commit()
    return [dossiers[0]["id"], dossiers[1]["id"], third["id"]]


def _both(app, dossier_id=None):
    from ancillary.extensions import db

    with app.app_context():
        fast = verify_chains(db.session, dossier_id)
        db.session.rollback()
        slow = reference_verify(db.session, dossier_id)
        db.session.rollback()
    return fast, slow


def _event_id(conn, dossier_id, seq):
    return conn.execute(text("SELECT id FROM custody_events WHERE dossier_id = :d AND seq = :s"),
                        {"d": dossier_id, "s": seq}).scalar_one()


TAMPERINGS = {
    "edit_location": ["UPDATE custody_events SET location = '别处' WHERE dossier_id = :b AND seq = 2"],
    "edit_details": ["UPDATE custody_events SET details = '{\"pages\": 311}' WHERE dossier_id = :b AND seq = 3"],
    "edit_holder": ["UPDATE custody_events SET to_holder_id = from_holder_id WHERE dossier_id = :c AND seq = 2"],
    "edit_time": ["UPDATE custody_events SET server_at = server_at + interval '1 second' WHERE dossier_id = :a "
                  "AND seq = 3"],
    "edit_flag": ["UPDATE custody_events SET conflict = NOT conflict WHERE dossier_id = :c AND seq = 3"],
    "delete_middle": ["DELETE FROM custody_events WHERE dossier_id = :b AND seq = 2"],
    "delete_first": ["DELETE FROM custody_events WHERE dossier_id = :a AND seq = 1"],
    "reorder": ["UPDATE custody_events SET seq = 99 WHERE dossier_id = :a AND seq = 2",
                "UPDATE custody_events SET seq = 2 WHERE dossier_id = :a AND seq = 3",
                "UPDATE custody_events SET seq = 3 WHERE dossier_id = :a AND seq = 99"],
    "truncate_tail": ["DELETE FROM custody_events WHERE dossier_id = :c AND seq = 3"],
    "truncate_whole_chain": ["DELETE FROM custody_events WHERE dossier_id = :b"],
    "rewrite_head": ["UPDATE custody_heads SET hash = :zeros WHERE dossier_id = :c"],
    "relink": ["UPDATE custody_events SET prev_hash = :zeros WHERE dossier_id = :c AND seq = 2"],
}


def test_a_sound_log_verifies_the_same_way(court, dossiers, app):
    ids = _build_chains(app, court, dossiers)
    fast, slow = _both(app)
    assert fast == slow and fast.ok and fast.events_checked == 10
    for d_id in ids:
        assert _both(app, d_id)[0] == _both(app, d_id)[1]


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampering_is_named_at_the_same_event(court, dossiers, app, name):
    a, b, c = _build_chains(app, court, dossiers)
    with guards_off(app) as conn:
        sqlite = conn.dialect.name == "sqlite"
        for statement in TAMPERINGS[name]:
            if sqlite:
                statement = statement.replace("server_at + interval '1 second'",
                                              "strftime('%Y-%m-%d %H:%M:%f000', server_at, '+1 second')")
            conn.execute(text(statement), {"a": a, "b": b, "c": c, "zeros": "0" * 64})
    fast, slow = _both(app)
    assert not fast.ok
    assert fast == slow
    for d_id in (a, b, c):
        assert _both(app, d_id)[0] == _both(app, d_id)[1]


def test_the_api_and_the_cli_use_the_fast_verifier(court, dossiers, app):
    a, _, _ = _build_chains(app, court, dossiers)
    with guards_off(app) as conn:
        bad_id = _event_id(conn, a, 2)
        conn.execute(text("UPDATE custody_events SET location = '别处' WHERE id = :id"), {"id": bad_id})
    report = court["court_admin"].get("/api/v1/custody/verify").get_json()
    assert report.pop("message").startswith("卷宗")  # the first bad event in a sentence
    assert report == {"ok": False, "events_checked": 2,
                      "first_bad_event": {"id": bad_id, "dossier_id": a, "seq": 2, "reason": "content_altered"},
                      "checkpoint": None}
    result = app.test_cli_runner().invoke(args=["custody", "verify"])
    assert result.exit_code == 1 and f"event {bad_id}" in result.output


def test_the_database_writes_each_payload_exactly_as_the_reference_does(court, dossiers, app, monkeypatch):
    """Every control character, quote, backslash and non-ASCII text: no event needs the reference path."""
    from ancillary.custody import verify
    from ancillary.extensions import db

    odd = "".join(chr(c) for c in range(1, 32)) + '"\\/\x7f\u2028\u2029\ufeff中文😀'
    clerk = court["file_clerk"]
    with app.app_context():
        actor = db.session.get(User, clerk.id)
        dossier = db.session.get(Dossier, dossiers[0]["id"])
        for n, location in enumerate([odd, odd[::-1], "", None]):
            append_event(db.session, dossier, action=CustodyAction.receive, actor=actor,
                         now=NOW + timedelta(seconds=n, microseconds=7 * n), to_holder_id=actor.id,
                         location=location, client_scan_id=odd[n:n + 20] if n < 2 else None)
        db.session.commit()
    monkeypatch.setattr(verify, "_reference_matches", lambda *a: pytest.fail("the reference path was needed"))
    fast, slow = _both(app)
    assert fast == slow and fast.ok and fast.events_checked == 4
