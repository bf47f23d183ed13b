"""/follow-up: the post finds itself, lists its officers' nodes overdue first, and reminds now."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser import check_page


def _post(court, follower, officers):
    answer = court["contractor_manager"].post("/api/v1/follow-up-posts",
                                               json={"user_id": follower.id, "officer_ids": officers})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def test_a_follow_up_post_sees_its_nodes_and_reminds_an_officer(signed_in, person, court, clock, app):
    follower = person("follow_up", "周洁")
    officer = court["enforcement_officer"]
    judges = [court["judge"].id, officer.id, court.make_actor("judge").id]
    post_id = _post(court, follower, judges)
    late = court.file_case(kind="enforcement", judge_id=officer.id, number="(2027)鲁1002执501号",
                           filed_at="2027-01-04T09:00:00+08:00")
    clock.set("2027-01-12T10:00:00+08:00")  # property search was due by the 11th: overdue
    soon = court.file_case(kind="enforcement", judge_id=officer.id, number="(2027)鲁1002执502号",
                           filed_at="2027-01-07T09:00:00+08:00")
    api = follower.get(f"/api/v1/follow-up-posts/{post_id}/queue").get_json()["items"]

    page = signed_in(follower, "/follow-up")  # no post id needed: the page finds the post
    rows = page.locator("#nodes > li")
    listed = [(r.get_attribute("data-case"), r.get_attribute("data-node")) for r in rows.all()]
    assert listed == [(str(n["case_id"]), n["node"]) for n in api]  # the same nodes as the API, in its order
    first = rows.first
    assert first.get_attribute("data-case") == str(late["id"]) and "overdue" in first.get_attribute("class")
    assert "(2027)鲁1002执501号" in first.inner_text() and "property_search" not in first.inner_text()
    assert str(soon["id"]) in [r.get_attribute("data-case") for r in rows.all()]
    check_page(page)

    first.get_by_role("button", name="立即提醒").click()
    page.wait_for_function("document.querySelector('#message').textContent.length > 0")
    assert page.locator("#message").inner_text() == f"已提醒{officer.username}。"
    check_page(page)

    from ancillary.extensions import db
    from ancillary.outbox import Notification

    with app.app_context():
        sent = db.session.scalars(select(Notification).where(Notification.kind == "remind_now")).all()
        assert [n.recipient_id for n in sent] == [officer.id] and "(2027)鲁1002执501号" in sent[0].body
        db.session.remove()


def test_a_follow_up_person_without_a_post_is_told_so(web, person):
    browser = web()
    browser.sign_in(person("follow_up").username)
    assert "尚未与法官或执行员结对" in browser.get("/follow-up").get_data(as_text=True)
