"""Evidence files and their rows agree: a photo dated year 1 is a flag, not a 500; a file
reaches storage only once its row is committed; the sweep removes orphans (issue 10, item 7)."""

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.service.conftest import ADDRESS, make_photo

SWEEP_AT = datetime.fromisoformat("2027-01-12T10:00:00+08:00")


@pytest.fixture(autouse=True)
def own_storage(app, tmp_path):
    """A storage folder of this test's own: the sweep counts only what the test made."""
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = original.with_overrides(storage_dir=tmp_path / "storage")
    yield app.config["SETTINGS"].storage_dir
    app.config["SETTINGS"] = original


def files_under(app, folder: str) -> list[str]:
    root = app.config["SETTINGS"].storage_dir
    found = (root / folder).rglob("*") if (root / folder).exists() else []
    return sorted(str(p.relative_to(root)) for p in found if p.is_file())


def staged_files(app) -> list[Path]:
    staging = app.config["SETTINGS"].storage_dir / ".staging"
    return [p for p in staging.rglob("*") if p.is_file()] if staging.exists() else []


def age(path: Path, instant: datetime) -> None:
    os.utime(path, (instant.timestamp(), instant.timestamp()))


def sweep(app, instant: datetime = SWEEP_AT) -> dict:
    from ancillary.jobs import run_sweeps

    results = dict(run_sweeps(app, instant, deliver=False))
    return {"photos": results["ancillary.service.jobs.sweep_orphan_photos"],
            "scans": results["ancillary.archive.services.sweep_orphan_scans"]}


@pytest.mark.parametrize("taken", ["0001:01:01 00:00:00", "9999:12:31 23:59:59", "1970:01:01 00:00:00"])
def test_a_photo_whose_camera_clock_was_never_set_is_kept_and_flagged(app, at_posting, taken):
    response = at_posting.attempt(channel="posting", photo=make_photo(taken=taken, offset=None), address=ADDRESS,
                                  attempted_at="2027-01-12T08:30:00+08:00")
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    attempt = order["attempts"][-1]
    assert "time_invalid" in attempt["flags"] and attempt["photo"]["taken_at"] is None
    assert order["status"] == "served"
    sha = attempt["photo"]["sha256"]
    assert f"service/{sha[:2]}/{sha}.jpg" in files_under(app, "service")
    assert staged_files(app) == []


def test_a_request_that_fails_after_reading_the_photo_leaves_no_file(app, at_posting, monkeypatch):
    from ancillary.service import attempts

    def broken(*args, **kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(attempts, "advance", broken)  # fails after the photo was checked and staged
    before = files_under(app, "service")
    response = at_posting.attempt(channel="posting", photo=make_photo(taken="2027:01:12 08:00:00"), address=ADDRESS,
                                  attempted_at="2027-01-12T08:30:00+08:00")
    assert response.status_code == 500
    assert files_under(app, "service") == before and staged_files(app) == []
    assert at_posting.get()["status"] == "in_progress"


def test_a_refused_commit_leaves_no_file(app, at_posting, monkeypatch):
    """The row and the file go together even when the database refuses at the very end."""
    from flask_sqlalchemy.session import Session
    from sqlalchemy.exc import IntegrityError

    real_commit = Session.commit

    def refusing_commit(session):
        if session.info.get("ancillary.storage.staged"):
            raise IntegrityError("INSERT", {}, Exception("simulated unique violation"))
        return real_commit(session)

    monkeypatch.setattr(Session, "commit", refusing_commit)
    before = files_under(app, "service")
    response = at_posting.attempt(channel="posting", photo=make_photo(taken="2027:01:12 08:01:00"), address=ADDRESS,
                                  attempted_at="2027-01-12T08:30:00+08:00")
    monkeypatch.undo()
    assert response.status_code == 409, response.get_json()
    assert files_under(app, "service") == before and staged_files(app) == []
    assert at_posting.get()["status"] == "in_progress"


@pytest.mark.parametrize("chunk", [500, 1])  # the files found are looked up by key, a chunk at a time
def test_the_sweep_removes_orphans_and_places_files_whose_row_was_committed(app, at_posting, monkeypatch, chunk):
    import importlib

    monkeypatch.setattr(importlib.import_module("ancillary.db"), "IN_CHUNK", chunk)
    response = at_posting.attempt(channel="posting", photo=make_photo(taken="2027:01:12 08:00:00"), address=ADDRESS,
                                  attempted_at="2027-01-12T08:30:00+08:00")
    attempt = response.get_json()["attempts"][-1]
    root = app.config["SETTINGS"].storage_dir
    kept = next(root.glob(f"service/*/{attempt['photo']['sha256']}.jpg"))
    # A process that died between its commit and the move: the file waits in staging.
    crashed = root / ".staging" / "dead" / kept.relative_to(root)
    crashed.parent.mkdir(parents=True)
    os.replace(kept, crashed)
    # Files of requests that died before their commit (or of the old, store-first code).
    stray = root / "service" / "ab" / ("ab" + "0" * 62 + ".jpg")
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"orphan")
    dead_staged = root / ".staging" / "gone" / "service" / "cd" / ("cd" + "1" * 62 + ".jpg")
    dead_staged.parent.mkdir(parents=True)
    dead_staged.write_bytes(b"never committed")
    fresh = root / "service" / "ef" / ("ef" + "2" * 62 + ".jpg")  # a request may be writing it now
    fresh.parent.mkdir(parents=True)
    fresh.write_bytes(b"in flight")
    for path in (crashed, stray, dead_staged):
        age(path, SWEEP_AT - timedelta(hours=2))
    age(fresh, SWEEP_AT - timedelta(minutes=10))

    assert sweep(app)["photos"] == {"recovered": 1, "orphans_removed": 2}
    assert kept.read_bytes() == make_photo(taken="2027:01:12 08:00:00")
    assert not stray.exists() and not dead_staged.exists() and fresh.exists()
    assert staged_files(app) == []
    assert sweep(app)["photos"] == {}  # nothing left to do
    assert sweep(app, SWEEP_AT + timedelta(hours=1))["photos"] == {"orphans_removed": 1}
    assert not fresh.exists() and kept.exists()
