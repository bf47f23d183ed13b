"""No backdating: an attempt never precedes its order, a carrier event never precedes the
mailing it reports, and the legal service date never precedes the order (issue 10, item 5)."""

import re
from datetime import datetime

import pytest

from tests.service.conftest import ADDRESS, carrier_post, make_photo

CJK = re.compile(r"[\u4e00-\u9fff]")


def _audited(app, action: str) -> int:
    from sqlalchemy import func, select

    from ancillary.audit.models import AuditEntry
    from ancillary.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))
        db.session.remove()
        return count


def _refused(response, code: str, field: str) -> dict:
    body = response.get_json()
    assert response.status_code == 422, body
    assert (body["error"], body["field"]) == (code, field)
    assert CJK.search(body["message"]), body["message"]  # a sentence in Chinese first
    return body


def test_a_served_visit_dated_20_hours_before_filing_is_refused_and_nothing_is_written(app, service):
    # The case was filed at 09:00 on 4 January; the order opened when it was entered, at 09:30.
    response = service.attempt(channel="personal", outcome="served", received_by="李四", address=ADDRESS,
                               skip_reason="当面送达", attempted_at="2027-01-03T13:00:00+08:00")
    body = _refused(response, "attempt_before_order", "attempted_at")
    assert "2027-01-04 09:30" in body["message"]
    order = service.get()
    assert (order["status"], order["layer"], order["served_at"]) == ("pending", 1, None)
    assert [a["channel"] for a in order["attempts"]] == ["address_reuse"]
    assert _audited(app, "service_attempt.record") == 0 and _audited(app, "service_order.served") == 0


def test_an_attempt_between_filing_and_the_order_opening_is_refused_one_at_the_opening_is_not(service):
    early = service.attempt(channel="phone", outcome="no_answer", attempted_at="2027-01-04T09:15:00+08:00")
    _refused(early, "attempt_before_order", "attempted_at")
    on_time = service.attempt(channel="phone", outcome="no_answer", attempted_at="2027-01-04T09:30:00+08:00")
    assert on_time.status_code == 201, on_time.get_json()


def test_english_readers_get_the_same_refusal_in_english(service):
    body = {"channel": "phone", "outcome": "no_answer", "attempted_at": "2027-01-01T09:00:00+08:00"}
    response = service.clerk.post(f"{service.url}/attempts", json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.get_json()["message"] == (
        "the attempt cannot be dated before the service order was opened (2027-01-04 09:30)")


def test_a_validly_signed_carrier_event_from_2001_does_not_set_the_service_date(app, client, service,
                                                                                  carrier_secret):
    assert service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话").status_code == 201
    good = {"tracking_number": "EA123456785CN", "code": "accepted", "event_at": "2027-01-04T10:00:00+08:00"}
    old = {"tracking_number": "EA123456785CN", "code": "signed", "event_at": "2001-01-01T10:00:00+08:00",
           "signed_by": "李四"}
    response = carrier_post(client, app, {"events": [good, old]})
    _refused(response, "event_before_mailing", "events.1.event_at")
    order = service.get()
    assert order["status"] == "in_progress" and order["served_at"] is None
    assert order["attempts"][-1]["carrier_events"] == []  # the good event of the refused call is not kept either


def test_a_carrier_event_a_minute_before_the_mailing_is_refused_one_after_is_applied(app, client, service,
                                                                                       clock, carrier_secret):
    clock.set("2027-01-05T10:00:00+08:00")
    mailed = service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话",
                             attempted_at="2027-01-05T09:00:00+08:00")
    assert mailed.status_code == 201, mailed.get_json()
    event = {"tracking_number": "EA123456785CN", "code": "signed", "signed_by": "李四"}
    before = carrier_post(client, app, {"events": [{**event, "event_at": "2027-01-05T08:59:00+08:00"}]})
    _refused(before, "event_before_mailing", "events.0.event_at")
    after = carrier_post(client, app, {"events": [{**event, "event_at": "2027-01-05T09:40:00+08:00"}]})
    assert after.status_code == 200 and after.get_json()["applied"] == 1
    assert service.get()["legal_service_date"] == "2027-01-05"


def test_the_carrier_csv_reports_backdated_and_absurd_rows_by_line_and_keeps_the_good_ones(app, service, tmp_path,
                                                                                            clock):
    service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话")
    path = tmp_path / "ems.csv"
    path.write_text(
        "tracking_number,event_at,code,location,description,signed_by\n"
        "EA123456785CN,0001-01-01T00:00:00,signed,,,李四\n"
        "EA123456785CN,2001-01-01T10:00:00+08:00,signed,,,李四\n"
        "EA123456785CN,9999-12-31T23:59:59-12:00,signed,,,李四\n"
        "EA123456785CN,2027-01-04T09:50:00+08:00,accepted,威海,,\n", encoding="utf-8")
    clock.set("2027-01-04T10:00:00+08:00")
    result = app.test_cli_runner().invoke(args=["service", "import-carrier", str(path)])
    assert result.exit_code == 1, result.output
    assert "applied 1, duplicates 0, bad rows 3" in result.output
    assert "line 2: the carrier event is dated before the year 2000" in result.output
    assert "line 3: the carrier event cannot be dated before the envelope was mailed (2027-01-04 09:30)" \
        in result.output
    assert "line 4: the carrier event cannot be dated in the future" in result.output
    order = service.get()
    assert order["status"] == "in_progress"
    assert [e["code"] for e in order["attempts"][-1]["carrier_events"]] == ["accepted"]


def test_a_posting_dated_before_the_mail_came_back_is_refused(at_posting):
    # The envelope came back unclaimed on 11 January at 10:00.
    photo = make_photo(taken="2027:01:11 09:00:00")
    early = at_posting.attempt(channel="posting", photo=photo, attempted_at="2027-01-11T09:30:00+08:00")
    _refused(early, "posting_before_return", "attempted_at")
    assert at_posting.get()["status"] == "in_progress"
    on_time = at_posting.attempt(channel="posting", photo=make_photo(taken="2027:01:11 11:00:00"),
                                 attempted_at="2027-01-11T11:00:00+08:00")
    assert on_time.status_code == 201, on_time.get_json()
    assert on_time.get_json()["served_at"] == "2027-01-11T11:00:00+08:00"


@pytest.mark.parametrize("hours_before", [1, 24 * 365])
def test_no_path_sets_a_legal_service_date_before_the_order(app, service, hours_before):
    """The rule sits where every path ends (``ladder.serve``), whatever called it."""
    from datetime import timedelta

    from ancillary.errors import Invalid
    from ancillary.extensions import db
    from ancillary.service.ladder import serve
    from ancillary.service.models import ServiceOrder

    with app.app_context():
        order = db.session.get(ServiceOrder, service.order["id"])
        at = order.created_at - timedelta(hours=hours_before)
        with pytest.raises(Invalid) as refused:
            serve(db.session, order, order.attempts[0], at, now=datetime.fromisoformat("2027-01-05T09:00:00+08:00"),
                  field="delivered_at")
        assert (refused.value.code, refused.value.field) == ("service_before_order", "delivered_at")
        db.session.rollback()
        db.session.remove()
    assert service.get()["status"] == "pending"
