"""/archive: the queue with days left of 30 (red at 3 or fewer), and a dossier's steps from the page."""

from __future__ import annotations

from tests.browser import check_page

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_an_archivist_works_a_closed_case_through_its_steps(signed_in, person, court, clock, viewport):
    archivist = person("archivist", "孙丽")
    case = court.file_case(volumes=1)
    dossier = case["dossiers"][0]
    clock.set("2027-01-10T10:00:00+08:00")
    closed = court["judge"].post(f"/api/v1/cases/{case['id']}/close",
                                 json={"closed_at": "2027-01-10T09:00:00+08:00", "outcome": "调解结案"})
    assert closed.status_code == 200, closed.get_json()
    clock.set("2027-02-07T10:00:00+08:00")  # 28 days after closing: 2 days left
    scan = archivist.post("/api/v1/scans", json={"code": dossier["qr_token"], "action": "receive",
                                                  "location": "档案室收件台", "client_scan_id": f"arch-{viewport}-1"})
    assert scan.status_code == 201, scan.get_json()

    page = signed_in(archivist, "/archive")
    row = page.locator(f"#queue li[data-case='{case['id']}']")
    row.wait_for()
    assert "overdue" in row.get_attribute("class") and row.locator(".pill.bad").inner_text() == "剩余2天"
    check_page(page)
    row.get_by_role("button", name="办理").click()
    card = page.locator(f"#dossiers li[data-dossier='{dossier['id']}']")
    card.wait_for()
    assert card.locator("form[data-step=receive] .pill.ok").is_visible()

    # Binding before counting is refused, with the reason next to the step.
    card.locator("form[data-step=bind]").get_by_role("button", name="登记").click()
    error = card.locator("form[data-step=bind] .error")
    page.wait_for_function("el => el.textContent.length > 0", arg=error.element_handle())
    assert "清点" in error.inner_text() and "count" not in error.inner_text()
    check_page(page, expected_statuses=(409,))

    card.locator("form[data-step=count]").get_by_label("材料件数").fill("86")
    card.locator("form[data-step=count]").get_by_role("button", name="登记").click()
    page.locator(f"#dossiers li[data-dossier='{dossier['id']}'] form[data-step=count] .pill.ok").wait_for()
    card.locator("form[data-step=bind]").get_by_role("button", name="登记").click()
    page.locator(f"#dossiers li[data-dossier='{dossier['id']}'] form[data-step=bind] .pill.ok").wait_for()
    card.locator("form[data-step=digitise] input[type=file]").set_input_files(
        files=[{"name": "scan.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    card.locator("form[data-step=digitise]").get_by_role("button", name="上传").click()
    link = page.locator(f"#dossiers li[data-dossier='{dossier['id']}'] form[data-step=digitise] a")
    link.wait_for()
    opened = page.request.get(link.get_attribute("href"))
    assert opened.status == 200 and opened.body() == PDF
    card.locator("form[data-step=archive]").get_by_label("档案库位置").fill("档案库 3-2-14")
    card.locator("form[data-step=archive]").get_by_role("button", name="登记").click()
    page.locator(f"#dossiers li[data-dossier='{dossier['id']}'] form[data-step=archive] .pill.ok").wait_for()
    check_page(page, expected_statuses=(409,))

    record = archivist.get(f"/api/v1/dossiers/{dossier['id']}/archive").get_json()
    assert record["material_count"] == 86 and record["archive_location"] == "档案库 3-2-14" and record["archived_at"]
    assert court["court_admin"].get(f"/api/v1/cases/{case['id']}").get_json()["status"] == "archived"


def test_the_archive_scan_opens_only_once_there_is_one(court):
    case = court.file_case(volumes=1)
    missing = court["archivist"].get(f"/api/v1/dossiers/{case['dossiers'][0]['id']}/archive/scan")
    assert missing.status_code == 404 and missing.get_json()["field"] == "dossier_id"
    assert court["service_clerk"].get(f"/api/v1/dossiers/{case['dossiers'][0]['id']}/archive/scan").status_code == 403
