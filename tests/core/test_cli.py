"""The ancillary command: users, tokens, demo, tick."""

from sqlalchemy import func, select


def test_users_add_and_tokens_issue(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "add", "judge42", "--role", "judge", "--phone", "+8613800000042",
                                 "--password-stdin"], input="a-long-password\n")
    assert result.exit_code == 0, result.output
    assert "judge42" in result.output and "a-long-password" not in result.output
    token = runner.invoke(args=["tokens", "issue", "judge42"]).output.strip()
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.get_json()["username"] == "judge42"
    signed_in = app.test_client().post("/api/v1/auth/tokens", json={"username": "judge42",
                                                                      "password": "a-long-password"})
    assert signed_in.status_code == 201


def test_users_add_refuses_bad_input_with_a_message(app):
    runner = app.test_cli_runner()
    bad_role = runner.invoke(args=["users", "add", "x1", "--role", "emperor"])
    assert bad_role.exit_code == 1 and "role" in bad_role.output
    bad_phone = runner.invoke(args=["users", "add", "x2", "--role", "judge", "--phone", "12"])
    assert bad_phone.exit_code == 1 and "phone" in bad_phone.output
    unknown = runner.invoke(args=["tokens", "issue", "nobody"])
    assert unknown.exit_code == 1 and "users add" in unknown.output


def test_demo_loads_a_court_of_the_seeds_size_once(app):
    from ancillary.auth.models import Role, User
    from ancillary.cases.models import Case
    from ancillary.extensions import db
    from ancillary.queues.models import FollowUpPairing, Post
    from ancillary.scheduling.models import Courtroom

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--cases", "40"])
    assert result.exit_code == 0, result.output
    assert "sched01" in result.output and "ancillary-demo" in result.output
    with app.app_context():
        count = lambda q: db.session.scalar(select(func.count()).select_from(q.subquery()))  # noqa: E731
        assert count(select(User).where(User.role == Role.judge)) == 30
        assert count(select(User).where(User.role == Role.enforcement_officer)) == 10
        contractor = [r for r in Role if r.value in ("intake_clerk", "scheduler", "service_clerk", "file_clerk",
                                                     "archivist", "follow_up", "contractor_manager")]
        assert count(select(User).where(User.role.in_(contractor))) == 42
        assert count(select(Post).where(Post.kind == "follow_up")) == 22
        per_post = db.session.execute(select(func.count()).select_from(FollowUpPairing)
                                      .group_by(FollowUpPairing.post_id)).scalars().all()
        assert all(3 <= n <= 5 for n in per_post)
        assert count(select(Courtroom)) >= 10
        assert count(select(Case)) == 40
        db.session.remove()
    again = runner.invoke(args=["demo"])
    assert "already" in again.output
    signed_in = app.test_client().post("/api/v1/auth/tokens", json={"username": "sched01",
                                                                      "password": "ancillary-demo"})
    assert signed_in.status_code == 201


def test_tick_needs_an_instant_with_offset(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["tick", "--at", "2027-01-04T08:00"]).exit_code == 1
    assert runner.invoke(args=["tick", "--at", "tomorrow"]).exit_code == 1
    ok = runner.invoke(args=["tick", "--at", "2027-01-04T08:00:00+08:00"])
    assert ok.exit_code == 0 and "tick at 2027-01-04T08:00:00+08:00" in ok.output


def test_a_refused_command_writes_nothing_and_a_good_one_commits(app):
    import click
    import pytest
    from sqlalchemy import func, select

    from ancillary.auth.models import User
    from ancillary.command import transaction
    from ancillary.errors import Invalid
    from ancillary.extensions import db
    from tests.conftest import NOW

    def person(name):
        return User(username=name, role="judge", display_name=name, is_active=True, created_at=NOW)

    def users():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(User))

    before = users()
    with app.app_context(), pytest.raises(SystemExit) as refused, transaction() as session:
        session.add(person("half"))
        session.flush()
        raise Invalid("bad", "refused half-way", field="role")
    assert refused.value.code == 1 and users() == before
    with app.app_context(), pytest.raises(click.ClickException), transaction() as session:
        session.add(person("half"))
        raise click.ClickException("any other error rolls back too")
    assert users() == before
    with app.app_context(), transaction() as session:
        session.add(person("whole"))
    assert users() == before + 1
