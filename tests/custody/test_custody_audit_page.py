"""/custody in real Chromium: find a dossier by code, its chain as a timeline, a tampered chain
shown broken with the event named, the whole-court verify, the lists, the access log by name;
the timeline as a PDF with the font embedded."""

import shutil
import subprocess

import pytest
from sqlalchemy import text

from tests.browser import check_page
from tests.custody.conftest import guards_off, scan


def _scanned(court, dossiers, clerk):
    for dossier in dossiers:
        assert scan(clerk, dossier["qr_token"]).status_code == 201
        assert scan(clerk, dossier["qr_token"], action="store", location="档案室 A-3").status_code == 201


def test_a_tampered_chain_shows_broken_on_the_page_with_the_event_named(signed_in, person, court, dossiers, app):
    clerk = person("file_clerk", "孙档案")
    _scanned(court, dossiers, clerk)
    target = dossiers[1]
    with guards_off(app) as conn:
        conn.execute(text("UPDATE custody_events SET location = '别处' WHERE dossier_id = :d AND seq = 2"),
                     {"d": target["id"]})
    admin = person("court_admin", "刘主任")
    page = signed_in(admin, "/custody")
    page.get_by_label("卷宗：扫描标签或输入编号").fill(dossiers[0]["code"])
    page.get_by_role("button", name="查看保管链").click()
    page.wait_for_load_state()
    assert "保管链完整" in page.locator("#chain-state").inner_text()
    assert page.locator("ol.timeline > li").count() == 2
    first = page.locator("ol.timeline > li").first.inner_text()
    assert "孙档案" in first and "扫描标签" in first

    page.get_by_label("卷宗：扫描标签或输入编号").fill(target["code"])
    page.get_by_role("button", name="查看保管链").click()
    page.wait_for_load_state()
    state = page.locator("#chain-state").inner_text()
    assert "未通过核验" in state and target["code"] in state and "第2个事件" in state and "孙档案" in state
    assert "篡改" in state
    assert page.locator("ol.timeline > li[data-seq='2'] .pill.bad").count() == 1

    page.get_by_role("button", name="核验全部保管链").click()
    result = page.locator("#verify-result")
    page.wait_for_function("document.getElementById('verify-result').textContent.indexOf('事件') >= 0")
    assert target["code"] in result.inner_text() and "第2个事件" in result.inner_text(), result.inner_text()
    # The bar was drawn from the streamed count and stands at its end, with the count in words.
    bar = page.locator("#verify-progress")
    total = int(bar.get_attribute("max"))
    assert total >= 4 and page.evaluate("document.getElementById('verify-progress').value") == total
    assert f"已核验 {total} 个事件中的 {total} 个" in page.locator("#verify-count").inner_text()
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_a_scanned_label_finds_the_dossier_and_a_wrong_code_says_so(signed_in, person, court, dossiers):
    admin = person("court_admin", "刘主任")
    page = signed_in(admin, f"/custody?code={dossiers[0]['qr_token']}")
    assert dossiers[0]["code"] in page.locator("#chain h2").inner_text()
    page.goto("/custody?code=DS9999999-01")
    assert "DS9999999-01" in page.locator("#find-error").inner_text()
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_lists_and_the_access_log_name_people(web, person, court, dossiers, clock):
    clerk = person("file_clerk", "孙档案")
    _scanned(court, dossiers, clerk)
    judge = person("judge", "周法官")
    case = court.file_case(judge_id=judge.id)
    assert judge.get(f"/api/v1/cases/{case['id']}").status_code == 200  # a logged read of party data
    clock.set("2027-02-10T09:00:00+08:00")
    admin = person("court_admin", "刘主任")
    browser = web()
    browser.sign_in(admin.username)
    html = browser.get("/custody?idle_days=30").get_data(as_text=True)
    assert dossiers[0]["code"] in html  # not moved for over 30 days
    filtered = browser.get(f"/custody?reader={judge.id}&case_number={case['number']}").get_data(as_text=True)
    access = filtered.split('id="access"')[1]
    assert "周法官" in access and case["number"] in access
    assert "张三" not in access  # names of readers, not of parties
    for role in ("file_clerk", "scheduler", "contractor_manager"):
        other = web()
        other.sign_in(person(role).username)
        assert other.get("/custody").status_code == 403
        assert other.get("/api/v1/custody/verify").status_code == 403


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_timeline_pdf_embeds_the_font_and_reads_in_chinese(person, court, dossiers, tmp_path):
    clerk = person("file_clerk", "孙档案")
    _scanned(court, dossiers, clerk)
    admin = court["court_admin"]
    answer = admin.get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    path = tmp_path / "timeline.pdf"
    path.write_bytes(answer.data)
    words = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "孙档案" in words and dossiers[0]["code"] in words and "档案室 A-3" in words
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    assert "WenQuanYi" in fonts or "wqy" in fonts.lower()
    assert all(line.split()[-4] == "yes" for line in fonts.splitlines()[2:] if line.strip())  # embedded
    assert court["scheduler"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody.pdf").status_code == 403
    assert admin.get("/api/v1/dossiers/999999/custody.pdf").status_code == 404
