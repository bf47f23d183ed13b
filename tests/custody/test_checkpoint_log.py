"""custody verify walks the local checkpoint log along its prev links: an earlier line edited,
removed or reordered is named, though the newest line and its copies still verify."""

import dataclasses
import json

import pytest

from ancillary.custody.checkpoint_sinks import LOG_NAME
from ancillary.custody.verify_log import first_broken_link
from tests.custody.conftest import scan

SEED = bytes(range(32))


@pytest.fixture
def log(app, tmp_path, monkeypatch, court, dossiers):
    """Three signed checkpoints of a scanned dossier; the log file."""
    settings = dataclasses.replace(app.config["SETTINGS"], custody_signing_key=SEED,
                                   custody_checkpoint_dir=tmp_path / "checkpoints")
    monkeypatch.setitem(app.config, "SETTINGS", settings)
    for _ in range(3):
        assert scan(court["file_clerk"], dossiers[0]["qr_token"]).status_code in (200, 201)
        result = app.test_cli_runner().invoke(args=["custody", "checkpoint"])
        assert result.exit_code == 0, result.output
    return tmp_path / "checkpoints" / LOG_NAME


def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def _write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def test_a_sound_log_verifies(court, log):
    report = court["court_admin"].get("/api/v1/custody/verify").get_json()
    assert report["ok"] is True and report["checkpoint"]["number"] == 3


@pytest.mark.parametrize("change", ["edit", "remove", "swap"])
def test_an_earlier_line_changed_is_named_at_the_checkpoint_after_it(app, court, log, change):
    lines = _lines(log)
    if change == "edit":
        record = json.loads(lines[1])
        record["payload"]["made_at"] = "2020-01-01T00:00:00+00:00"
        lines[1] = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    elif change == "remove":
        del lines[1]
    else:
        lines[0], lines[1] = lines[1], lines[0]
    _write(log, lines)
    report = court["court_admin"].get("/api/v1/custody/verify").get_json()
    assert report["ok"] is False
    bad = report["first_bad_event"]
    assert (bad["reason"], bad["source"], bad["dossier_id"]) == ("checkpoint_log_broken", "local", None)
    assert bad["checkpoint"] == (2 if change == "swap" else 3)
    assert report["message"].startswith("本地文件夹中的检查点日志") and "被改动、删除或调换了顺序" in report["message"]
    result = app.test_cli_runner().invoke(args=["custody", "verify"])
    assert result.exit_code == 1 and "checkpoint_log_broken" in result.output


def test_lines_that_are_no_checkpoints_are_named_by_position():
    assert first_broken_link([]) is None
    assert first_broken_link(["not json"]) == 1
    assert first_broken_link([json.dumps({"payload": {"number": 1, "prev": None}}), "{}"]) == 2
