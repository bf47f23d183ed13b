from datetime import timedelta

from ancillary.auth.models import Role


def test_password_sign_in_gives_a_token_that_identifies_the_user(app, client, db_session):
    from ancillary.auth.services import create_user
    from tests.conftest import NOW

    create_user(db_session, username="sched01", role="scheduler", password="correct horse", actor=None, now=NOW)
    db_session.commit()
    response = client.post("/api/v1/auth/tokens", json={"username": "sched01", "password": "correct horse"})
    assert response.status_code == 201
    body = response.get_json()
    assert body["role"] == "scheduler" and body["token"].startswith("anc_")
    assert body["expires_at"].endswith("+08:00")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["username"] == "sched01" and me.get_json()["role"] == "scheduler"


def test_wrong_password_and_unknown_user_answer_the_same_401(app, client, db_session):
    from ancillary.auth.services import create_user
    from tests.conftest import NOW

    create_user(db_session, username="judge1", role="judge", password="right-password", actor=None, now=NOW)
    db_session.commit()
    wrong = client.post("/api/v1/auth/tokens", json={"username": "judge1", "password": "wrong-password"})
    unknown = client.post("/api/v1/auth/tokens", json={"username": "nobody", "password": "wrong-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json()["error"] == unknown.get_json()["error"] == "bad_credentials"


def test_token_is_stored_hashed_and_can_be_revoked(app, make_actor, db_session):
    from sqlalchemy import select

    from ancillary.auth.models import ApiToken

    actor = make_actor("judge")
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert actor.token not in stored and len(stored[0]) == 64
    assert actor.delete("/api/v1/auth/tokens/current").status_code == 204
    assert actor.get("/api/v1/me").status_code == 401


def test_expired_token_is_refused(app, client, db_session):
    from ancillary.auth.services import create_user, issue_token
    from tests.conftest import NOW

    user = create_user(db_session, username="old", role="judge", actor=None, now=NOW)
    token, _ = issue_token(db_session, user, now=NOW - timedelta(days=400), lifetime=timedelta(days=30))
    db_session.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_every_endpoint_denies_by_default(app, client):
    """Each route is public on purpose or names the roles allowed; none is open by accident."""
    from ancillary.web import PUBLIC_ENDPOINTS

    unguarded = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        view = app.view_functions[rule.endpoint]
        cls = getattr(view, "view_class", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            func = getattr(cls, method.lower(), None) if cls else view
            if not (getattr(func, "allowed_roles", None) or getattr(func, "is_public", False)):
                unguarded.append(f"{method} {rule.rule}")
    assert unguarded == []


def test_anonymous_and_garbage_tokens_get_401_json(app, client):
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/cases", headers=headers)
        assert response.status_code == 401
        assert response.is_json and response.get_json()["error"] in ("auth_required", "invalid_token")


def test_openapi_document_is_public_and_describes_the_contract(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    for path in ("/api/v1/auth/tokens", "/api/v1/me", "/api/v1/cases", "/api/v1/cases/{case_id}",
                 "/api/v1/cases/{case_id}/close", "/api/v1/law-firms", "/api/v1/tasks",
                 "/api/v1/tasks/{task_id}/claim", "/api/v1/follow-up-posts", "/api/v1/courtrooms"):
        assert path in paths, path
    post_case = paths["/api/v1/cases"]["post"]
    assert post_case["requestBody"]["content"]["application/json"]["example"]["kind"] == "summary"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"swagger-ui" in docs.data
    asset = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_sysadmin_adds_users_and_others_cannot(app, court):
    body = {"username": "judge77", "role": "judge", "phone": "13800000077"}
    assert court["court_admin"].post("/api/v1/users", json=body).status_code == 403
    created = court["sysadmin"].post("/api/v1/users", json=body)
    assert created.status_code == 201
    assert created.get_json()["phone"] == "+8613800000077"
    again = court["sysadmin"].post("/api/v1/users", json=body)
    assert again.status_code == 409 and again.get_json()["field"] == "username"
    bad = court["sysadmin"].post("/api/v1/users", json={**body, "username": "x9", "phone": "12345"})
    assert bad.status_code == 422 and bad.get_json()["field"] == "phone"


def test_roles_are_the_eleven_of_the_specification():
    assert {r.value for r in Role} == {
        "intake_clerk", "scheduler", "service_clerk", "file_clerk", "archivist", "follow_up", "judge",
        "enforcement_officer", "court_admin", "contractor_manager", "sysadmin"}


def test_front_page_sends_a_stranger_to_the_chinese_sign_in_form(app, client):
    assert client.get("/").headers["Location"] == "/login?next=/"
    text = client.get("/login").get_data(as_text=True)
    assert "用户名" in text and "登录" in text
    assert "Username" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
