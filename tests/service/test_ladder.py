"""The service ladder end to end: filing → claim → electronic → direct → mail → posting → served."""

import subprocess

from tests.service.conftest import ADDRESS, carrier_post, deliver, make_photo, sweep_at


def outbox(app, **filters):
    from sqlalchemy import select

    from ancillary.extensions import db
    from ancillary.outbox import Notification

    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        for name, value in filters.items():
            query = query.where(getattr(Notification, name) == value)
        rows = [dict(id=n.id, channel=n.channel.value, to=n.to_address, body=n.body, kind=n.kind,
                     subject=n.subject, recipient_id=n.recipient_id) for n in db.session.scalars(query)]
        db.session.remove()
        return rows


def test_filing_opens_one_order_per_defendant_linked_to_its_serve_task(court):
    body = court.case_body()
    body["parties"].append({"role": "defendant", "name": "王五", "phones": ["+8613700000003"]})
    case = court.file_case(parties=body["parties"])
    admin = court["court_admin"]
    orders = admin.get(f"/api/v1/service-orders?case_id={case['id']}").get_json()
    tasks = admin.get(f"/api/v1/tasks?case_id={case['id']}&kind=serve").get_json()["items"]
    defendants = {p["id"] for p in case["parties"] if p["role"] == "defendant"}
    assert orders["total"] == 2
    assert {o["recipient_party_id"] for o in orders["items"]} == defendants
    assert {o["task_id"] for o in orders["items"]} == {t["id"] for t in tasks}
    order = orders["items"][0]
    assert order["status"] == "pending" and order["layer"] == 1
    # Layer 1 is open for 3 days, the first day not counted: to the end of 7 January.
    assert order["next_step"] == {"channel": "sms", "due_at": "2027-01-07T23:59:59+08:00"}
    assert order["attempts"][0]["channel"] == "address_reuse"


def test_the_clerk_who_claims_sees_only_that_recipient(court, open_service):
    other = court.make_actor("service_clerk")
    service = open_service()
    assert other.get(service.url).status_code == 403
    order = service.get()
    assert order["recipient"]["name"] == "李四"
    assert order["recipient"]["phones"] == ["+8613900000002"]
    assert order["addresses"][0]["text"] == ADDRESS
    assert order["assignee_id"] == service.clerk.id
    case = service.clerk.get(f"/api/v1/cases/{service.case['id']}").get_json()
    assert [p["name"] for p in case["parties"]] == ["李四"]  # not the plaintiff
    listed = service.clerk.get("/api/v1/service-orders").get_json()
    assert [o["id"] for o in listed["items"]] == [service.order["id"]]
    assert other.get("/api/v1/service-orders").get_json() == {"items": [], "total": 0}


def test_sms_goes_through_the_outbox_and_delivery_without_consent_does_not_serve(app, service):
    response = service.attempt(channel="sms")
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "in_progress"
    attempt = order["attempts"][-1]
    assert (attempt["channel"], attempt["outcome"], attempt["contact"]) == ("sms", "sent", "+8613900000002")
    [sms] = outbox(app, kind="service.sms")
    assert sms["channel"] == "sms" and sms["to"] == "+8613900000002"
    assert service.case["number"] in sms["body"]
    deliver(app, sms["id"])
    order = service.get()
    assert order["attempts"][-1]["outcome"] == "delivered"
    assert order["status"] == "in_progress"  # a text message without consent is notice, not service


def test_sms_after_signed_consent_serves_when_delivered(app, service, clock):
    phone = service.attempt(channel="phone", outcome="delivered", duration_seconds=95, consent=True,
                            notes="当事人签署电子送达确认书，已拍照存档")
    assert phone.status_code == 201, phone.get_json()
    assert service.attempt(channel="sms").status_code == 201
    [sms] = outbox(app, kind="service.sms")
    clock.advance(minutes=3)
    deliver(app, sms["id"])
    order = service.get()
    assert order["status"] == "served"
    assert order["served_channel"] == "sms"
    assert order["served_at"] == "2027-01-04T09:33:00+08:00"
    assert order["legal_service_date"] == "2027-01-04"
    assert order["next_step"] is None
    tasks = service.court["court_admin"].get(f"/api/v1/tasks/{service.task['id']}").get_json()
    assert tasks["status"] == "done"


def test_an_agreed_law_firm_is_served_by_email_on_delivery(app, court, open_service):
    firm = court["court_admin"].post("/api/v1/law-firms", json={
        "name": "山东海明律师事务所", "email": "service@haiming.example.cn", "e_service_agreement": True}).get_json()
    body = court.case_body()
    body["parties"][1]["law_firm_id"] = firm["id"]
    service = open_service(parties=body["parties"])
    assert service.get()["next_step"]["channel"] == "law_firm_email"
    assert service.attempt(channel="law_firm_email").status_code == 201
    [mail] = outbox(app, kind="service.law_firm_email")
    assert mail["channel"] == "email" and mail["to"] == "service@haiming.example.cn"
    assert service.case["number"] in mail["subject"]
    deliver(app, mail["id"])
    order = service.get()
    assert (order["status"], order["served_channel"], order["served_at"]) == (
        "served", "law_firm_email", "2027-01-04T09:30:00+08:00")
    kpis = court["court_admin"].get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31").get_json()
    assert kpis["service_success_rate"] == 1.0
    assert kpis["service_electronic_share"] == 1.0
    assert kpis["service_success_by_layer"]["electronic"] == 1.0


def test_a_firm_without_agreement_cannot_be_served_electronically(court, open_service):
    firm = court["court_admin"].post("/api/v1/law-firms", json={
        "name": "山东泰山律师事务所", "email": "x@taishan.example.cn", "e_service_agreement": False}).get_json()
    body = court.case_body()
    body["parties"][1]["law_firm_id"] = firm["id"]
    service = open_service(parties=body["parties"])
    response = service.attempt(channel="law_firm_email")
    assert response.status_code == 422
    assert response.get_json()["field"] == "channel"


def test_the_whole_ladder_to_posting_with_a_geolocated_photo(app, client, service, clock, carrier_secret, tmp_path):
    # Layer 1 closes at the end of 7 January: the sweep moves the order to direct service.
    assert sweep_at(app, "2027-01-07T23:00:00+08:00") == {}
    assert sweep_at(app, "2027-01-08T00:05:00+08:00") == {"escalated": 1}
    order = service.get()
    assert order["layer"] == 2 and order["next_step"]["channel"] == "personal"
    clock.set("2027-01-08T17:00:00+08:00")
    for minute in ("10:00", "16:30"):
        response = service.attempt(channel="personal", outcome="no_answer",
                                   attempted_at=f"2027-01-08T{minute}:00+08:00", address=ADDRESS)
        assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["layer"] == 3 and order["next_step"]["channel"] == "mail"  # two failures: mail

    mailed = service.attempt(channel="mail", tracking_number="EA123456785CN")
    assert mailed.status_code == 201, mailed.get_json()
    assert mailed.get_json()["attempts"][-1]["address"] == ADDRESS
    clock.set("2027-01-20T12:00:00+08:00")
    payload = {"events": [
        {"tracking_number": "EA123456785CN", "event_at": "2027-01-09T09:00:00+08:00", "code": "accepted",
         "location": "威海环翠揽投部"},
        {"tracking_number": "EA123456785CN", "event_at": "2027-01-19T17:00:00+08:00", "code": "unclaimed",
         "description": "逾期无人领取，退回"},
    ]}
    hook = carrier_post(client, app, payload)
    assert hook.status_code == 200, hook.get_json()
    assert hook.get_json() == {"applied": 2, "duplicates": 0, "unknown": []}
    assert carrier_post(client, app, payload).get_json()["duplicates"] == 2  # replays change nothing
    order = service.get()
    assert order["attempts"][-1]["outcome"] == "unclaimed"
    assert [e["code"] for e in order["attempts"][-1]["carrier_events"]] == ["accepted", "unclaimed"]
    assert order["next_step"]["channel"] == "posting"

    photo = make_photo(lat=37.5105, lon=122.1203, taken="2027:01:20 11:40:00")
    posted = service.attempt(channel="posting", photo=photo, attempted_at="2027-01-20T11:45:00+08:00",
                             address=ADDRESS, notes="张贴于住所门口")
    assert posted.status_code == 201, posted.get_json()
    order = posted.get_json()
    attempt = order["attempts"][-1]
    assert order["status"] == "served" and order["served_at"] == "2027-01-20T11:45:00+08:00"
    assert (attempt["latitude"], attempt["longitude"]) == (37.5105, 122.1203)
    assert attempt["flags"] == [] and attempt["distance_m"] < 200
    import hashlib

    assert attempt["photo"]["sha256"] == hashlib.sha256(photo).hexdigest()
    stored = app.config["SETTINGS"].storage_dir / "service" / attempt["photo"]["sha256"][:2]
    assert any(stored.iterdir())

    # The proof: every attempt, the photo embedded, its hash, the CJK font embedded.
    pdf = service.court["judge"].get(f"{service.url}/proof.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    path = tmp_path / "proof.pdf"
    path.write_bytes(pdf.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    for expected in (service.case["number"], "李四", ADDRESS, attempt["photo"]["sha256"], "EA123456785CN",
                     "逾期无人领取", "张贴于住所门口", "2027-01-20 11:45"):
        assert expected in text.replace("\n", ""), expected
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    line = next(x for x in fonts.splitlines() if "WenQuanYi" in x)
    assert line.split()[-5] == "yes"  # emb
    images = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) == 3  # header, rule, one photo

    # Nothing more is recorded on a served order.
    again = service.attempt(channel="personal", outcome="no_answer")
    assert again.status_code == 409 and again.get_json()["error"] == "order_served"


def test_direct_service_with_a_signed_receipt_or_a_witnessed_refusal_serves(service, open_service):
    skip = service.attempt(channel="personal", outcome="served", address=ADDRESS)
    assert skip.status_code == 422 and skip.get_json()["field"] == "channel"  # layer 1 still open
    no_signer = service.attempt(channel="personal", outcome="served", skip_reason="电话均无人接听")
    assert no_signer.status_code == 422 and no_signer.get_json()["field"] == "received_by"
    served = service.attempt(channel="personal", outcome="served", received_by="李四",
                             skip_reason="电话均无人接听")
    assert served.status_code == 201, served.get_json()
    assert served.get_json()["status"] == "served" and served.get_json()["served_channel"] == "personal"

    other = open_service()
    bare = other.attempt(channel="personal", outcome="refused", skip_reason="直接送达")
    assert bare.status_code == 422 and bare.get_json()["field"] == "witness"
    refused = other.attempt(channel="personal", outcome="refused", witness="社区网格员 赵六", skip_reason="直接送达")
    assert refused.status_code == 201
    assert refused.get_json()["status"] == "served"


def test_the_ladder_never_goes_back(service):
    assert service.attempt(channel="personal", outcome="no_answer", skip_reason="电话停机").status_code == 201
    back = service.attempt(channel="sms")
    assert back.status_code == 422
    assert back.get_json()["error"] == "channel_not_open" and back.get_json()["field"] == "channel"


def test_mail_signed_serves_on_the_signing_date(app, client, service, clock, carrier_secret):
    assert service.attempt(channel="mail", tracking_number="1012345678901", skip_reason="当事人要求邮寄").status_code == 201
    clock.set("2027-01-12T09:00:00+08:00")
    hook = carrier_post(client, app, {"events": [{"tracking_number": "1012345678901", "code": "signed",
                                                  "event_at": "2027-01-10T15:20:00+08:00", "signed_by": "李四"}]})
    assert hook.get_json()["applied"] == 1
    order = service.get()
    assert order["status"] == "served" and order["legal_service_date"] == "2027-01-10"
    assert order["attempts"][-1]["received_by"] == "李四"


def test_bad_address_mail_exhausts_and_the_judge_orders_public_notice(app, client, service, clock, carrier_secret):
    service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话")
    clock.set("2027-01-12T09:00:00+08:00")
    carrier_post(client, app, {"events": [{"tracking_number": "EA123456785CN", "code": "wrong_address",
                                           "event_at": "2027-01-11T10:00:00+08:00", "description": "查无此人"}]})
    order = service.get()
    assert order["status"] == "exhausted"
    assert order["addresses"][0]["failed"] is True
    assert order["next_step"] == {"channel": "public_notice", "due_at": None}
    refused = service.attempt(channel="personal", outcome="no_answer", address="山东省威海市环翠区某路9号")
    assert refused.status_code == 409 and refused.get_json()["error"] == "order_exhausted"
    assert service.attempt(channel="public_notice").status_code == 403  # the clerk may not order it

    judge = service.court["judge"]
    notice = service.attempt(actor=judge, channel="public_notice", attempted_at="2027-01-12T08:00:00+08:00",
                             notes="人民法院报公告")
    assert notice.status_code == 201, notice.get_json()
    order = notice.get_json()
    assert order["status"] == "in_progress" and order["layer"] == 4
    assert order["next_step"] == {"channel": "public_notice", "due_at": "2027-02-11T08:00:00+08:00"}
    assert sweep_at(app, "2027-02-11T07:00:00+08:00") == {}
    assert sweep_at(app, "2027-02-11T09:00:00+08:00") == {"deemed_served": 1}
    order = service.get(judge)
    assert order["status"] == "served" and order["served_at"] == "2027-02-11T08:00:00+08:00"
    assert order["served_channel"] == "public_notice"
    kpis = service.court["court_admin"].get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-31").get_json()
    assert kpis["service_success_rate"] == 0.0  # public notice is a fallback, not successful service
    assert kpis["service_success_by_layer"]["public_notice"] == 1.0


def test_addresses_confirmed_in_other_cases_come_first_and_failed_ones_are_marked(court, open_service):
    first = open_service()
    first.attempt(channel="personal", outcome="served", received_by="李四", skip_reason="当面送达",
                  address="山东省威海市环翠区青岛路8号", attempted_at="2027-01-04T09:30:00+08:00")
    second = open_service()
    second.attempt(channel="personal", outcome="moved", skip_reason="当面送达", address=ADDRESS)
    body = court.case_body()
    third = open_service(parties=body["parties"])
    addresses = third.get()["addresses"]
    assert addresses[0]["text"] == "山东省威海市环翠区青岛路8号"
    assert addresses[0]["source"] == "confirmed"
    assert addresses[0]["source_case_number"] == first.case["number"]
    assert first.case["number"] in addresses[0]["source_text"] and "2027-01-04" in addresses[0]["source_text"]
    assert addresses[1]["text"] == ADDRESS and addresses[1]["failed"] is True
    assert addresses[1]["failed_reason"] == "moved"
    reuse = third.get()["attempts"][0]
    assert (reuse["channel"], reuse["outcome"]) == ("address_reuse", "delivered")
    # Direct service goes to the confirmed address by default, not the failed one.
    response = third.attempt(channel="personal", outcome="no_answer", skip_reason="当面送达")
    assert response.get_json()["attempts"][-1]["address"] == "山东省威海市环翠区青岛路8号"


def test_the_sweep_warns_the_assigned_clerk_once_before_the_deadline(app, court, open_service):
    clerk = court.make_actor("service_clerk", phone="+8613811112222")
    service = open_service(clerk=clerk)
    assert sweep_at(app, "2027-01-07T12:00:00+08:00") == {"warned": 1}
    assert sweep_at(app, "2027-01-07T13:00:00+08:00") == {}
    [warning] = outbox(app, kind="service.deadline")
    assert warning["to"] == "+8613811112222" and warning["recipient_id"] == clerk.id
    assert service.case["number"] in warning["body"]


def test_a_scheduler_sees_the_outcome_but_no_contact_data(court, service):
    service.attempt(channel="personal", outcome="served", received_by="李四", skip_reason="当面送达")
    seen = court["scheduler"].get(service.url)
    assert seen.status_code == 200
    body = seen.get_json()
    assert body["status"] == "served" and body["served_at"] and body["legal_service_date"]
    text = seen.get_data(as_text=True)
    for secret in ("+8613900000002", "统一路", "李四", '"recipient"', "addresses", '"address"', "contact"):
        assert secret not in text, secret


def test_a_late_tick_climbs_every_closed_window_in_one_run(app, service):
    # Layer 1 closed on 7 January, layer 2 (7 days from then) on 14 January: the sweep climbs
    # to direct service and finds it overdue (no visit made) in the same run.
    assert sweep_at(app, "2027-01-20T08:00:00+08:00") == {"escalated": 1, "overdue": 1}
    order = service.get()
    assert order["layer"] == 2
    assert order["next_step"] == {"channel": "personal", "due_at": "2027-01-14T23:59:59+08:00"}
    assert sweep_at(app, "2027-01-20T08:00:00+08:00") == {}  # idempotent
