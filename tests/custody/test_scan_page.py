"""The /scan station in headless Chromium: sign in, scan by keyboard wedge and by photo,
a replay after a lost answer, and a forged label."""

import socket
import threading

import pytest

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
PASSWORD = "scan-station-pass-1"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server(app):
    from werkzeug.serving import make_server

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    httpd = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    httpd.shutdown()
    thread.join()


def test_scan_station_end_to_end(browser, server, court, dossiers, app):
    clerk = court.make_actor("file_clerk", username="wangfang", display_name="王芳", password=PASSWORD)
    # Playwright's wait_for_function evaluates strings, which the CSP forbids; the page's own
    # compliance with the CSP is checked in tests/core/test_hardening.py.
    context = browser.new_context(locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server}/scan")
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.fill("input[name=username]", clerk.username)
    page.fill("input[name=password]", "wrong")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-error:not(:empty)")
    page.fill("input[name=password]", PASSWORD)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#station:not([hidden])")
    assert page.evaluate("sessionStorage.getItem('ancillary.token')").startswith("anc_")
    photo = page.locator("#photo")
    assert photo.get_attribute("accept") == "image/*" and photo.get_attribute("capture") == "environment"

    # A handheld scanner types the code and Enter into the focused field.
    assert page.evaluate("document.activeElement.id") == "code"
    page.fill("#location", "审判组 3楼")
    page.press("#location", "Enter")  # back to the code field, ready for the scanner
    assert page.evaluate("document.activeElement.id") == "code"
    page.keyboard.type(dossiers[0]["qr_token"])
    page.keyboard.press("Enter")
    result = page.locator("#result[data-state=ok]")
    result.wait_for()
    assert result.locator(".holder").inner_text() == "王芳"
    assert result.locator(".location").inner_text() == "审判组 3楼"
    assert result.locator(".case-number").inner_text().startswith("(2027)鲁1002民初")
    assert result.locator(".chain-length").inner_text() == "1"
    assert page.evaluate("getComputedStyle(document.getElementById('result')).backgroundColor") == "rgb(198, 246, 213)"
    page.locator("#recent li").first.wait_for()
    assert page.evaluate("document.activeElement.id") == "code"

    # A photo of the second volume's label, as a phone would send it.
    png = clerk.get(f"/api/v1/dossiers/{dossiers[1]['id']}/label.png").data
    page.set_input_files("#photo", files=[{"name": "label.png", "mimeType": "image/png", "buffer": png}])
    page.wait_for_function("document.querySelector('#result .volume') && "
                           "document.querySelector('#result .volume').textContent === '2'")
    assert page.locator("#result").get_attribute("data-state") == "ok"

    # The answer to a scan is lost on the way back: the page resends the same scan id and
    # the server answers the recorded scan instead of recording it twice.
    lost = {"count": 0}

    def lose_first_answer(route):
        if lost["count"] == 0:
            lost["count"] += 1
            route.fetch()  # the server records the scan...
            route.abort()  # ...but the phone never hears back
        else:
            route.continue_()

    page.route("**/api/v1/scans", lose_first_answer)
    page.keyboard.type(dossiers[0]["qr_token"])
    page.keyboard.press("Enter")
    page.locator("#result[data-state=replay]").wait_for()
    assert page.locator("#result .chain-length").inner_text() == "2"
    page.unroute("**/api/v1/scans")
    chain = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert len(chain["events"]) == 2 and chain["verified"]

    # A forged label: a big red refusal with the reason.
    token = dossiers[0]["qr_token"]
    page.keyboard.type(token[:-1] + ("A" if token[-1] != "A" else "B"))
    page.keyboard.press("Enter")
    error = page.locator("#result[data-state=error]")
    error.wait_for()
    assert error.locator(".reason").inner_text()
    assert page.evaluate("getComputedStyle(document.getElementById('result')).backgroundColor") == "rgb(254, 215, 215)"
    page.wait_for_function("document.querySelectorAll('#recent li').length === 3")
    context.close()
