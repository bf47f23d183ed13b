"""/hearings in real Chromium: a judge's coming hearings, a reminder acknowledged with one tap,
and the phone-calendar subscription as a webcal:// link and a QR code on ANCILLARY_PUBLIC_URL."""

import io

import zxingcpp
from PIL import Image

from ancillary.extensions import db
from ancillary.outbox import Notification, enqueue
from tests.browser import check_page
from tests.conftest import NOW


def _remind(app, judge, case):
    with app.app_context():
        note = enqueue(db.session, key=f"test-reminder:{case['id']}", channel="sms", to_address="+8613800000077",
                       body=f"案件{case['number']}已开庭15日尚未报结，请及时处理。", kind="heard_not_closed",
                       now=NOW, recipient_id=judge.id, case_id=case["id"], needs_ack=True,
                       settings=app.config["SETTINGS"])
        db.session.commit()
        return note.id


def test_a_judge_sees_hearings_acknowledges_a_reminder_and_subscribes(sched, person, signed_in, app, viewport):
    judge = person("judge", "周法官", phone="+8613800000077")
    case = sched.file(judge_id=judge.id)
    assert sched.book(case).status_code == 201
    note_id = _remind(app, judge, case)
    page = signed_in(judge, "/hearings")
    coming = page.locator("#coming").inner_text()
    assert case["number"] in coming and "2027-01-07 09:00–10:00" in coming and "第一法庭" in coming

    page.locator(f"button.ack[data-id='{note_id}']").click()
    page.locator(f"li[data-id='{note_id}'] .pill.ok").wait_for()
    acked = sched.session_do(lambda s: s.get(Notification, note_id).acked_at)
    assert acked is not None
    assert judge.get("/api/v1/notifications?unacked=true").get_json()["total"] == 0

    page.get_by_role("button", name="显示我的订阅二维码").click()
    page.wait_for_load_state()
    webcal = page.locator("#webcal").get_attribute("href")
    assert webcal.startswith(f"webcal://court.example.cn/api/v1/judges/{judge.id}/calendar.ics?token=ics_")
    assert "127.0.0.1" not in page.locator("#subscribe").inner_html()
    shot = page.locator("#feed-qr svg").screenshot()
    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
    assert decoded == [webcal]
    # The address in the code really serves the judge's hearings.
    feed = app.test_client().get("/api" + webcal.split("/api", 1)[1])
    assert feed.status_code == 200 and case["number"] in feed.get_data(as_text=True)
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_only_officers_open_it_and_a_judge_sees_only_their_own(sched, person, web):
    judge = person("judge", "周法官")
    other = sched.file()  # sched.judge's case
    assert sched.book(other).status_code == 201
    browser = web()
    browser.sign_in(judge.username)
    html = browser.get("/hearings").get_data(as_text=True)
    assert other["number"] not in html
    for role in ("scheduler", "court_admin", "file_clerk"):
        someone = web()
        someone.sign_in(person(role).username)
        assert someone.get("/hearings").status_code == 403
    assert browser.post("/hearings/subscribe", headers={"X-CSRF-Token": "wrong"}).status_code in (400, 403)
