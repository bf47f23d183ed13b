"""On PostgreSQL a plain scan is one statement: the same rows as the read-then-write path, field for field."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from ancillary.custody import scan_once
from ancillary.custody.models import CustodyAction, event_content, event_digest
from tests.custody.conftest import scan

# Locations a person may type: quotes, backslashes, a tab and a new line, CJK and an emoji
# go into the event's canonical JSON escaped exactly as Python's json.dumps escapes them.
_AWKWARD = ['档案室 "B" 区\\3', "tab\there\nand a line", "🗄️ 柜 7", None]


def _series(court, token, clock, tag):
    """Receive, store, a typed code, an offline scan with a device time, a late scan, a replay."""
    clerk, archivist, intake = court["file_clerk"], court["archivist"], court["intake_clerk"]
    answers = []
    clock.set("2027-01-04T10:00:00+08:00")
    answers.append(scan(clerk, token, location=_AWKWARD[0]))
    clock.set("2027-01-04T10:20:00+08:00")
    answers.append(scan(archivist, token, action="store", location=_AWKWARD[1]))
    clock.set("2027-01-04T10:40:00+08:00")
    answers.append(scan(intake, token, location=_AWKWARD[2], scanned_at="2027-01-04T10:35:00+08:00"))
    answers.append(scan(clerk, token, location=None, client_scan_id=f"same-twice-{tag}"))
    answers.append(scan(clerk, token, location=None, client_scan_id=f"same-twice-{tag}"))
    clock.set("2027-01-04T11:00:00+08:00")
    answers.append(scan(archivist, token, location="早先", scanned_at="2027-01-04T10:10:00+08:00"))
    return [(a.status_code, a.get_json()) for a in answers]


def _written(app, dossier_id: int) -> list:
    """The dossier's events and their audit entries as stored, its own id replaced by a name."""
    from ancillary.extensions import db

    with app.app_context():
        events = db.session.execute(text(
            "SELECT e.seq, e.action, e.from_holder_id, e.to_holder_id, e.location, e.device_at, e.server_at, "
            "e.actor_id, CAST(e.details AS text), e.conflict, e.prev_hash, e.hash, a.action, a.actor_id, "
            "a.object_type, a.case_id, CAST(a.before AS text), CAST(a.after AS text), a.at "
            "FROM custody_events e JOIN audit_entries a ON a.object_type = 'custody_events' AND a.object_id = e.id "
            "WHERE e.dossier_id = :d ORDER BY e.seq"), {"d": dossier_id}).all()
        head = db.session.execute(text(
            "SELECT d.holder_id, d.location, d.head_seq, d.head_last_at, h.seq, h.last_at FROM dossiers d "
            "JOIN custody_heads h ON h.dossier_id = d.id WHERE d.id = :d"), {"d": dossier_id}).one()
        db.session.remove()
    return [tuple(str(v).replace(f'"dossier_id": {dossier_id}', '"dossier_id": D') for v in row[:10] + row[12:])
            for row in events], tuple(head), [(row[10], row[11]) for row in events]


def _without_hashes(answers):
    return [(status, {k: v for k, v in body.items() if k not in ("hash", "dossier_id", "code", "volume")})
            for status, body in answers]


def _assert_same_writes(app, dossiers, one, two) -> list:
    """Two series (dossier 0's, then 1's) answered and stored alike; answers the first's hashes."""
    assert _without_hashes(one) == _without_hashes(two)
    assert [status for status, _ in one] == [201, 201, 201, 201, 200, 201]
    rows_one, head_one, hashes_one = _written(app, dossiers[0]["id"])
    rows_two, head_two, _ = _written(app, dossiers[1]["id"])
    assert rows_one == rows_two and head_one == head_two
    return hashes_one


def test_one_statement_writes_what_the_read_then_write_path_writes(court, dossiers, app, clock, monkeypatch):
    if app.config["SETTINGS"].database_url.startswith("sqlite"):
        pytest.skip("SQLite has no data-modifying WITH: its scans read, then write")
    answered, attempt = [], scan_once.attempt
    monkeypatch.setattr(scan_once, "attempt", lambda conn, **kw: answered.append(attempt(conn, **kw)) or answered[-1])
    one = _series(court, dossiers[0]["qr_token"], clock, "one")
    # written in the one statement: all but the replay and the late scan, which go on from its row
    assert [row.event_id is not None for row in answered] == [True, True, True, True, False, False]
    monkeypatch.setattr(scan_once, "read", _plain_read)
    two = _series(court, dossiers[1]["qr_token"], clock, "two")
    hashes_one = _assert_same_writes(app, dossiers, one, two)
    assert [body["hash"] for status, body in one if status == 201] == [h for _, h in hashes_one]
    assert app.test_cli_runner().invoke(args=["custody", "verify"]).exit_code == 0


def _plain_read(session, built, *, code, actor, client_scan_id, **_):
    """The locking read alone, as before the one statement (the caller then writes)."""
    return session.connection().execute(built["read"][bool(client_scan_id)],
                                        {"code": code, "actor_id": actor.id, "scan_id": client_scan_id}).first()


@pytest.mark.parametrize("location", _AWKWARD + ["", "a" * 100, "\u2028 \x7f \u00e9"])
def test_the_pieces_spell_the_canonical_json_event_digest_hashes(location):
    fields = {"action": CustodyAction.store, "actor_id": 7, "client_scan_id": "x\"y", "details": {"entry": "typed"},
              "device_at": datetime(2027, 1, 4, 2, 3, 4, 5, UTC), "location": location,
              "server_at": datetime(2027, 1, 4, 2, 4, tzinfo=UTC)}
    p = scan_once.pieces(**fields)
    spelled = (p["p_dossier"] + "12" + p["p_from"] + "null" + p["p_seq"] + "3" + p["p_to"] + "7" + p["p_prev"]
               + "ab" * 32 + '"}')
    expected = json.dumps({"content": {**fields, "action": "store", "dossier_id": 12,
                                       "from_holder_id": None, "seq": 3, "to_holder_id": 7, "conflict": False,
                                       "device_at": "2027-01-04T02:03:04.000005Z",
                                       "server_at": "2027-01-04T02:04:00.000000Z"},
                           "prev": "ab" * 32}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert spelled == expected
    content = event_content(dossier_id=12, seq=3, from_holder_id=None, to_holder_id=7, conflict=False, **fields)
    assert event_digest(content, "ab" * 32) == hashlib.sha256(spelled.encode()).hexdigest()
