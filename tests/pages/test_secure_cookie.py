"""The session cookie is Secure when the public address is https; the http demo keeps working."""

from __future__ import annotations

import pytest

from ancillary import create_app
from ancillary.auth.sessions import cookie_config
from ancillary.config import SettingsError
from tests.browser import Browser
from tests.conftest import make_settings


@pytest.mark.parametrize(("public_url", "flag", "secure"), [
    ("https://court.example.cn", None, True), ("HTTPS://court.example.cn/ancillary", None, True),
    ("http://127.0.0.1:5000", None, False), ("", None, False),
    ("https://court.example.cn", "0", False), ("http://10.0.0.5", "1", True), ("", "yes", True),
])
def test_secure_follows_the_public_address_unless_the_setting_says(tmp_path, public_url, flag, secure):
    overrides = {"public_url": public_url}
    if flag is not None:
        overrides["secure_cookies"] = flag in ("1", "yes")
    settings = make_settings("sqlite:///unused.sqlite3", tmp_path, **overrides)
    config = cookie_config(settings)
    assert config["SESSION_COOKIE_SECURE"] is secure
    assert config["SESSION_COOKIE_HTTPONLY"] is True and config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_setting_that_is_not_a_yes_or_no_is_refused(tmp_path):
    from ancillary.config import Settings

    with pytest.raises(SettingsError, match="ANCILLARY_SECURE_COOKIES must be 1 or 0"):
        Settings.from_env({"ANCILLARY_SECURE_COOKIES": "sometimes", "ANCILLARY_SECRET_KEY": "x"}, testing=True)
    env = {"ANCILLARY_SECURE_COOKIES": "0", "ANCILLARY_SECRET_KEY": "x", "ANCILLARY_PUBLIC_URL": "https://c.cn"}
    assert Settings.from_env(env, testing=True).secure_cookies is False


def test_behind_https_the_signed_in_cookie_is_secure(web, person):
    """The suite's app has ANCILLARY_PUBLIC_URL=https://court.example.cn."""
    clerk = person("file_clerk")
    response = web().sign_in(clerk.username)
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"]
    assert "ancillary_session=" in cookie and "; Secure" in cookie and "HttpOnly" in cookie


def test_the_http_demo_signs_in_without_a_secure_cookie(app, person, tmp_path):
    clerk = person("file_clerk")
    settings = make_settings(app.config["SETTINGS"].database_url, tmp_path, public_url="http://127.0.0.1:5000")
    demo = create_app(settings)
    try:
        response = Browser(demo).sign_in(clerk.username)
        assert response.status_code == 303, response.get_data(as_text=True)
        assert "Secure" not in response.headers["Set-Cookie"]
    finally:
        with demo.app_context():
            from ancillary.extensions import db

            db.engine.dispose()
