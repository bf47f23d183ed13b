"""Rules of the ladder a QA walkthrough asked about: the recorded skip reason, attempts in the
order they happened, direct service never skipped by the clock, skip_reason where nothing is
skipped, delivery reports by the clerk, and a closed case stopping service."""

import subprocess

from tests.service.conftest import ADDRESS, deliver, sweep_at
from tests.service.test_ladder import outbox


def pdf_text_and_fonts(actor, url, tmp_path):
    response = actor.get(f"{url}/proof.pdf")
    assert response.status_code == 200, response.get_json()
    path = tmp_path / "proof.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text.replace("\n", ""), fonts.splitlines()[2:]  # past the two header lines


# --- 1. the skip reason is recorded on the attempt ------------------------------------------


def test_the_skip_reason_is_stored_on_the_attempt_shown_and_in_the_proof(court, service, tmp_path):
    response = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS,
                               skip_reason="电话停机，短信无法送达")
    assert response.status_code == 201, response.get_json()
    attempt = response.get_json()["attempts"][-1]
    assert attempt["skip_reason"] == "电话停机，短信无法送达"
    assert service.get(court["judge"])["attempts"][-1]["skip_reason"] == "电话停机，短信无法送达"
    # The outcome projection shows no free text of the clerk's.
    assert "电话停机" not in court["scheduler"].get(service.url).get_data(as_text=True)
    # A second visit in the same layer skips nothing: no reason on it.
    second = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS)
    assert second.get_json()["attempts"][-1]["skip_reason"] is None
    text, _ = pdf_text_and_fonts(court["judge"], service.url, tmp_path)
    assert "电话停机，短信无法送达" in text


# --- 2. attempts in the order they happened; one embedded font -------------------------------


def test_attempts_are_listed_by_when_they_happened_and_the_proof_embeds_only_the_cjk_font(
        court, service, clock, tmp_path):
    clock.set("2027-01-05T18:00:00+08:00")
    late = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS, skip_reason="电话无人接听",
                           attempted_at="2027-01-05T16:30:00+08:00", notes="下午走访")
    assert late.status_code == 201, late.get_json()
    early = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS,
                            attempted_at="2027-01-05T10:00:00+08:00", notes="上午走访")  # recorded late
    assert early.status_code == 201, early.get_json()
    order = service.get(court["judge"])
    assert [(a["seq"], a["attempted_at"]) for a in order["attempts"]] == [
        (1, "2027-01-04T09:30:00+08:00"), (3, "2027-01-05T10:00:00+08:00"), (2, "2027-01-05T16:30:00+08:00")]
    assert [a["seq"] for a in court["scheduler"].get(service.url).get_json()["attempts"]] == [1, 3, 2]

    text, fonts = pdf_text_and_fonts(court["judge"], service.url, tmp_path)
    assert text.index("上午走访") < text.index("下午走访")
    assert fonts, "no font in the proof"
    for line in fonts:
        assert "WenQuanYi" in line and line.split()[-5] == "yes", line  # no Helvetica footer


# --- 3. the clock never skips direct service --------------------------------------------------


def test_direct_service_window_closing_without_visits_keeps_the_order_there_overdue(app, court, open_service,
                                                                                   clock):
    clerk = court.make_actor("service_clerk", phone="+8613811113333")
    manager = court.make_actor("contractor_manager", phone="+8613811114444")
    service = open_service(clerk=clerk)
    assert sweep_at(app, "2027-01-08T00:05:00+08:00") == {"escalated": 1}  # layer 1 → direct service
    # Layer 2 (7 days from 7 January) closes at the end of 14 January; no visit was made.
    assert sweep_at(app, "2027-01-16T00:05:00+08:00") == {"overdue": 1}
    order = service.get()
    assert order["layer"] == 2 and order["status"] == "pending"
    assert order["overdue_at"] == "2027-01-14T23:59:59+08:00"
    assert order["next_step"] == {"channel": "personal", "due_at": "2027-01-14T23:59:59+08:00"}
    clock.set("2027-01-16T08:00:00+08:00")
    task = court["court_admin"].get(f"/api/v1/tasks/{service.task['id']}").get_json()
    assert task["sla"] == "overdue" and task["due_at"] == "2027-01-14T23:59:59+08:00"
    warnings = outbox(app, kind="service.overdue")
    assert {w["recipient_id"] for w in warnings} == {clerk.id, manager.id}
    assert all(service.case["number"] in w["body"] for w in warnings)
    # Later sweeps neither move it nor warn again.
    assert sweep_at(app, "2027-01-20T09:00:00+08:00") == {}
    assert sweep_at(app, "2027-02-20T09:00:00+08:00") == {}
    assert service.get()["layer"] == 2 and len(outbox(app, kind="service.overdue")) == 2

    # The visits, made late, move it to mail; the overdue mark goes.
    clock.set("2027-02-20T16:00:00+08:00")
    for at in ("2027-02-20T10:00:00+08:00", "2027-02-20T15:00:00+08:00"):
        response = clerk.post(f"{service.url}/attempts", json={
            "channel": "personal", "outcome": "no_answer", "address": ADDRESS, "attempted_at": at})
        assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["layer"] == 3 and order["overdue_at"] is None and order["next_step"]["channel"] == "mail"


def test_one_failed_visit_is_not_enough_and_the_clerk_may_still_move_on_with_a_reason(app, service, clock):
    sweep_at(app, "2027-01-08T00:05:00+08:00")
    clock.set("2027-01-10T12:00:00+08:00")
    assert service.attempt(channel="personal", outcome="no_answer", address=ADDRESS).status_code == 201
    assert sweep_at(app, "2027-01-16T00:05:00+08:00") == {"overdue": 1}
    assert service.get()["layer"] == 2
    clock.set("2027-01-16T10:00:00+08:00")
    mailed = service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="邻居称其长期外出务工")
    assert mailed.status_code == 201, mailed.get_json()
    order = mailed.get_json()
    assert order["layer"] == 3 and order["overdue_at"] is None
    assert order["attempts"][-1]["skip_reason"] == "邻居称其长期外出务工"


def test_a_late_tick_climbs_to_direct_service_and_stops_there(app, service):
    # Layer 1 closed on 7 January, layer 2 (7 days from then) on 14 January: no visit, so no mail.
    assert sweep_at(app, "2027-01-20T08:00:00+08:00") == {"escalated": 1, "overdue": 1}
    order = service.get()
    assert order["layer"] == 2 and order["overdue_at"] == "2027-01-14T23:59:59+08:00"
    assert sweep_at(app, "2027-01-20T08:00:00+08:00") == {}  # idempotent


# --- 4. a skip_reason where nothing is skipped -------------------------------------------------


def test_a_skip_reason_where_nothing_is_skipped_is_accepted_and_ignored(app, service):
    sweep_at(app, "2027-01-08T00:05:00+08:00")  # layer 2 open
    response = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS, skip_reason="x")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["attempts"][-1]["skip_reason"] is None


def test_a_skip_needs_a_reason_that_is_not_blank(service):
    blank = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS, skip_reason="   ")
    assert blank.status_code == 422
    assert blank.get_json()["error"] == "channel_not_open" and blank.get_json()["field"] == "channel"
    assert "skip_reason" in blank.get_json()["message"]
    short = service.attempt(channel="personal", outcome="no_answer", address=ADDRESS, skip_reason="x")
    assert short.status_code == 201 and short.get_json()["attempts"][-1]["skip_reason"] == "x"


# --- 5. delivery reports and bounces ------------------------------------------------------------


def test_the_clerk_records_an_email_bounce_on_the_message_sent(app, service, clock):
    sent = service.attempt(channel="email", contact="lisi@example.cn")
    assert sent.status_code == 201, sent.get_json()
    clock.advance(minutes=20)
    bounce = service.attempt(channel="email", outcome="failed", notes="退信：邮箱不存在")
    assert bounce.status_code == 201, bounce.get_json()
    attempts = bounce.get_json()["attempts"]
    assert [(a["channel"], a["outcome"]) for a in attempts] == [("address_reuse", "failed"), ("email", "failed")]
    assert "退信" in attempts[-1]["notes"]
    assert len(outbox(app, kind="service.email")) == 1  # a report sends nothing
    again = service.attempt(channel="email", outcome="failed")
    assert again.status_code == 422 and again.get_json()["error"] == "no_message_waiting"
    assert again.get_json()["field"] == "outcome"


def test_a_delivery_the_clerk_reports_serves_with_consent(app, service, clock):
    assert service.attempt(channel="phone", outcome="delivered", consent=True,
                           notes="当事人签署电子送达确认书").status_code == 201
    assert service.attempt(channel="sms").status_code == 201
    clock.advance(minutes=5)
    report = service.attempt(channel="sms", outcome="delivered", notes="运营商回执：已送达")
    assert report.status_code == 201, report.get_json()
    order = report.get_json()
    assert order["status"] == "served" and order["served_channel"] == "sms"
    assert order["served_at"] == "2027-01-04T09:35:00+08:00"
    [sms] = outbox(app, kind="service.sms")
    deliver(app, sms["id"])  # the provider's late report changes nothing
    assert service.get()["served_at"] == "2027-01-04T09:35:00+08:00"


def test_a_refused_outcome_lists_the_ones_allowed(service):
    response = service.attempt(channel="email", outcome="served")
    assert response.status_code == 422 and response.get_json()["field"] == "outcome"
    assert "delivered, failed, sent" in response.get_json()["message"]
    phone = service.attempt(channel="phone", outcome="posted")
    assert "delivered, failed, no_answer, refused, wrong_address" in phone.get_json()["message"]


# --- 6. closing the case withdraws service ------------------------------------------------------


def test_closing_the_case_withdraws_unserved_orders_and_cancels_their_tasks(app, court, open_service):
    body = court.case_body()
    body["parties"].append({"role": "defendant", "name": "王五", "phones": ["+8613700000003"],
                            "addresses": ["山东省威海市环翠区海滨路5号"]})
    case = court.file_case(parties=body["parties"])
    admin, judge, clerk = court["court_admin"], court["judge"], court["service_clerk"]
    orders = admin.get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"]
    for order in orders:
        assert clerk.post(f"/api/v1/tasks/{order['task_id']}/claim").status_code == 200
    served, open_one = orders
    assert clerk.post(f"/api/v1/service-orders/{served['id']}/attempts", json={
        "channel": "personal", "outcome": "served", "received_by": "李四", "skip_reason": "当面送达"}).status_code == 201
    assert clerk.post(f"/api/v1/service-orders/{open_one['id']}/attempts", json={"channel": "sms"}).status_code == 201

    closed = judge.post(f"/api/v1/cases/{case['id']}/close", json={
        "closed_at": "2027-01-04T09:30:00+08:00", "outcome": "原告撤诉"})
    assert closed.status_code == 200, closed.get_json()

    withdrawn = admin.get(f"/api/v1/service-orders/{open_one['id']}").get_json()
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawn_at"] == "2027-01-04T09:30:00+08:00"
    assert withdrawn["next_step"] is None
    assert admin.get(f"/api/v1/service-orders/{served['id']}").get_json()["status"] == "served"
    tasks = {t["id"]: t["status"] for t in admin.get(f"/api/v1/tasks?case_id={case['id']}&kind=serve")
             .get_json()["items"]}
    assert tasks == {served["task_id"]: "done", open_one["task_id"]: "cancelled"}

    # The ladder stops: no sweep moves it, no attempt is taken, a late delivery serves nothing.
    assert sweep_at(app, "2027-03-01T09:00:00+08:00") == {}
    assert admin.get(f"/api/v1/service-orders/{open_one['id']}").get_json()["layer"] == 1
    refused = judge.post(f"/api/v1/service-orders/{open_one['id']}/attempts", json={"channel": "public_notice"})
    assert refused.status_code == 409 and refused.get_json()["error"] == "order_withdrawn"
    [sms] = outbox(app, kind="service.sms")
    deliver(app, sms["id"])
    assert admin.get(f"/api/v1/service-orders/{open_one['id']}").get_json()["status"] == "withdrawn"
    kpis = admin.get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31").get_json()
    assert kpis["service_orders_decided"] == 1  # a withdrawn order is not decided
