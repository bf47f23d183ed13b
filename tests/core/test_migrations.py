"""The schema is only ever changed by migrations: head matches the models, and every
revision goes down (and up again) with data in the database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from ancillary import create_app
from tests.conftest import make_settings


@pytest.fixture
def fresh_app(new_database, tmp_path):
    app = create_app(make_settings(new_database(), tmp_path))
    yield app
    with app.app_context():
        from ancillary.extensions import db

        db.engine.dispose()


def _diff(app):
    from ancillary.db import include_name
    from ancillary.extensions import db

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, db.metadata)


def test_upgrade_head_matches_the_models_and_downgrade_reaches_base(fresh_app):
    from ancillary.extensions import db

    with fresh_app.app_context():
        upgrade()
        assert _diff(fresh_app) == []
        downgrade(revision="base")
        tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()


def test_each_revision_goes_up_and_down_with_data(fresh_app):
    from alembic.script import ScriptDirectory

    from ancillary.extensions import db

    with fresh_app.app_context():
        script = ScriptDirectory.from_config(fresh_app.extensions["migrate"].migrate.get_config())
        revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
        assert revisions[0] == "0001"
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (username, display_name, role, is_active, is_president, created_at)"
                " VALUES ('keeper', 'Keeper', 'judge', true, false, '2027-01-04 01:00:00+00')"))
        for revision in revisions[1:]:
            upgrade(revision=revision)
            downgrade(revision="-1")
            upgrade(revision=revision)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT username FROM users")).scalar_one() == "keeper"
        downgrade(revision="base")
