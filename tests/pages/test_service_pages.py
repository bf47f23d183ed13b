"""/service on a phone: my orders, an order's page, recording attempts with photo and position,
and the phone's queue that sends an attempt made without signal exactly once."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.browser import check_page
from tests.service.conftest import ADDRESS, carrier_post, carrier_secret, make_photo  # noqa: F401 (a fixture)

HOME = {"latitude": 37.5102, "longitude": 122.1201}  # the phone at the defendant's door


@pytest.fixture(autouse=True)
def _no_photos_left(app):
    """Leave the shared storage as found: other tests check that refused photos are not kept."""
    yield
    shutil.rmtree(app.config["SETTINGS"].storage_dir / "service", ignore_errors=True)


def _claimed_order(court, clerk):
    case = court.file_case()
    order = court["court_admin"].get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"][0]
    assert clerk.post(f"/api/v1/tasks/{order['task_id']}/claim").status_code == 200
    return case, order


def _attempt(clerk, order, **body):
    response = clerk.post(f"/api/v1/service-orders/{order['id']}/attempts", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.mark.usefixtures("carrier_secret")  # the mail's carrier events come signed
def test_a_clerk_records_a_posting_with_a_gps_photo_and_the_proof_lists_it(
        signed_in, person, court, clock, app, client, tmp_path):
    clerk = person("service_clerk", "陈静")
    case, order = _claimed_order(court, clerk)
    clock.set("2027-01-05T11:00:00+08:00")
    for minute in ("10:00", "10:30"):  # two visits, nobody home: on to mail
        _attempt(clerk, order, channel="personal", outcome="no_answer", address=ADDRESS,
                 attempted_at=f"2027-01-05T{minute}:00+08:00", skip_reason="电话无人接听")
    _attempt(clerk, order, channel="mail", tracking_number="EA123456785CN")
    clock.set("2027-01-20T12:00:00+08:00")
    hook = carrier_post(client, app, {"events": [{"tracking_number": "EA123456785CN",
                                                  "event_at": "2027-01-19T17:00:00+08:00", "code": "unclaimed"}]})
    assert hook.status_code == 200

    page = signed_in(clerk, "/service")
    row = page.locator(f"#orders li[data-order='{order['id']}']")
    row.wait_for()
    assert "李四" in row.inner_text() and "张贴" in row.inner_text()  # the next step, as words
    check_page(page)
    row.get_by_role("link", name="打开").click()
    page.locator("#attempts li").nth(3).wait_for()
    assert page.locator("#recipient").inner_text() == "李四"
    assert "张三" not in page.locator("main").inner_text()  # only the recipient, as the API shows
    assert page.locator("#channel").input_value() == "posting"
    assert not page.locator("#received_by").is_visible() and not page.locator("#outcome").is_visible()
    photo_input = page.locator("#photo")
    assert photo_input.get_attribute("capture") == "environment" and photo_input.get_attribute("accept") == "image/*"
    check_page(page)

    photo = make_photo(lat=37.5105, lon=122.1203, taken="2027:01:20 11:40:00")
    photo_input.set_input_files(files=[{"name": "posting.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.get_by_label("地址").fill(ADDRESS)
    page.get_by_label("备注").fill("张贴于住所门口")
    page.get_by_role("button", name="登记", exact=True).click()
    page.locator("#attempts li").nth(4).wait_for()
    assert page.locator("#message").inner_text() == "已登记。"
    assert "已送达" in page.locator("#status").inner_text()
    check_page(page)

    served = clerk.get(f"/api/v1/service-orders/{order['id']}").get_json()
    posting = served["attempts"][-1]
    assert served["status"] == "served" and posting["channel"] == "posting"
    assert (posting["latitude"], posting["longitude"]) == (37.5105, 122.1203) and posting["client_id"]

    proof = page.request.get(page.get_by_role("link", name="送达证明（PDF）").get_attribute("href"))
    assert proof.status == 200 and proof.headers["content-type"] == "application/pdf"
    path = tmp_path / "proof.pdf"
    path.write_bytes(proof.body())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    text = text.replace("\n", "")
    assert "张贴于住所门口" in text and posting["photo"]["sha256"] in text and case["number"] in text


def test_an_attempt_made_without_signal_is_sent_once_when_the_network_returns(signed_in, person, court, clock):
    clerk = person("service_clerk")
    case, order = _claimed_order(court, clerk)
    clock.set("2027-01-05T10:00:00+08:00")
    page = signed_in(clerk, f"/service/orders/{order['id']}", geolocation=HOME, permissions=["geolocation"])
    page.locator("#attempts li").first.wait_for()

    page.context.set_offline(True)  # the stairwell: no signal
    page.get_by_label("方式").select_option(value="personal")
    page.get_by_label("结果").select_option(value="refused")
    assert page.locator("#skip_reason").is_visible()  # direct service before layer 1 closed
    page.get_by_label("提前进入此步骤的原因").fill("受送达人当面拒收")
    photo = make_photo(lat=None, taken="2027:01:05 09:58:00")  # no GPS in the photo
    page.locator("#photo").set_input_files(files=[{"name": "door.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    page.get_by_label("地址").fill(ADDRESS)
    page.get_by_role("button", name="登记", exact=True).click()
    page.wait_for_function("document.querySelector('#message').textContent.indexOf('已保存在本机') === 0")
    assert page.locator("#pending-count").inner_text() == "1"
    assert _personal(clerk, order) == []

    # The first answer is lost on the way back: the server records, the phone hears nothing.
    lost = []

    def lose_first(route):
        if not lost:
            lost.append(route.fetch().status)
            route.abort()
        else:
            route.continue_()

    page.route("**/attempts", lose_first)
    page.context.set_offline(False)
    page.wait_for_function("window.navigator.onLine")
    page.wait_for_function("document.querySelector('#pending-count').textContent === '0' && "
                           "document.querySelector('#pending-card').hidden", timeout=45_000)
    assert lost == [201]
    attempts = _personal(clerk, order)
    assert len(attempts) == 1  # sent twice, recorded once
    assert attempts[0]["outcome"] == "refused" and attempts[0]["address"] == ADDRESS
    assert (attempts[0]["latitude"], attempts[0]["longitude"]) == (HOME["latitude"], HOME["longitude"])
    assert "position_from_device" in attempts[0]["flags"] and attempts[0]["distance_m"] < 200
    page.locator("#attempts li[data-seq='2']").wait_for()
    check_page(page, allowed=("net::ERR_INTERNET_DISCONNECTED", "net::ERR_FAILED"))


def _personal(clerk, order):
    attempts = clerk.get(f"/api/v1/service-orders/{order['id']}").get_json()["attempts"]
    return [a for a in attempts if a["channel"] == "personal"]


def test_a_clerk_cannot_open_an_order_whose_task_someone_else_holds(web, person, court):
    holder, other = person("service_clerk"), person("service_clerk")
    _, order = _claimed_order(court, holder)
    browser = web()
    browser.sign_in(other.username)
    page = browser.get(f"/service/orders/{order['id']}")
    assert page.status_code == 403 and "请先在“我的工作”中领取" in page.get_data(as_text=True)
    assert browser.get(f"/api/v1/service-orders/{order['id']}").status_code == 403  # the same answer as the API
    assert browser.get("/service/orders/999999").status_code == 404
