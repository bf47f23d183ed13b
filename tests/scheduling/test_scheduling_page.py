"""The scheduler's week view in headless Chromium: see the week, pick a queued case, book a suggestion."""

import socket
import threading

import pytest
from werkzeug.serving import make_server

from ancillary.scheduling.models import Hearing


@pytest.fixture
def served(app):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser(chromium):
    """The run's one Chromium (tests/browser.py): two Playwright drivers cannot share a process."""
    return chromium


@pytest.mark.browser
def test_scheduler_books_from_the_week_view(sched, served, browser, make_actor):
    booked = sched.file(judge_id=sched.court["judge"].id)
    assert sched.book(booked, starts="2027-01-07T08:30:00+08:00", ends="2027-01-07T09:30:00+08:00").status_code == 201
    waiting = sched.file(kind="speedy")
    still_open = sched.file()
    elsewhere = sched.file()
    too_late = sched.file(kind="speedy", filed_at="2026-12-20T10:00:00+08:00")  # its 7 days ended on the 27th
    scheduler = make_actor("scheduler", password="correct-horse-battery")
    # The scheduler has claimed the speedy case's task; another scheduler holds a third case's.
    assert scheduler.post(f"/api/v1/tasks/{_scheduling_task(scheduler, waiting)}/claim").status_code == 200
    assert sched["scheduler"].post(f"/api/v1/tasks/{_scheduling_task(scheduler, elsewhere)}/claim").status_code == 200

    page = browser.new_page(locale="zh-CN")
    missing = []  # every request the page makes must be answered (no favicon 404 in the console)
    page.on("response", lambda response: response.status == 404 and missing.append(response.url))
    page.goto(f"{served}/schedule?week=2027-01-04")
    assert page.is_visible("#login") and not page.is_visible("#app")
    page.fill("input[name=username]", scheduler.username)
    page.fill("input[name=password]", "wrong-password-000")
    page.click("#login button[type=submit]")
    page.wait_for_selector("#login-error:not(:empty)")
    page.fill("input[name=password]", "correct-horse-battery")
    page.click("#login button[type=submit]")

    # The week: Thursday's main room shows the booked hearing, coloured by kind; the weekend does not sit.
    block = page.wait_for_selector(f".day[data-day='2027-01-07'] .track[data-room='{sched.main_room['id']}'] .hearing")
    assert block.inner_text() == booked["number"]
    assert not page.is_visible("#login"), "the sign-in form stays on screen after signing in"
    assert "kind-summary" in block.get_attribute("class")
    assert page.locator(".day[data-day='2027-01-09']").get_attribute("class") == "day closed"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # Rooms are labelled with their venue for people: the main court by name, tribunals as they are.
    labels = page.locator(".day[data-day='2027-01-07'] .room").all_inner_texts()
    assert labels == ["第一法庭 · 院本部", "第一法庭 · 张村人民法庭"]

    # The queue: open tasks, and the task this scheduler claimed (marked), not one another scheduler holds.
    page.wait_for_selector(f"#queue button[data-case='{still_open['id']}']")
    assert "mine" not in page.get_attribute(f"#queue button[data-case='{still_open['id']}']", "class")
    mine = page.locator(f"#queue button[data-case='{waiting['id']}']")
    assert mine.get_attribute("data-status") == "claimed" and "mine" in mine.get_attribute("class")
    assert mine.inner_text().endswith("进行中")
    assert page.locator(f"#queue button[data-case='{elsewhere['id']}']").count() == 0

    # A case with no feasible slot says why: here its 7-day limit has passed.
    page.click(f"#queue button[data-case='{too_late['id']}']")
    reason = page.wait_for_selector("#suggestions .no-slot .reason")
    assert reason.get_attribute("data-code") == "past_speedy_limit"
    assert "2026-12-27T23:59:59+08:00" in reason.inner_text()
    assert page.locator("#suggestions button.slot").count() == 0

    # The claimed speedy case: its suggestions start tomorrow; booking the first puts it on the grid.
    page.click(f"#queue button[data-case='{waiting['id']}']")
    first = page.wait_for_selector("#suggestions button.slot")
    assert "2027-01-05 08:30" in first.inner_text()
    first.click()
    page.wait_for_selector(".day[data-day='2027-01-05'] .hearing.kind-speedy")
    assert waiting["number"] in page.inner_text("#message")
    page.wait_for_selector(f"#queue button[data-case='{waiting['id']}']", state="detached")
    assert sched.count(Hearing, Hearing.case_id == waiting["id"]) == 1
    assert missing == []
    page.close()


def _scheduling_task(actor, case) -> int:
    tasks = actor.get(f"/api/v1/tasks?case_id={case['id']}&kind=schedule_hearing").get_json()["items"]
    return tasks[0]["id"]


@pytest.mark.parametrize("path", ["/login", "/schedule"])  # base.html gives every signed-in page the same
def test_pages_name_their_icon_so_browsers_do_not_ask_for_favicon_ico(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert '<link rel="icon" href="data:,">' in page.get_data(as_text=True)
