"""/schedule in real Chromium (phone and desktop): readable blocks, a hearing moved by the page
with the judge told, a move into a conflict refused naming the case and time, the queue with
overdue tasks first, suggestions, and auto-scheduling previewed then confirmed."""

import pytest
from sqlalchemy import select

from ancillary.outbox import Notification
from ancillary.scheduling.models import Hearing, HearingStatus
from tests.browser import check_page


def _open_hearing(page, hearing_id):
    page.locator(f"[data-hearing='{hearing_id}']:visible").first.click()
    page.locator("#hearing-dialog[open]").wait_for()


def test_a_scheduler_reads_moves_and_is_refused_on_the_page(sched, person, signed_in, viewport):
    judge = person("judge", "周法官", phone="+8613800000077")
    case = sched.file(judge_id=judge.id)
    other = sched.file()
    hearing = sched.book(case).get_json()  # Thursday 7 January 09:00-10:00
    assert sched.book(other, starts="2027-01-07T14:00:00+08:00", ends="2027-01-07T15:00:00+08:00").status_code == 201
    scheduler = person("scheduler", "吴排期")
    page = signed_in(scheduler, "/schedule?week=2027-01-04")
    block = page.locator(f"[data-hearing='{hearing['id']}']:visible").first
    block.wait_for()
    text = block.inner_text()
    short = case["number"].split("1002", 1)[1]  # "民初N号": the year and court prefix are the same all week
    assert short in text and "简易" in text and "周法官" in text, text
    assert page.locator(".day[data-day='2027-01-09']").get_attribute("class") == "day closed"

    _open_hearing(page, hearing["id"])
    assert case["number"] in page.locator("#hearing-title").inner_text()
    page.locator("#move-start").fill("14:30")
    page.locator("#move-submit").click()
    error = page.locator("#dialog-error")
    error.wait_for()
    assert other["number"] in error.inner_text() and "14:00" in error.inner_text(), error.inner_text()
    # Chromium logs the refused request's 409 itself; any other console error still fails the page.
    assert [p for p in page.problems if "409" not in p] == []
    page.problems.clear()
    page.locator("#move-start").fill("10:30")
    page.locator("#move-submit").click()
    page.locator("#message.ok").wait_for()
    assert "已通知法官" in page.locator("#message").inner_text()
    moved = sched.session_do(lambda s: s.get(Hearing, hearing["id"]).starts_at.hour)
    assert moved == 2  # 10:30 in Shanghai
    told = sched.session_do(lambda s: [n.body for n in s.scalars(
        select(Notification).where(Notification.recipient_id == judge.id, Notification.kind == "hearing_moved"))])
    assert len(told) == 1 and case["number"] in told[0] and "10:30" in told[0]
    page.locator(f"[data-hearing='{hearing['id']}']:visible").first.wait_for()
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_auto_scheduling_books_what_it_previewed(sched, person, signed_in, viewport):
    cases = [sched.file(kind="speedy") for _ in range(2)] + [sched.file(kind="ordinary")]
    stale = sched.file(kind="speedy", filed_at="2026-12-20T09:00:00+08:00")
    scheduler = person("scheduler", "吴排期")
    page = signed_in(scheduler, "/schedule?week=2027-01-04")
    page.locator("#queue button").first.wait_for()
    # Overdue scheduling tasks come first: the stale case's task was due weeks ago.
    assert page.locator("#queue button").first.get_attribute("data-case") == str(stale["id"])
    assert "overdue" in page.locator("#queue button").first.get_attribute("class")
    page.locator("#auto-from").fill("2027-01-05")
    page.locator("#auto-to").fill("2027-01-08")
    page.locator("#auto-preview").click()
    page.locator("#auto-plan:not([hidden])").wait_for()
    previewed = {int(li.get_attribute("data-case")): li.inner_text()
                 for li in page.locator("#auto-scheduled li[data-case]").all()}
    assert set(previewed) == {c["id"] for c in cases}
    assert page.locator(f"#auto-unscheduled li[data-case='{stale['id']}'] .reason").inner_text().strip()
    assert sched.count(Hearing) == 0  # a preview books nothing
    page.locator("#auto-confirm").click()
    page.locator("#message:not(:empty)").wait_for()
    assert "已按预览排期" in page.locator("#message").inner_text(), page.locator("#message").inner_text()
    booked = sched.session_do(lambda s: {h.case_id: h.starts_at for h in s.scalars(
        select(Hearing).where(Hearing.status == HearingStatus.booked))})
    assert set(booked) == set(previewed)
    for case_id, starts_at in booked.items():
        from zoneinfo import ZoneInfo

        local = starts_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        assert local in previewed[case_id]
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_bad_auto_window_is_refused_next_to_the_field(sched, person, signed_in):
    scheduler = person("scheduler")
    page = signed_in(scheduler, "/schedule?week=2027-01-04")
    page.locator(".day").first.wait_for()  # the script has set the window's defaults by now
    page.locator("#auto-from").fill("2027-01-08")
    page.locator("#auto-to").fill("2027-01-05")
    page.locator("#auto-preview").click()
    page.locator("[data-error-for='to']:not(:empty)").wait_for()
    page.wait_for_load_state("networkidle")
    assert sched.count(Hearing) == 0


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_a_judge_sees_only_their_own_hearings_and_no_queue(sched, person, signed_in, viewport):
    judge = person("judge", "周法官")
    mine = sched.book(sched.file(judge_id=judge.id)).get_json()
    theirs = sched.book(sched.file(), starts="2027-01-08T09:00:00+08:00", ends="2027-01-08T10:00:00+08:00").get_json()
    page = signed_in(judge, "/schedule?week=2027-01-04")
    page.locator(f"[data-hearing='{mine['id']}']:visible").first.wait_for()
    assert page.locator(f"[data-hearing='{theirs['id']}']").count() == 0
    assert page.locator("#queue").count() == 0 and page.locator("#auto").count() == 0
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_other_roles_are_turned_away_like_the_api(person, web):
    for role, status in (("scheduler", 200), ("judge", 200), ("file_clerk", 403), ("court_admin", 403)):
        browser = web()
        browser.sign_in(person(role).username)
        assert browser.get("/schedule").status_code == status, role
    assert web().get("/schedule").status_code == 302


@pytest.mark.parametrize("path", ["/login"])
def test_pages_name_their_icon_so_browsers_do_not_ask_for_favicon_ico(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert '<link rel="icon" href="data:,">' in page.get_data(as_text=True)
