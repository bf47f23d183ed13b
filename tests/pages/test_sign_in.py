"""Signing in through /login: the cookie session, CSRF, sign-out, and what stops a session."""

from __future__ import annotations

from sqlalchemy import update

from ancillary.auth.models import User
from ancillary.extensions import db
from tests.browser import check_page


def test_the_form_has_the_fields_and_button_of_the_specification(client):
    page = client.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="zh-CN">' in html
    assert ">用户名</label>" in html and ">密码</label>" in html and ">登录</button>" in html
    assert 'name="csrf_token"' in html


def test_anonymous_pages_redirect_to_the_form_and_the_api_still_answers_401(client):
    response = client.get("/?x=1")
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/?x%3D1"
    assert client.get("/api/v1/me").status_code == 401


def test_sign_in_opens_an_httponly_lax_session_that_serves_pages_and_downloads(web, person, court):
    clerk = person("intake_clerk", "赵敏")
    case = court.file_case()
    browser = web()
    response = browser.sign_in(clerk.username, next_path="/?from=login")
    assert response.status_code == 303 and response.headers["Location"] == "/?from=login"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "ancillary_session=" in cookie
    assert "赵敏" in browser.get("/").get_data(as_text=True)
    assert browser.get("/api/v1/me").get_json()["username"] == clerk.username
    label = browser.get(f"/api/v1/dossiers/{case['dossiers'][0]['id']}/label.png")
    assert label.status_code == 200 and label.mimetype == "image/png"


def test_wrong_password_says_so_next_to_the_field_and_keeps_the_username(web, person):
    clerk = person("file_clerk")
    browser = web()
    response = browser.sign_in(clerk.username, password="not-the-password")
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert 'id="password-error">用户名或密码错误。' in html and f'value="{clerk.username}"' in html
    empty = browser.client.post("/login", data={"username": "", "password": "", "csrf_token": browser.csrf})
    assert "请输入用户名。" in empty.get_data(as_text=True) and "请输入密码。" in empty.get_data(as_text=True)
    assert browser.get("/").status_code == 302


def test_a_form_without_its_csrf_token_is_refused(web, person, court):
    clerk = person("intake_clerk")
    browser = web()
    refused = browser.client.post("/login", data={"username": clerk.username, "password": "x"})
    assert refused.status_code == 403 and refused.get_json()["field"] == "csrf_token"
    browser.sign_in(clerk.username)
    body = court.case_body()
    no_token = browser.client.post("/api/v1/cases", json=body)
    assert no_token.status_code == 403 and no_token.get_json()["message"] == "表单已过期：请刷新页面后重试"
    assert browser.post("/api/v1/cases", json=body).status_code == 201


def test_bearer_tokens_need_no_csrf_token(court):
    assert court["intake_clerk"].post("/api/v1/cases", json=court.case_body()).status_code == 201


def test_sign_out_revokes_the_session_even_for_a_copied_cookie(web, person, app):
    clerk = person("archivist")
    browser = web()
    browser.sign_in(clerk.username)
    copied = app.test_client()
    cookie = browser.client.get_cookie("ancillary_session")
    copied.set_cookie("ancillary_session", cookie.value)
    assert copied.get("/api/v1/me").status_code == 200
    assert browser.get("/logout").status_code == 303
    assert browser.get("/").status_code == 302
    assert copied.get("/api/v1/me").status_code == 401


def test_a_disabled_person_or_an_expired_session_stops_working(web, person, app, clock):
    first, second = person("scheduler"), person("scheduler")
    one, two = web(), web()
    one.sign_in(first.username)
    two.sign_in(second.username)
    with app.app_context():  # (not db_session: its app context would outlive the requests' g)
        db.session.execute(update(User).where(User.id == first.id).values(is_active=False))
        db.session.commit()
    assert one.get("/").status_code == 302 and one.get("/api/v1/me").status_code == 401
    assert two.get("/").status_code == 200
    clock.advance(hours=12, seconds=1)
    assert two.get("/").status_code == 302


def test_only_local_paths_are_followed_after_sign_in(web, person):
    clerk = person("file_clerk")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert web().sign_in(clerk.username, next_path=target).headers["Location"] == "/"


def test_the_language_switch_keeps_english_across_sign_in(web, person):
    clerk = person("file_clerk", "Wang Fang")
    browser = web()
    assert ">Username</label>" in browser.get("/login?lang=en").get_data(as_text=True)
    browser.sign_in(clerk.username)
    assert "My work" in browser.get("/").get_data(as_text=True)


def test_signing_in_through_the_form_in_chromium(signed_in, person):
    clerk = person("archivist", "孙丽")
    page = signed_in(clerk)
    assert page.locator("#who").inner_text() == "孙丽"
    assert "archivist" not in page.locator("header").inner_text()
    assert page.get_by_role("link", name="归档").is_visible()
    check_page(page)
    page.get_by_role("button", name="退出").click()
    page.wait_for_url("**/login")
    check_page(page)
