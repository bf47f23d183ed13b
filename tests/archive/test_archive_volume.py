"""A volume archived in one go writes exactly what its four steps one by one write."""

import pytest
from sqlalchemy import select

from ancillary.archive.models import ArchiveRecord
from ancillary.archive.services import archive_volume, record_step
from ancillary.audit.models import AuditEntry
from ancillary.auth.models import User
from ancillary.cases.models import Case, Dossier
from ancillary.custody.models import CustodyEvent, CustodyHead
from ancillary.custody.services import verify_chains
from ancillary.errors import Invalid
from ancillary.extensions import db
from tests.archive.test_archive import PDF, _close
from tests.custody.conftest import scan

RECORD = ("material_count", "counted_at", "bound_at", "scan_sha256", "scan_bytes", "scan_path", "digitised_at",
          "archive_location", "archived_at", "archivist_id")
EVENT = ("seq", "action", "from_holder_id", "to_holder_id", "location", "device_at", "server_at", "actor_id",
         "details", "conflict")


def _written(dossier_id):
    """What the archive wrote for one volume, without the ids that differ between two volumes."""
    rec = db.session.scalar(select(ArchiveRecord).where(ArchiveRecord.dossier_id == dossier_id))
    events = db.session.scalars(select(CustodyEvent).where(CustodyEvent.dossier_id == dossier_id)
                                .order_by(CustodyEvent.seq)).all()
    audits = db.session.scalars(select(AuditEntry).where(
        AuditEntry.object_type == CustodyEvent.__tablename__,
        AuditEntry.object_id.in_([e.id for e in events])).order_by(AuditEntry.id)).all()
    head, dossier = db.session.get(CustodyHead, dossier_id), db.session.get(Dossier, dossier_id)
    return {"record": [getattr(rec, name) for name in RECORD],
            "events": [[getattr(e, name) for name in EVENT] for e in events],
            "ids_ascending": [e.id for e in events] == sorted(e.id for e in events),
            "prev_links": [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]],
            "audits": [(a.action, a.actor_id, a.at, a.case_id, {k: v for k, v in a.after.items() if k != "dossier_id"})
                       for a in audits],
            "audits_name_events": [a.object_id for a in audits] == [e.id for e in events],
            "dossier": (dossier.holder_id, dossier.location, dossier.head_seq, dossier.head_last_at),
            "head_matches": (head.seq, head.hash) == (dossier.head_seq, dossier.head_hash) == (events[-1].seq,
                                                                                                events[-1].hash)}


def test_archiving_a_volume_in_one_go_writes_what_the_four_steps_write(court, dossiers, clock, app):
    archivist = court["archivist"]
    _close(court, dossiers[0]["case_id"])
    for dossier in dossiers:
        assert scan(archivist, dossier["qr_token"], location="档案室").status_code == 201
    one_by_one, at_once = dossiers[0]["id"], dossiers[1]["id"]
    with app.app_context():
        actor, now, settings = db.session.get(User, archivist.id), clock.now, app.config["SETTINGS"]
        dossier = db.session.get(Dossier, one_by_one)
        for step, values in (("count", {"material_count": 77}), ("bind", {}), ("digitise", {"pdf": PDF}),
                             ("archive", {"archive_location": "档案库07柜"})):
            record_step(db.session, dossier, step, actor=actor, now=now, settings=settings, **values)
        db.session.commit()
        assert db.session.get(Case, dossiers[0]["case_id"]).status.value == "closed"  # one volume left
        archive_volume(db.session, db.session.get(Dossier, at_once), actor=actor, now=now, settings=settings,
                       material_count=77, pdf=PDF, archive_location="档案库07柜")
        db.session.commit()
        first, second = _written(one_by_one), _written(at_once)
        assert first == second
        assert [e[1].value for e in second["events"]] == ["receive", "count", "bind", "digitise", "archive"]
        assert all(second[k] for k in ("ids_ascending", "prev_links", "audits_name_events", "head_matches"))
        assert db.session.get(Case, dossiers[0]["case_id"]).status.value == "archived"
        assert verify_chains(db.session).ok
        db.session.remove()
    chain = court["court_admin"].get(f"/api/v1/dossiers/{at_once}/custody").get_json()
    assert chain["verified"] and chain["location"] == "档案库07柜"


@pytest.mark.parametrize(("changes", "field"), [({"material_count": None}, "material_count"),
                                                ({"pdf": b"GIF89a"}, "file"), ({"archive_location": ""},
                                                                                "archive_location")])
def test_a_volume_refused_in_one_go_writes_nothing(court, dossiers, clock, app, changes, field):
    archivist = court["archivist"]
    _close(court, dossiers[0]["case_id"])
    assert scan(archivist, dossiers[0]["qr_token"], location="档案室").status_code == 201
    with app.app_context():
        actor = db.session.get(User, archivist.id)
        values = {"material_count": 30, "pdf": PDF, "archive_location": "档案库01柜", **changes}
        with pytest.raises(Invalid) as refused:
            archive_volume(db.session, db.session.get(Dossier, dossiers[0]["id"]), actor=actor, now=clock.now,
                           settings=app.config["SETTINGS"], **values)
        assert refused.value.field == field
        db.session.rollback()
        assert db.session.scalar(select(ArchiveRecord).where(ArchiveRecord.dossier_id == dossiers[0]["id"])) is None
        assert db.session.get(CustodyHead, dossiers[0]["id"]).seq == 1
        db.session.remove()
