"""Role grants need the court; accounts can be disabled, reset and have their tokens revoked."""

import pytest
from sqlalchemy import select

from ancillary.audit.models import AuditEntry

STRONG = "winter-harbour-lantern-7"


def _sign_in(client, username, password, **extra):
    return client.post("/api/v1/auth/tokens", json={"username": username, "password": password, **extra})


def _actions(app):
    from ancillary.extensions import db

    with app.app_context():
        result = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        db.session.remove()
        return result


def test_a_sysadmin_grant_of_a_court_role_waits_for_the_court(app, court, client):
    """The finding: a sysadmin made a president court_admin with their own password and read everything."""
    sysadmin, admin = court["sysadmin"], court["court_admin"]
    with_password = sysadmin.post("/api/v1/users", json={"username": "boss", "role": "court_admin",
                                                         "is_president": True, "password": STRONG})
    assert with_password.status_code == 422 and with_password.get_json()["field"] == "password"
    made = sysadmin.post("/api/v1/users", json={"username": "boss", "role": "court_admin", "is_president": True})
    assert made.status_code == 201, made.get_json()
    user = made.get_json()
    assert user["is_approved"] is False
    assert _sign_in(client, "boss", STRONG).status_code == 401
    assert sysadmin.post(f"/api/v1/users/{user['id']}/approve").status_code == 403
    assert sysadmin.post(f"/api/v1/users/{user['id']}/reset-password").status_code == 403
    pending = admin.get("/api/v1/users?pending=true").get_json()["items"]
    assert [u["username"] for u in pending] == ["boss"]

    approved = admin.post(f"/api/v1/users/{user['id']}/approve")
    assert approved.status_code == 200
    temporary = approved.get_json()["temporary_password"]
    assert admin.post(f"/api/v1/users/{user['id']}/approve").status_code == 409
    first = _sign_in(client, "boss", temporary)
    assert first.status_code == 403 and first.get_json()["error"] == "password_change_required"
    signed = _sign_in(client, "boss", temporary, new_password=STRONG)
    assert signed.status_code == 201 and signed.get_json()["role"] == "court_admin"
    assert _sign_in(client, "boss", temporary).status_code == 401  # the one-time password is spent
    actions = _actions(app)
    assert actions.index("user.create") < actions.index("user.approve") < actions.index("user.change_password")


@pytest.mark.parametrize("role", ["judge", "enforcement_officer", "intake_clerk", "scheduler", "service_clerk"])
def test_every_role_that_sees_party_data_waits_for_approval(app, court, role):
    made = court["sysadmin"].post("/api/v1/users", json={"username": f"new-{role}", "role": role})
    assert made.status_code == 201 and made.get_json()["is_approved"] is False


@pytest.mark.parametrize("role", ["file_clerk", "archivist", "follow_up", "contractor_manager", "sysadmin"])
def test_contractor_accounts_without_party_data_are_active_at_once(app, court, client, role):
    made = court["sysadmin"].post("/api/v1/users", json={"username": f"new-{role}", "role": role,
                                                         "password": STRONG})
    assert made.status_code == 201 and made.get_json()["is_approved"] is True
    assert made.get_json()["must_change_password"] is True  # the administrator's choice is not kept
    assert _sign_in(client, f"new-{role}", STRONG).get_json()["error"] == "password_change_required"
    assert _sign_in(client, f"new-{role}", STRONG, new_password="quiet-orchard-river-42").status_code == 201


def test_a_sysadmin_reaches_no_case_through_any_account_it_can_manage(app, court, client):
    case = court.file_case()
    sysadmin = court["sysadmin"]
    for role in ("judge", "intake_clerk", "scheduler", "service_clerk", "court_admin"):
        target = court[role]
        assert sysadmin.post(f"/api/v1/users/{target.id}/reset-password").status_code == 403
        assert sysadmin.post(f"/api/v1/users/{target.id}/enable").status_code == 403
    assert sysadmin.get(f"/api/v1/cases/{case['id']}").status_code == 403
    assert sysadmin.post("/api/v1/users", json={"username": "p2", "role": "judge", "is_president": True}
                         ).status_code == 422  # the president flag belongs to a court_admin only


def test_a_disabled_account_stops_at_once_and_enabling_keeps_old_tokens_dead(app, court, client):
    judge, admin = court["judge"], court["court_admin"]
    assert judge.get("/api/v1/me").status_code == 200
    assert admin.post(f"/api/v1/users/{judge.id}/disable").get_json()["is_active"] is False
    assert judge.get("/api/v1/me").status_code == 401
    assert admin.post(f"/api/v1/users/{admin.id}/disable").status_code == 403  # never yourself
    assert admin.post(f"/api/v1/users/{judge.id}/enable").get_json()["is_active"] is True
    assert judge.get("/api/v1/me").status_code == 401
    assert {"user.disable", "user.enable"} <= set(_actions(app))


def test_reset_password_makes_the_person_choose_a_new_one(app, court, client):
    clerk = court.make_actor("file_clerk", password=STRONG)
    reset = court["sysadmin"].post(f"/api/v1/users/{clerk.id}/reset-password")
    assert reset.status_code == 200
    temporary = reset.get_json()["temporary_password"]
    assert clerk.get("/api/v1/me").status_code == 401  # the old token is revoked
    assert _sign_in(client, clerk.username, STRONG).status_code == 401
    same = _sign_in(client, clerk.username, temporary, new_password=temporary)
    assert same.status_code == 409 and same.get_json()["field"] == "new_password"
    weak = _sign_in(client, clerk.username, temporary, new_password="12345678")
    assert weak.status_code == 422 and weak.get_json()["field"] == "new_password"
    assert _sign_in(client, clerk.username, temporary, new_password="amber-tide-compass-9").status_code == 201


def test_list_and_revoke_a_persons_tokens(app, court, client):
    clerk = court.make_actor("archivist", password=STRONG)
    second = _sign_in(client, clerk.username, STRONG).get_json()["token"]
    admin = court["court_admin"]
    listed = admin.get(f"/api/v1/users/{clerk.id}/tokens").get_json()["items"]
    assert len(listed) == 2 and all("token" not in row and "token_hash" not in row for row in listed)
    assert admin.delete(f"/api/v1/users/{clerk.id}/tokens/{listed[0]['id']}").status_code == 204
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    assert clerk.get("/api/v1/me").status_code == 200
    assert admin.delete(f"/api/v1/users/{clerk.id}/tokens/999999").status_code == 404
    assert admin.post(f"/api/v1/users/{clerk.id}/tokens/revoke").get_json() == {"revoked": 1}
    assert clerk.get("/api/v1/me").status_code == 401
    assert court["scheduler"].get(f"/api/v1/users/{clerk.id}/tokens").status_code == 403
    assert admin.get("/api/v1/users/999999/tokens").status_code == 404


@pytest.mark.parametrize("password, reason", [
    ("12345678", "short"),
    ("password1234", "common"),
    ("qwertyuiop123", "keyboard"),
    ("xx-newclerk-xx-2027", "username"),
])
def test_weak_passwords_are_refused_naming_the_field(app, court, password, reason):
    made = court["sysadmin"].post("/api/v1/users", json={"username": "newclerk", "role": "file_clerk",
                                                         "password": password})
    assert made.status_code == 422, (reason, made.get_json())
    assert made.get_json()["field"] == "password" and made.get_json()["message"]


def test_the_console_manages_accounts(app, court, client):
    clerk = court.make_actor("judge", password=STRONG)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["users", "disable", clerk.username]).exit_code == 0
    assert clerk.get("/api/v1/me").status_code == 401
    assert _sign_in(client, clerk.username, STRONG).status_code == 401
    assert runner.invoke(args=["users", "enable", clerk.username]).exit_code == 0
    result = runner.invoke(args=["users", "reset-password", clerk.username, "--password-stdin"],
                           input="harbour-violet-engine-3\n")
    assert result.exit_code == 0 and "harbour-violet-engine-3" not in result.output
    assert _sign_in(client, clerk.username, "harbour-violet-engine-3").status_code == 403
    weak = runner.invoke(args=["users", "reset-password", clerk.username, "--password-stdin"], input="123\n")
    assert weak.exit_code == 1 and "password" in weak.output
    assert runner.invoke(args=["users", "disable", "nobody"]).exit_code == 1
    assert runner.invoke(args=["users", "add", "weak1", "--role", "judge", "--password-stdin"],
                         input="weak1-password\n").exit_code == 1
