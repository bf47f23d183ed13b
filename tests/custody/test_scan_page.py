"""The /scan station in headless Chromium with the browser's session: a handheld scanner, a photo,
a replay after a lost answer, a forged label, a torn label's typed code, and look-up only."""

import pytest

from tests.browser import check_page

pytestmark = pytest.mark.browser


def test_scan_station_end_to_end(signed_in, person, court, dossiers, viewport):
    clerk = person("file_clerk", "王芳")
    page = signed_in(clerk, "/scan")
    assert page.get_attribute("html", "lang") == "zh-CN"
    photo = page.locator("#photo")
    assert photo.get_attribute("accept") == "image/*" and photo.get_attribute("capture") == "environment"
    assert page.get_by_text("拍摄标签照片").bounding_box()["height"] >= 60  # the big camera button
    check_page(page)

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
    page.locator("#recent li[data-action]").first.wait_for()  # not the "no scans yet" line it replaces
    assert page.locator("#recent li").first.get_attribute("data-action") == "receive"
    assert page.locator("#recent li .title").first.inner_text().startswith("签收")
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
    check_page(page, expected_statuses=(422,), allowed=("net::ERR_FAILED",))


def test_a_torn_label_typed_by_hand_and_a_look_up_that_records_nothing(signed_in, person, court, dossiers):
    clerk = person("archivist", "孙丽")
    page = signed_in(clerk, "/scan")
    page.select_option("#action", value="store")
    page.fill("#location", "档案室 A-3")
    page.get_by_label("标签损坏？请输入二维码下方的编号").fill(dossiers[0]["code"].lower())
    page.get_by_role("button", name="按编号登记").click()
    page.locator("#result[data-state=ok]").wait_for()
    assert page.locator("#result .typed").inner_text() == "手工输入"
    chain = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert [e["details"] for e in chain["events"]] == [{"entry": "typed"}] and chain["verified"]

    page.select_option("#action", value="lookup")
    page.locator("#code").fill(dossiers[0]["qr_token"])
    page.locator("#code").press("Enter")
    page.locator("#result[data-state=lookup]").wait_for()
    assert page.locator("#result .holder").inner_text() == "孙丽"
    assert page.locator("#result .location").inner_text() == "档案室 A-3"
    again = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert len(again["events"]) == 1  # looking up recorded nothing
    check_page(page)


def test_the_scan_station_is_for_those_who_scan(web, person):
    browser = web()
    browser.sign_in(person("service_clerk").username)
    assert browser.get("/scan").status_code == 403


def test_a_scan_without_signal_waits_on_the_device_and_is_recorded_once(signed_in, person, court, dossiers, clock):
    clerk = person("file_clerk")
    clock.set("2027-01-05T10:00:00+08:00")
    page = signed_in(clerk, "/scan")
    page.context.set_offline(True)
    page.locator("#code").fill(dossiers[0]["qr_token"])
    page.locator("#code").press("Enter")
    page.locator("#result[data-state=queued]").wait_for()
    assert page.locator("#queued-count").inner_text() == "1"
    assert court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()["events"] == []
    page.context.set_offline(False)
    page.locator("#result[data-state=ok]").wait_for(timeout=45_000)
    page.wait_for_function("document.getElementById('queued').hidden")
    events = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()["events"]
    assert len(events) == 1 and events[0]["to_holder"]["id"] == clerk.id
    assert events[0]["scanned_at"].startswith("2027-01-05T10:0")  # when it was scanned, by the server's clock
    check_page(page, allowed=("net::ERR_INTERNET_DISCONNECTED", "net::ERR_FAILED"))
