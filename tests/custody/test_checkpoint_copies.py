"""Checkpoints kept in the object store as well as the local folder, and checked with the public key alone."""

import dataclasses
import json
import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ancillary.config import Settings, SettingsError
from ancillary.custody.checkpoint_sinks import LOG_NAME, CheckpointTaken, StoreSink
from ancillary.custody.checkpoints import _canonical, public_key_hex, sweep
from ancillary.storage import LocalStorage, S3Storage
from tests.conftest import NOW
from tests.custody.conftest import scan
from tests.s3 import BUCKET, s3_client, s3_settings

SEED = bytes(range(32))
OTHER_SEED = bytes(range(100, 132))
PUBLIC = public_key_hex(SEED)


@pytest.fixture
def mirrored(app, tmp_path, monkeypatch, s3_endpoint):
    """The app signing checkpoints into a folder and into the object store (a fresh prefix per test)."""
    client = s3_client(s3_endpoint)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="custody-checkpoints/"):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=item["Key"])
    settings = dataclasses.replace(app.config["SETTINGS"], custody_signing_key=SEED,
                                   custody_checkpoint_dir=tmp_path / "checkpoints", **s3_settings(s3_endpoint))
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    return settings


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["custody", *args])


def _store_object(endpoint, name):
    return s3_client(endpoint).get_object(Bucket=BUCKET, Key=f"custody-checkpoints/{name}")["Body"].read()


def _signed(payload, seed=SEED):
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(_canonical(payload))
    return json.dumps({"payload": payload, "signature": signature.hex()}, sort_keys=True, separators=(",", ":"))


def _bad(result):
    assert result.exit_code == 1, result.output
    return result.output


def test_each_checkpoint_and_its_leaves_are_in_the_object_store_too(app, court, dossiers, mirrored, s3_endpoint):
    scan(court["file_clerk"], dossiers[0]["qr_token"])
    for _ in range(2):
        result = _cli(app, "checkpoint")
        assert result.exit_code == 0 and "the object store" in result.output, result.output
    lines = (mirrored.custody_checkpoint_dir / LOG_NAME).read_text().splitlines()
    assert _store_object(s3_endpoint, "checkpoint-00000002.json").decode() == lines[1]
    assert _store_object(s3_endpoint, "leaves-00000002.json") == (
        mirrored.custody_checkpoint_dir / "leaves-00000002.json").read_bytes()
    for source in ("all", "local", "object-store"):
        result = _cli(app, "verify", "--from", source)
        assert result.exit_code == 0 and "against checkpoint 2" in result.output, result.output
    shutil.rmtree(mirrored.custody_checkpoint_dir)  # an auditor's machine: the object store alone
    assert "against checkpoint 2" in _cli(app, "verify", "--from", "object-store", "--public-key", PUBLIC).output


def test_a_missing_copy_is_named(app, court, dossiers, mirrored, s3_endpoint):
    _cli(app, "checkpoint")
    _cli(app, "checkpoint")
    s3_client(s3_endpoint).delete_object(Bucket=BUCKET, Key="custody-checkpoints/checkpoint-00000002.json")
    report = court["court_admin"].get("/api/v1/custody/verify").get_json()
    assert report["ok"] is False
    assert report["first_bad_event"] == {"id": None, "dossier_id": None, "seq": None, "reason": "checkpoint_missing",
                                         "source": "object_store", "checkpoint": 2}
    assert "对象存储" in report["message"] and "2" in report["message"]
    assert "the object store's checkpoints, checkpoint 2: checkpoint_missing" in _bad(_cli(app, "verify"))
    # The sweep puts the missing copy back from the local log, signature checked.
    assert sweep(None, NOW, mirrored) == {"copied_to_object_store": [2]}
    assert court["court_admin"].get("/api/v1/custody/verify").get_json()["ok"] is True
    log = mirrored.custody_checkpoint_dir / LOG_NAME  # now the local log loses its last line
    log.write_text(log.read_text().splitlines()[0] + "\n")
    bad = court["court_admin"].get("/api/v1/custody/verify").get_json()["first_bad_event"]
    assert (bad["reason"], bad["source"], bad["checkpoint"]) == ("checkpoint_missing", "local", 2)
    assert "the local checkpoint log, checkpoint 2" in _bad(_cli(app, "verify"))


def test_disagreeing_copies_are_named(app, court, dossiers, mirrored):
    _cli(app, "checkpoint")
    log = mirrored.custody_checkpoint_dir / LOG_NAME
    payload = json.loads(log.read_text())["payload"]
    payload["made_at"] = "2026-01-01T00:00:00+00:00"  # validly signed, but not what the store holds
    log.write_text(_signed(payload) + "\n")
    bad = court["court_admin"].get("/api/v1/custody/verify").get_json()["first_bad_event"]
    assert (bad["reason"], bad["checkpoint"]) == ("checkpoint_copies_disagree", 1)
    assert "checkpoint_copies_disagree" in _bad(_cli(app, "verify"))


def test_nothing_in_the_object_store_is_overwritten(s3_endpoint, tmp_path):
    for store in (LocalStorage(tmp_path), S3Storage(bucket=BUCKET, endpoint=s3_endpoint, region="us-east-1",
                                                     access_key="testing", secret_key="testing")):
        store.put_new("custody-checkpoints/probe-once.json", b"first")
        with pytest.raises(FileExistsError):
            store.put_new("custody-checkpoints/probe-once.json", b"second")
        assert store.get("custody-checkpoints/probe-once.json") == b"first"
        sink = StoreSink(store)
        sink.append(90, "line ninety")
        sink.append(90, "line ninety")  # a retry of the same bytes is harmless
        with pytest.raises(CheckpointTaken):
            sink.append(90, "another line ninety")
        assert sink.line(90) == "line ninety"


def test_a_checkpoint_made_while_the_store_is_away_is_copied_later(app, court, dossiers, mirrored, monkeypatch):
    from tests.ops.processes import free_port

    away = dataclasses.replace(mirrored, s3_endpoint=f"http://127.0.0.1:{free_port()}")
    monkeypatch.setitem(app.config, "SETTINGS", away)
    result = _cli(app, "checkpoint")
    assert result.exit_code == 1 and "not written to object store" in result.output, result.output
    assert (mirrored.custody_checkpoint_dir / LOG_NAME).exists()  # the local copy stands
    monkeypatch.setitem(app.config, "SETTINGS", mirrored)
    assert "checkpoint_missing" in _bad(_cli(app, "verify"))
    result = _cli(app, "checkpoint")
    assert "copied to object store: [1]" in result.output and "checkpoint 2" in result.output, result.output
    assert _cli(app, "verify").exit_code == 0


def test_the_public_key_alone_verifies_and_another_key_is_refused(app, court, dossiers, mirrored, monkeypatch):
    assert _cli(app, "public-key").output.strip() == PUBLIC
    scan(court["file_clerk"], dossiers[0]["qr_token"])
    _cli(app, "checkpoint")
    auditor = dataclasses.replace(mirrored, custody_signing_key=None, custody_public_key=PUBLIC)
    monkeypatch.setitem(app.config, "SETTINGS", auditor)
    assert court["court_admin"].get("/api/v1/custody/verify").get_json()["checkpoint"]["number"] == 1
    assert "against checkpoint 1" in _cli(app, "verify").output
    assert _cli(app, "public-key").output.strip() == PUBLIC
    assert _cli(app, "checkpoint").exit_code == 1  # signing needs the private key
    other = public_key_hex(OTHER_SEED)
    output = _bad(_cli(app, "verify", "--public-key", other))
    assert "checkpoint_wrong_key" in output and PUBLIC[:16] in output and other[:16] in output
    # A checkpoint appended by someone holding another key is refused, and its key named.
    log = mirrored.custody_checkpoint_dir / LOG_NAME
    payload = dict(json.loads(log.read_text())["payload"], number=2, key=other)
    with open(log, "a") as out:
        out.write(_signed(payload, OTHER_SEED) + "\n")
    bad = court["court_admin"].get("/api/v1/custody/verify").get_json()
    assert bad["first_bad_event"]["reason"] == "checkpoint_wrong_key"
    assert bad["first_bad_event"]["source"] == "local" and other[:16] in bad["first_bad_event"]["detail"]
    assert "本院的密钥" in bad["message"] and "本地" in bad["message"]
    result = _cli(app, "verify", "--public-key", "not-a-key")
    assert result.exit_code == 2 and "64 hex digits" in result.output


def test_the_public_key_setting_is_checked(tmp_path, monkeypatch):
    monkeypatch.setattr("ancillary.config_env.INSTANCE_DIR", tmp_path)
    auditor = Settings.from_env({"ANCILLARY_CUSTODY_PUBLIC_KEY": PUBLIC.upper(), "ANCILLARY_SECRET_KEY": "x"})
    assert auditor.custody_public_key == PUBLIC and auditor.custody_signing_key is None
    assert not (tmp_path / ".custody_key").exists()  # an auditor's machine makes no signing key
    with pytest.raises(SettingsError, match="64 hex digits"):
        Settings.from_env({"ANCILLARY_CUSTODY_PUBLIC_KEY": "abc", "ANCILLARY_SECRET_KEY": "x"})
    with pytest.raises(SettingsError, match="not the public half"):
        Settings.from_env({"ANCILLARY_CUSTODY_PUBLIC_KEY": PUBLIC, "ANCILLARY_SECRET_KEY": "x",
                           "ANCILLARY_CUSTODY_SIGNING_KEY": OTHER_SEED.hex()})
