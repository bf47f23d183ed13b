"""/intake: an intake clerk files a case in one form, parties row by row, and prints its labels."""

from __future__ import annotations

import subprocess
from urllib.parse import quote

from tests.browser import check_page

GOOD_ID = "371002198001010010"
BAD_ID = "371002198001010011"  # last character off by one
COMPANY = "91371000MA3C8XKX4B"


def _count(actor, number):
    return actor.get(f"/api/v1/cases?number={quote(number)}").get_json()["total"]


def test_an_intake_clerk_files_a_case_and_opens_its_label_sheet(signed_in, person, court, tmp_path, viewport):
    clerk = person("intake_clerk", "赵敏")
    judge = court["judge"]
    number = f"(2027)鲁1002民初9{len(viewport)}01号"
    page = signed_in(clerk, "/intake")
    assert page.locator("#parties .party").count() == 2  # a plaintiff and a defendant to start with
    page.get_by_label("案号").fill(number)
    page.get_by_label("案件类型").select_option(label="速裁")
    page.get_by_label("承办法官或执行员").select_option(value=str(judge.id))
    page.get_by_label("卷数（每卷一个卷宗）").fill("2")
    first, second = page.locator("#parties .party").nth(0), page.locator("#parties .party").nth(1)
    first.get_by_label("姓名或名称").fill("张三")
    first.get_by_label("证件号码").fill(GOOD_ID)
    assert first.locator(".id-hint").inner_text() == "居民身份证号码：校验位正确。"
    first.get_by_label("电话（每行一个）").fill("13800000001")
    second.get_by_label("姓名或名称").fill("威海某某贸易有限公司")
    second.get_by_label("证件号码").fill(BAD_ID)  # checked as typed
    assert page.locator("[data-error-for='parties.1.id_number']").inner_text() == "证件号码最后一位与校验不符：请逐位核对。"
    second.get_by_label("地址（每行一个）").fill("山东省威海市环翠区统一路2号")
    page.get_by_role("button", name="添加当事人").click()
    assert page.locator("#parties .party").count() == 3
    page.locator("#parties .party").nth(2).get_by_role("button", name="删除该当事人").click()
    assert page.locator("#parties .party").count() == 2

    # The server refuses the wrong ID number, next to the field; nothing is filed, nothing typed is lost.
    page.get_by_role("button", name="提交立案").click()
    slot = page.locator("[data-error-for='parties.1.id_number']")
    page.wait_for_function("document.querySelector('#form-message').textContent.length > 0")
    assert slot.inner_text() and "id_number" not in slot.inner_text()
    assert page.get_by_label("案号").input_value() == number and first.get_by_label("证件号码").input_value() == GOOD_ID
    assert _count(court["court_admin"], number) == 0
    check_page(page, expected_statuses=(422,))

    second.get_by_label("证件号码").fill(COMPANY)
    assert second.locator(".id-hint").inner_text() == "统一社会信用代码：校验位正确。"
    button = page.get_by_role("button", name="提交立案")
    button.dblclick()  # a double tap files once
    page.locator("#filed").wait_for()
    assert page.locator("#filed-number").inner_text() == number
    assert page.locator("#dossiers > li").count() == 2
    check_page(page, expected_statuses=(422,))
    assert _count(court["court_admin"], number) == 1

    case = court["court_admin"].get(f"/api/v1/cases?number={quote(number)}").get_json()["items"][0]
    full = clerk.get(f"/api/v1/cases/{case['id']}").get_json()
    assert full["kind"] == "speedy" and full["judge_id"] == judge.id and len(full["dossiers"]) == 2
    assert [(p["name"], p["id_number"]) for p in full["parties"]] == [("张三", GOOD_ID), ("威海某某贸易有限公司", COMPANY)]

    # The A4 label sheet opens from the link with the browser's session.
    href = page.get_by_role("link", name="打印卷宗标签（A4）").get_attribute("href")
    pdf = page.request.get(href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "labels.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert text.count(number) == 2


def test_the_label_sheet_route_is_for_the_roles_that_print_or_scan_labels(court, tmp_path):
    case = court.file_case(volumes=3)
    sheet = court["file_clerk"].get(f"/api/v1/cases/{case['id']}/labels.pdf")
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    path = tmp_path / "sheet.pdf"
    path.write_bytes(sheet.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert [d["code"] in text for d in case["dossiers"]] == [True, True, True]
    assert court["service_clerk"].get(f"/api/v1/cases/{case['id']}/labels.pdf").status_code == 403
    assert court["intake_clerk"].get("/api/v1/cases/999999/labels.pdf").status_code == 404


def test_only_intake_clerks_get_the_form(web, person):
    browser = web()
    browser.sign_in(person("scheduler").username)
    refused = browser.get("/intake")
    assert refused.status_code == 403 and "此页面属于其他岗位" in refused.get_data(as_text=True)
