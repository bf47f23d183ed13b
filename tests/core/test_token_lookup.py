"""The bearer token's lookup, which every request pays for: read fresh each time, the user put
into the request's session as loaded (nothing to write), a revocation counted at once."""

from __future__ import annotations

from sqlalchemy import inspect, select, text, update

from ancillary.auth.models import ApiToken, Role, User
from ancillary.auth.services import user_for_token
from tests.conftest import NOW


def test_the_user_comes_into_the_session_as_loaded_with_nothing_to_write(app, make_actor):
    actor = make_actor("file_clerk", phone="+8613800000001")
    with app.test_request_context():
        from ancillary.extensions import db

        session = db.session
        user = user_for_token(session, actor.token, now=NOW)
        state = inspect(user)
        assert state.persistent and not session.new and not session.dirty
        assert (user.id, user.username, user.role, user.phone) == (actor.id, actor.username, Role.file_clerk,
                                                                    "+8613800000001")
        assert "password_hash" in state.unloaded  # not read on every request; loaded when asked for
        stored = session.execute(text("SELECT password_hash FROM users WHERE id = :id"), {"id": actor.id}).scalar()
        assert user.password_hash == stored
        assert session.get(User, actor.id) is user  # the session's one copy
        session.flush()
        assert not session.new and not session.dirty
        session.rollback()


def test_a_session_already_in_use_gets_its_own_copy_of_the_user(app, make_actor):
    actor = make_actor("archivist")
    with app.test_request_context():
        from ancillary.extensions import db

        held = db.session.get(User, actor.id)
        held.display_name = "改过的名字"  # pending: flushed before the lookup, as a query would
        assert user_for_token(db.session, actor.token, now=NOW) is held
        assert db.session.scalar(select(User.display_name).where(User.id == actor.id)) == "改过的名字"
        db.session.rollback()


def _in_another_worker(app, statement):
    """Change the database through a connection of its own, as another process would."""
    from ancillary.extensions import db

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(statement)


def test_a_revocation_made_elsewhere_counts_at_the_next_request(app, make_actor):
    actor, other = make_actor("file_clerk"), make_actor("archivist")
    assert actor.get("/api/v1/me").status_code == 200
    _in_another_worker(app, update(ApiToken).where(ApiToken.user_id == actor.id).values(revoked_at=NOW))
    assert actor.get("/api/v1/me").status_code == 401
    assert other.get("/api/v1/me").status_code == 200
    _in_another_worker(app, update(User).where(User.id == other.id).values(is_active=False))
    refused = other.get("/api/v1/me")
    assert refused.status_code == 401 and refused.get_json()["code"] == 401


def test_credentials_revoked_after_the_token_was_issued_refuse_it(app, make_actor, clock):
    actor = make_actor("scheduler")
    _in_another_worker(app, update(User).where(User.id == actor.id).values(credentials_revoked_at=clock.now))
    assert actor.get("/api/v1/me").status_code == 401
