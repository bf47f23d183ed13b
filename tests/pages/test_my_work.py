"""``/``, "my work": the queue in working order, claim / give back / done in one tap, overdue counted."""

from __future__ import annotations

from tests.browser import check_page


def _open_tasks(actor, kind="schedule_hearing"):
    return actor.get(f"/api/v1/tasks?kind={kind}").get_json()["items"]


def test_a_scheduler_works_the_queue_from_my_work(signed_in, person, court, clock):
    ordinary = court.file_case(kind="ordinary")
    speedy = court.file_case(kind="speedy")
    clock.set("2027-01-04T11:50:00+08:00")  # the tasks are due at 12:00: due soon
    scheduler = person("scheduler", "刘伟")
    page = signed_in(scheduler)
    assert page.locator("#who").inner_text() == "刘伟"
    rows = page.locator("#open > li")
    rows.first.wait_for()
    titles = rows.locator(".title").all_inner_texts()
    assert titles == [f"安排开庭 · {speedy['number']}", f"安排开庭 · {ordinary['number']}"]  # speedy first
    assert "due_soon" in rows.first.get_attribute("class") and rows.first.locator(".pill.due_soon").is_visible()
    assert page.locator("[data-count=overdue]").inner_text() == "0"
    check_page(page)

    rows.first.get_by_role("button", name="领取").click()
    page.locator("#mine > li").first.wait_for()
    assert page.locator("#mine .title").all_inner_texts() == [f"安排开庭 · {speedy['number']}"]
    assert page.locator("#message").inner_text() == "已领取：它已在您的列表中。"
    task = next(t for t in _open_tasks(scheduler) if t["case_id"] == speedy["id"])
    assert task["status"] == "claimed" and task["assignee_id"] == scheduler.id

    page.locator("#mine").get_by_role("button", name="完成").click()
    page.wait_for_function("document.querySelectorAll('#mine > li').length === 0")
    done = scheduler.get(f"/api/v1/tasks/{task['id']}").get_json()
    assert done["status"] == "done" and done["assignee_id"] == scheduler.id
    check_page(page)


def test_overdue_work_is_red_and_counted_and_a_lost_race_is_a_sentence(signed_in, person, court, clock):
    case = court.file_case()
    clock.set("2027-01-04T13:00:00+08:00")  # due at 12:00: an hour late
    scheduler = person("scheduler")
    page = signed_in(scheduler)
    row = page.locator("#open > li").first
    row.wait_for()
    assert "overdue" in row.get_attribute("class")
    assert page.locator("[data-count=overdue]").inner_text() == "1"
    assert "bad" in page.locator("#count-overdue").get_attribute("class")
    # Another scheduler claims it while the page is open.
    task = next(t for t in _open_tasks(court["scheduler"]) if t["case_id"] == case["id"])
    assert court["scheduler"].post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    row.get_by_role("button", name="领取").click()
    page.wait_for_function("document.querySelector('#message').textContent.length > 0")
    assert page.locator("#message").inner_text() == "刚才已被他人领取。"
    page.wait_for_function("document.querySelectorAll('#open > li').length === 0")  # the list reloads
    check_page(page, expected_statuses=(409,))


def test_a_file_clerk_is_sent_to_the_scan_station(web, person):
    browser = web()
    browser.sign_in(person("file_clerk").username)
    html = browser.get("/").get_data(as_text=True)
    assert 'href="/scan"' in html and "打开扫描台" in html
