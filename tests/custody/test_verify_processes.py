"""On SQLite the ranges are walked in processes of their own, each on one read snapshot: the
report is the one a single walk gives, and when the ranges could disagree (their snapshots
differ, or an event needs the reference functions) the court is walked once instead."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from ancillary.custody import verify, verify_processes
from tests.conftest import DB_KIND
from tests.custody.conftest import EVENTS
from tests.custody.test_verify_parallel import WORKERS, _both, _event_id, _tamper, _verify

pytestmark = pytest.mark.skipif(DB_KIND != "sqlite", reason="processes walk SQLite files only")


@pytest.fixture
def started(monkeypatch):
    """The walker processes started (each range's task), and no range walked in a thread."""
    tasks = []
    real = verify_processes._Range.__init__

    def spy(self, index, task):
        tasks.append(task)
        real(self, index, task)

    monkeypatch.setattr(verify_processes._Range, "__init__", spy)
    monkeypatch.setattr(verify, "run_ranges", lambda *a, **k: pytest.fail("a range was walked in a thread"))
    return tasks


def test_a_sound_court_is_walked_in_one_process_per_range(app, chains, started):
    result = _verify(app, WORKERS)
    assert result.ok and result.events_checked == 6 * EVENTS
    assert len(started) == WORKERS and all(t["database"].endswith("?mode=ro") for t in started)


def test_tampering_in_a_middle_range_is_named_as_one_walk_names_it(app, chains, started):
    bad_id = _event_id(app, chains[3], 2)
    _tamper(app, "UPDATE custody_events SET location = '别处' WHERE id = :id", id=bad_id)
    result = _both(app)
    assert result.first_bad_event.as_dict() == {"id": bad_id, "dossier_id": chains[3], "seq": 2,
                                                "reason": "content_altered"}
    assert result.events_checked == 3 * EVENTS + 2 and len(started) == WORKERS


def test_an_event_only_the_reference_can_hash_makes_it_one_walk(app, chains, started):
    """Details with content: the walker cannot say, so the court is walked once, here."""
    bad_id = _event_id(app, chains[4], 1)
    _tamper(app, """UPDATE custody_events SET details = '{"entry": "typed"}' WHERE id = :id""", id=bad_id)
    result = _both(app)
    assert result.first_bad_event.as_dict() == {"id": bad_id, "dossier_id": chains[4], "seq": 1,
                                                "reason": "content_altered"}
    assert len(started) == WORKERS


def test_ranges_that_saw_different_snapshots_are_walked_again_once(app, chains, monkeypatch):
    """If events were written between two ranges' starts, the newest ids differ: one walk answers."""
    real = verify_processes._Range.take
    told = iter(range(100))

    def take(self, line):
        if line.startswith("newest "):
            line = f"newest {json.dumps(next(told))}\n"  # as if each range started after another write
        real(self, line)

    monkeypatch.setattr(verify_processes._Range, "take", take)
    walked_once = []
    real_range = verify.check_range
    monkeypatch.setattr(verify, "check_range", lambda *a, **k: walked_once.append(1) or real_range(*a, **k))
    seen = []
    result = _verify(app, WORKERS, progress=seen.append, every=6)
    assert result.ok and result.events_checked == 6 * EVENTS and walked_once == [1]
    assert seen == sorted(set(seen)) and seen[-1] == 18  # progress never counts back


def test_a_walker_that_fails_is_reported_not_hidden(app, chains, monkeypatch):
    monkeypatch.setattr(verify_processes, "WALKER", verify_processes.WALKER.with_name("no_such_walker.py"))
    with pytest.raises(RuntimeError, match=r"custody verify range \d failed .*no_such_walker"):
        _verify(app, WORKERS)


def test_a_memory_database_or_a_uri_is_not_given_to_processes():
    from sqlalchemy.engine import make_url

    assert verify_processes.sqlite_file(make_url("sqlite://")) is None
    assert verify_processes.sqlite_file(make_url("sqlite:///x.db?uri=true")) is None
    assert verify_processes.sqlite_file(make_url("sqlite:////tmp/a b#c.db")) == "file:/tmp/a%20b%23c.db?mode=ro"
    assert verify_processes.sqlite_file(make_url("postgresql://h/d")) is None


def test_the_walker_reads_only(app, chains):
    from ancillary.extensions import db

    with app.app_context():
        before = db.session.execute(text("SELECT count(*) FROM custody_events")).scalar_one()
    assert _verify(app, WORKERS).ok
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM custody_events")).scalar_one() == before
