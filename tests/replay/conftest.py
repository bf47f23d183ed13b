"""One small month per variant, run once for the whole session and shared by the replay tests."""

from __future__ import annotations

import dataclasses

import pytest

from ancillary.extensions import db
from ancillary.replay.cli import run_replay
from ancillary.replay.court import ReplaySettings

SMALL = ReplaySettings(seed=7, months=1, cases_per_year=1000, tail_days=15)


@pytest.fixture(scope="session")
def replay(new_database, tmp_path_factory):
    """``replay(name, **changes)``: (app, report, out dir) of SMALL with the changes, run once per name."""
    runs = {}

    def run(name: str, **changes):
        if name not in runs:
            out = tmp_path_factory.mktemp(f"replay-{name}")
            runs[name] = run_replay(out, dataclasses.replace(SMALL, **changes), database_url=new_database()) + (out,)
        return runs[name]

    yield run
    for app, _, _ in runs.values():
        with app.app_context():
            db.engine.dispose()
