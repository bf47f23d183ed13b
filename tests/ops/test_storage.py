"""The storage interface on a folder and on an S3-compatible store (moto's server, over HTTP)."""

from __future__ import annotations

import pytest

from ancillary.service import evidence
from ancillary.storage import LocalStorage, S3Storage, StorageError
from tests.conftest import make_settings
from tests.ops.processes import process_env, run

KEYS = {"ANCILLARY_S3_ACCESS_KEY": "testing", "ANCILLARY_S3_SECRET_KEY": "testing", "ANCILLARY_S3_REGION": "us-east-1"}


def _s3(endpoint, bucket="court-files"):
    return S3Storage(bucket=bucket, endpoint=endpoint, region="us-east-1", access_key="testing", secret_key="testing")


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_file_put_is_read_back_by_another_client(kind, s3_endpoint, tmp_path):
    first, second = ((LocalStorage(tmp_path), LocalStorage(tmp_path)) if kind == "local"
                     else (_s3(s3_endpoint), _s3(s3_endpoint)))
    key = f"archive/{kind}-0123.pdf"
    assert second.get(key) is None and not second.exists(key)
    assert first.put(key, b"%PDF-1.7 scan", "application/pdf") == key
    assert first.put(key, b"%PDF-1.7 scan", "application/pdf") == key  # written again: the same bytes
    assert second.exists(key) and second.get(key) == b"%PDF-1.7 scan"
    second.check()


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs/path", "archive/../../x", "archive", ""])
def test_keys_that_leave_the_store_are_refused(key, tmp_path):
    with pytest.raises(ValueError):
        LocalStorage(tmp_path).put(key, b"x")


def test_service_photos_go_to_the_object_store_only_once_committed(s3_endpoint, tmp_path):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from ancillary import storage

    settings = make_settings("sqlite:///unused.sqlite3", tmp_path, storage_backend="s3", s3_endpoint=s3_endpoint,
                             s3_bucket="court-files", s3_region="us-east-1", s3_access_key="testing",
                             s3_secret_key="testing")
    photo = evidence.Photo(content=b"\xff\xd8 jpeg bytes", sha256="ab" * 32, mime="image/jpeg", extension=".jpg",
                           width=1, height=1)
    storage.install()
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        session.connection()
        rolled_back = storage.stage(session, settings, evidence.storage_key(
            evidence.Photo(content=b"x", sha256="cd" * 32, mime="image/jpeg", extension=".jpg", width=1, height=1)),
            b"x", "image/jpeg")
        session.rollback()
        session.connection()
        key = storage.stage(session, settings, evidence.storage_key(photo), photo.content, photo.mime)
        assert evidence.read_stored(_s3(s3_endpoint), key) is None  # not before the commit
        session.commit()
    engine.dispose()
    assert key == f"service/ab/{'ab' * 32}.jpg"
    assert evidence.read_stored(_s3(s3_endpoint), key) == b"\xff\xd8 jpeg bytes"
    assert not _s3(s3_endpoint).exists(rolled_back)
    assert not (tmp_path / "storage" / "service").exists()  # nothing went to the local folder
    assert not any((tmp_path / "storage" / ".staging").rglob("*.jpg"))
    # The sweep deletes what no row names, in the object store too.
    later = datetime.now(UTC) + timedelta(hours=2)
    assert storage.sweep_orphans(settings, "service", lambda keys: set(), now=later) == {"orphans_removed": 1}
    assert not _s3(s3_endpoint).exists(key)


def test_a_missing_bucket_or_unreachable_store_is_named(s3_endpoint):
    with pytest.raises(StorageError, match="ANCILLARY_S3_BUCKET='no-such-bucket'"):
        _s3(s3_endpoint, bucket="no-such-bucket").check()
    with pytest.raises(StorageError, match="ANCILLARY_S3_ENDPOINT='http://127.0.0.1:9'"):
        _s3("http://127.0.0.1:9").check()


def test_the_scheduler_refuses_to_start_with_an_unreachable_store(tmp_path):
    env = process_env(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path, ANCILLARY_STORAGE="s3",
                      ANCILLARY_S3_ENDPOINT="http://127.0.0.1:9", ANCILLARY_S3_BUCKET="court-files", **KEYS)
    done = run(env, "scheduler", timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ANCILLARY_S3_ENDPOINT" in lines[0] and lines[0].startswith("refusing to start")


@pytest.mark.parametrize("url, named", [
    ("postgresql+psycopg://nobody:wrong@127.0.0.1:9/ancillary", "cannot connect"),
    ("sqlite:////no/such/folder/ancillary.sqlite3", "cannot connect"),
    ("mysql://court@db/ancillary", "must start with"),
])
@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("scheduler",)])
def test_a_wrong_database_url_refuses_to_start_in_one_line(url, named, command, tmp_path):
    done = run(process_env(url, tmp_path), *command, timeout=120)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("refusing to start") and "ANCILLARY_DATABASE_URL" in lines[0] and named in lines[0]


def test_a_file_staged_in_a_refused_savepoint_never_reaches_the_store_and_the_others_do(tmp_path):
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from ancillary import storage

    settings = make_settings("sqlite:///unused.sqlite3", tmp_path)
    storage.install()
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        session.connection()
        with session.begin_nested():
            kept = storage.stage(session, settings, "archive/kept-0001.pdf", b"%PDF-1.7 kept", "application/pdf")
        with pytest.raises(ValueError), session.begin_nested():  # an action refused after staging its file
            refused = storage.stage(session, settings, "archive/refused-0002.pdf", b"%PDF-1.7 no", "application/pdf")
            raise ValueError("refused")
        outside = storage.stage(session, settings, "archive/outside-0003.pdf", b"%PDF-1.7 out", "application/pdf")
        session.commit()
    engine.dispose()
    store = LocalStorage(tmp_path / "storage")
    assert store.get(kept) == b"%PDF-1.7 kept" and store.get(outside) == b"%PDF-1.7 out"
    assert not store.exists(refused)
    assert not any((tmp_path / "storage" / ".staging").rglob("*.pdf"))
