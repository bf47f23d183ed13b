"""A scanned PDF reaches storage only with its committed archive record; the sweep removes
scans no record names (issue 10, item 7)."""

import os
from datetime import datetime, timedelta

import pytest

from tests.archive.test_archive import PDF, _close, _digitise, _step
from tests.custody.conftest import scan

SWEEP_AT = datetime.fromisoformat("2027-01-12T10:00:00+08:00")


@pytest.fixture
def own_storage(app, tmp_path):
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = original.with_overrides(storage_dir=tmp_path / "storage")
    yield app.config["SETTINGS"].storage_dir
    app.config["SETTINGS"] = original


@pytest.fixture
def bound(court, dossiers):
    """The first dossier of a closed case, received, counted and bound by the archivist."""
    archivist = court["archivist"]
    _close(court, dossiers[0]["case_id"])
    assert scan(archivist, dossiers[0]["qr_token"], location="档案室 收件台").status_code == 201
    assert _step(archivist, dossiers[0]["id"], step="count", material_count=12).status_code == 200
    assert _step(archivist, dossiers[0]["id"], step="bind").status_code == 200
    return dossiers[0]["id"]


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_a_scan_whose_step_fails_leaves_no_file_and_a_committed_one_is_in_place(app, court, bound, own_storage,
                                                                                monkeypatch):
    from ancillary.archive import services

    def broken(*args, **kwargs):
        raise RuntimeError("the chain could not be written")

    with monkeypatch.context() as patched:
        patched.setattr(services, "append_event", broken)  # fails after the PDF was staged
        assert _digitise(court["archivist"], bound).status_code == 500
    assert _files(own_storage) == []
    digitised = _digitise(court["archivist"], bound).get_json()
    assert _files(own_storage) == [f"archive/{digitised['scan_sha256']}.pdf"]
    assert (own_storage / "archive" / f"{digitised['scan_sha256']}.pdf").read_bytes() == PDF


def test_the_sweep_removes_scans_no_record_names(app, court, bound, own_storage):
    from ancillary.jobs import run_sweeps

    digitised = _digitise(court["archivist"], bound).get_json()
    orphan = own_storage / "archive" / ("f" * 64 + ".pdf")
    orphan.write_bytes(b"%PDF-1.4 orphan")
    for path in own_storage.rglob("*.pdf"):
        os.utime(path, ((SWEEP_AT - timedelta(days=1)).timestamp(),) * 2)
    results = dict(run_sweeps(app, SWEEP_AT, deliver=False))
    assert results["ancillary.archive.services.sweep_orphan_scans"] == {"orphans_removed": 1}
    assert _files(own_storage) == [f"archive/{digitised['scan_sha256']}.pdf"]
