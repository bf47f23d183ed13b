"""Page fixtures: a test client signed in through the /login form, with its CSRF token."""

from __future__ import annotations

import re

import pytest

from tests.browser import PASSWORD

CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_of(response) -> str:
    return CSRF_RE.search(response.get_data(as_text=True)).group(1)


class Browser:
    """A test client that signs in like a browser: cookie session, CSRF token from the page."""

    def __init__(self, app):
        self.client = app.test_client()
        self.csrf = ""

    def sign_in(self, username: str, password: str = PASSWORD, next_path: str = "/"):
        self.csrf = csrf_of(self.client.get("/login"))
        response = self.client.post("/login", data={"username": username, "password": password,
                                                     "csrf_token": self.csrf, "next": next_path})
        if response.status_code == 303:
            self.csrf = csrf_of(self.client.get("/"))
        return response

    def get(self, path, **kw):
        return self.client.get(path, **kw)

    def post(self, path, json=None, **kw):
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}
        return self.client.post(path, json=json, headers=headers, **kw)


@pytest.fixture
def web(app):
    """``web()``: a fresh cookie-session client."""
    return lambda: Browser(app)
