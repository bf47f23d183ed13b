"""Browser fixtures for page tests: real Chromium, a live server, sign-in through the form.

Loaded by tests/conftest.py for every folder. A page test asks for ``signed_in`` and
runs twice, on a phone (390×844) and a desktop (1366×900):

    def test_my_work(signed_in, person):
        clerk = person("service_clerk", "王芳")
        page = signed_in(clerk)              # through /login's 用户名 / 密码 / 登录
        ...
        check_page(page)                     # no sideways scroll, 44 px targets, no console errors

One Chromium serves the whole run; each sign-in gets a fresh browser context. Without a
browser, ``web()`` is a test client that signs in through the same form (cookie + CSRF).
"""

from __future__ import annotations

import re
import socket
import threading

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 900)}
PASSWORD = "page-test-password-1"
# Interactive elements that must be at least 44 px tall (WCAG's target size, Apple's and Google's guides).
TARGETS = ("button, .button, select, textarea, nav a, .top a, "
           "input:not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=file])")


@pytest.fixture(scope="session")
def chromium():
    """The system's Chromium (never a downloaded one), shared by the whole run."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class InFlight:
    """Counts the live server's requests being answered, so a test's clean-up can wait for them.

    A page can still be answering a request its closed browser sent last (a form's post, a
    poll) when the test ends; emptying the tables under it deadlocks on PostgreSQL. The
    request's transaction ends when the app returns (Flask pops its context first), so
    counting the call is enough.
    """

    def __init__(self, app):
        self.app, self.count, self.changed = app, 0, threading.Condition()

    def __call__(self, environ, start_response):
        with self.changed:
            self.count += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.changed:
                self.count -= 1
                self.changed.notify_all()

    def wait_idle(self, timeout: float = 10) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count == 0, timeout)


@pytest.fixture(scope="session")
def live_server(app):
    """The session's app served on a free loopback port; yields its base URL."""
    from werkzeug.serving import make_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app.extensions["in_flight"] = served = InFlight(app)
    server = make_server("127.0.0.1", port, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def person(court):
    """``person(role, display_name)``: a user who signs in with PASSWORD (an Actor with a token too)."""

    def make(role: str, display_name: str | None = None, **kw):
        return court.make_actor(role, display_name=display_name, password=PASSWORD, **kw)

    return make


@pytest.fixture
def browser_context(chromium, viewport, live_server):
    """``browser_context()``: a fresh context at this test's viewport, Chinese, closed afterwards."""
    contexts = []

    def make(**options):
        # Playwright's wait_for_function evaluates strings, which the pages' CSP forbids; the
        # pages' own compliance is checked without the bypass in tests/core/test_hardening.py.
        options.setdefault("bypass_csp", True)
        width, height = VIEWPORTS[viewport]
        phone = viewport == "phone"
        context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                       timezone_id="Asia/Shanghai", is_mobile=phone, has_touch=phone,
                                       base_url=live_server, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def watch(page):
    """Collect the page's console errors and uncaught exceptions in ``page.problems``."""
    page.problems = []
    page.on("console", lambda message: message.type == "error" and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    return page


def sign_in_through_form(page, username: str, password: str = PASSWORD, path: str = "/"):
    """Open ``path``, get sent to /login, fill 用户名 and 密码, press 登录, land back on ``path``."""
    page.goto(path)
    assert "/login" in page.url
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, page.locator(".error").all_inner_texts()
    return page


@pytest.fixture
def signed_in(browser_context):
    """``signed_in(actor, path="/")``: a page signed in through the form as ``actor`` (made by ``person``)."""

    def open_as(actor, path: str = "/", **options):
        page = watch(browser_context(**options).new_page())
        return sign_in_through_form(page, actor.username, PASSWORD, path)

    return open_as


def check_page(page, targets: str = TARGETS, expected_statuses: tuple[int, ...] = (), allowed: tuple[str, ...] = ()):
    """What a person would notice: no sideways scroll, targets of 44 px, no console errors.

    Chromium logs every 4xx answer to a script as a console error; a test that provokes
    one on purpose (a lost race, a refused form) names its status in ``expected_statuses``,
    and one that cuts the network names the errors it expects in ``allowed``.
    """
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"{page.url} scrolls sideways: {widths[0]} px content in {widths[1]} px"
    small = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector))
             .filter(el => el.offsetParent !== null)
             .map(el => [el.getBoundingClientRect(), el])
             .filter(([r]) => r.height < 43.5 || r.width < 43.5)
             .map(([r, el]) => `${el.tagName} ${el.id || el.className || el.textContent.trim().slice(0, 20)}: `
                               + `${Math.round(r.width)}×${Math.round(r.height)}`)""",
        targets,
    )
    assert small == [], f"{page.url}: tap targets under 44 px: {small}"
    expected = tuple(f"the server responded with a status of {status}" for status in expected_statuses) + allowed
    problems = [p for p in page.problems if not any(e in p for e in expected)]
    assert problems == [], f"{page.url}: console errors: {problems}"


# --- a test client that signs in through the form, like a browser ----------------------

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
