"""Bad input gets a clear 4xx naming the field, and nothing is written."""


import pytest

from tests.service.conftest import ADDRESS, carrier_post, make_photo, png_bomb


def attempts_of(service):
    return len(service.get()["attempts"])


def stored_files(app):
    root = app.config["SETTINGS"].storage_dir / "service"
    return sorted(p.name for p in root.rglob("*") if p.is_file()) if root.exists() else []


def truncated_jpeg():
    data = make_photo(size=(400, 300))
    return data[: len(data) // 2]


@pytest.mark.parametrize("photo, status, error", [
    (b"this is not an image at all", 422, "not_an_image"),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj", 422, "not_an_image"),
    (None, 422, "photo_truncated"),  # a JPEG cut in half
    (png_bomb(), 413, "photo_too_many_pixels"),
    (make_photo(gps={1: "N", 2: (95.0, 0.0, 0.0), 3: "E", 4: (122.0, 0.0, 0.0)}), 422, "photo_gps_invalid"),
    (make_photo(gps={1: "N", 2: (37.0, 75.0, 0.0), 3: "E", 4: (122.0, 0.0, 0.0)}), 422, "photo_gps_invalid"),
    (make_photo(gps={1: "Q", 2: (37.0, 5.0, 0.0), 3: "E", 4: (122.0, 0.0, 0.0)}), 422, "photo_gps_invalid"),
    (make_photo(gps={1: "N", 2: (37.0, 5.0, 0.0), 3: "E", 4: (190.0, 0.0, 0.0)}), 422, "photo_gps_invalid"),
])
def test_bad_photos_are_refused_and_nothing_is_written(app, at_posting, photo, status, error):
    before = attempts_of(at_posting)
    files = stored_files(app)
    response = at_posting.attempt(channel="posting", photo=photo if photo is not None else truncated_jpeg(),
                                  address=ADDRESS, attempted_at="2027-01-12T08:30:00+08:00")
    assert response.status_code == status, response.get_json()
    body = response.get_json()
    assert body["error"] == error and body["field"] == "photo"
    assert attempts_of(at_posting) == before
    assert at_posting.get()["status"] == "in_progress"
    assert stored_files(app) == files


def test_a_photo_over_the_size_limit_is_refused_early_with_413(app, at_posting):
    limit = app.config["SETTINGS"].photo_max_bytes
    files = stored_files(app)  # the storage directory is the run's: other tests' photos stay there
    response = at_posting.attempt(channel="posting", photo=b"\xff\xd8" + b"\0" * (limit + 300_000))
    assert response.status_code == 413
    assert response.get_json()["field"] == "photo"
    assert stored_files(app) == files


def test_questionable_photos_are_kept_but_flagged(app, at_posting):
    far = make_photo(lat=37.52, lon=122.12, taken="2027:01:10 08:00:00")  # about 1.1 km away, two days old
    response = at_posting.attempt(channel="posting", photo=far, address=ADDRESS,
                                  attempted_at="2027-01-12T08:30:00+08:00")
    assert response.status_code == 201, response.get_json()
    attempt = response.get_json()["attempts"][-1]
    assert set(attempt["flags"]) == {"far_from_address", "older_than_limit"}
    assert 1000 < attempt["distance_m"] < 1300
    assert response.get_json()["status"] == "served"  # flagged, not refused: the judge weighs it


def test_a_photo_without_gps_or_time_is_flagged(app, at_posting):
    response = at_posting.attempt(channel="posting", photo=make_photo(lat=None, taken=None, fmt="PNG"),
                                  address=ADDRESS)
    assert response.status_code == 201, response.get_json()
    attempt = response.get_json()["attempts"][-1]
    assert set(attempt["flags"]) == {"no_gps", "no_time"}
    assert attempt["latitude"] is None and attempt["photo"]["mime"] == "image/png"


def test_posting_needs_a_photo_and_unclaimed_mail(service, at_posting):
    response = at_posting.attempt(channel="posting", address=ADDRESS)
    assert response.status_code == 422 and response.get_json()["field"] == "photo"


def test_posting_before_the_mail_came_back_is_refused(open_service):
    fresh = open_service()
    fresh.attempt(channel="mail", tracking_number="EA000000031CN", skip_reason="无电话")
    response = fresh.attempt(channel="posting", photo=make_photo(), address=ADDRESS)
    assert response.status_code == 422
    assert response.get_json()["error"] == "posting_not_open"


@pytest.mark.parametrize("number, error", [
    ("EA12345678CN", "tracking_number_shape"),  # one digit short
    ("EA123456784CN", "tracking_number_shape"),  # wrong S10 check digit
    ("12345", "validation_error"),
    ("ЕА123456785CN", "tracking_number_shape"),  # Cyrillic letters
])
def test_tracking_numbers_of_the_wrong_shape(service, number, error):
    response = service.attempt(channel="mail", tracking_number=number, skip_reason="无电话")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"] == error and response.get_json()["field"] == "tracking_number"
    assert attempts_of(service) == 1 and service.get()["layer"] == 1  # nothing written, not even the layer


def test_mail_without_tracking_number_and_a_reused_one(open_service, service):
    response = service.attempt(channel="mail", skip_reason="无电话")
    assert response.status_code == 422 and response.get_json()["field"] == "tracking_number"
    assert service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="x1").status_code == 201
    other = open_service()
    again = other.attempt(channel="mail", tracking_number="ea 123 456 785 cn", skip_reason="x1")
    assert again.status_code == 409 and again.get_json()["field"] == "tracking_number"


@pytest.mark.parametrize("body, field", [
    ({"channel": "fax"}, "channel"),
    ({}, "channel"),
    ({"channel": "phone", "outcome": "served"}, "outcome"),  # a phone call never serves
    ({"channel": "phone", "outcome": "teleported"}, "outcome"),
    ({"channel": "phone"}, "outcome"),
    ({"channel": "address_reuse"}, "channel"),
    ({"channel": "phone", "outcome": "no_answer", "attempted_at": "2027-01-05T09:00:00+08:00"}, "attempted_at"),
    ({"channel": "phone", "outcome": "no_answer", "attempted_at": "2027-01-04T09:00:00"}, "attempted_at"),
    ({"channel": "phone", "outcome": "no_answer", "duration_seconds": -4}, "duration_seconds"),
    ({"channel": "phone", "outcome": "delivered", "consent": True}, "consent"),
    ({"channel": "sms", "outcome": "served"}, "outcome"),
    ({"channel": "mail", "tracking_number": "EA123456785CN", "carrier": "pigeon", "skip_reason": "x1"}, "carrier"),
])
def test_nonsense_attempts_name_the_field(service, body, field):
    response = service.attempt(**body)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field
    assert attempts_of(service) == 1


def test_a_body_that_is_not_json_or_a_form(service):
    response = service.clerk.post(f"{service.url}/attempts", data="channel=sms", content_type="text/plain")
    assert response.status_code == 415
    response = service.clerk.post(f"{service.url}/attempts", data="[1, 2", content_type="application/json")
    assert response.status_code == 400
    form = service.clerk.post(f"{service.url}/attempts", data={"channel": "posting", "photo": "not a file"},
                              content_type="multipart/form-data")
    assert form.status_code == 422 and form.get_json()["field"] == "photo"


def test_a_photo_on_a_channel_it_cannot_prove(service):
    response = service.attempt(channel="phone", outcome="no_answer", photo=make_photo())
    assert response.status_code == 422 and response.get_json()["field"] == "photo"


def test_unknown_order_is_404(court):
    response = court["court_admin"].get("/api/v1/service-orders/99999")
    assert response.status_code == 404


def _carrier_rows(app):
    from sqlalchemy import func, select

    from ancillary.extensions import db
    from ancillary.service.models import CarrierEvent

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(CarrierEvent))
        db.session.remove()
        return count


def test_unsigned_or_badly_signed_carrier_webhooks_get_403_and_change_nothing(app, client, service, carrier_secret):
    service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话")
    payload = {"events": [{"tracking_number": "EA123456785CN", "code": "signed",
                           "event_at": "2027-01-04T09:50:00+08:00", "signed_by": "李四"}]}
    unsigned = client.post("/api/v1/webhooks/carrier", json=payload)
    assert unsigned.status_code == 403 and unsigned.get_json()["error"] == "bad_signature"
    assert carrier_post(client, app, payload, secret="another-secret").status_code == 403
    assert carrier_post(client, app, payload, signature="md5=abc").status_code == 403
    assert carrier_post(client, app, payload, signature="sha256=" + "0" * 64).status_code == 403
    assert _carrier_rows(app) == 0
    assert service.get()["status"] == "in_progress"


def test_a_webhook_without_a_configured_secret_accepts_nothing(app, client, service):
    assert app.config["SETTINGS"].carrier_secret == ""
    response = carrier_post(client, app, {"events": []}, secret="", signature="sha256=")
    assert response.status_code == 403


def test_a_signed_webhook_with_bad_events_is_refused_whole(app, client, service, clock, carrier_secret):
    service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话")
    good = {"tracking_number": "EA123456785CN", "code": "accepted", "event_at": "2027-01-04T09:45:00+08:00"}
    for bad, field in (({**good, "code": "teleported"}, "events.1.code"),
                       ({**good, "event_at": "2027-03-01T09:00:00+08:00", "code": "signed"}, "events.1.event_at"),
                       ({**good, "event_at": "yesterday"}, "events.1.event_at")):
        response = carrier_post(client, app, {"events": [good, bad]})
        assert response.status_code == 422, response.get_json()
        assert response.get_json()["field"] == field
    assert _carrier_rows(app) == 0
    unknown = carrier_post(client, app, {"events": [{**good, "tracking_number": "EA000000031CN"}]})
    assert unknown.status_code == 200 and unknown.get_json()["unknown"] == ["EA000000031CN"]


def test_carrier_csv_import_reports_bad_rows(app, service, tmp_path, clock):
    service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话")
    path = tmp_path / "ems.csv"
    path.write_text(
        "tracking_number,event_at,code,location,description,signed_by\n"
        "EA123456785CN,2027-01-04T09:31:00+08:00,accepted,威海环翠揽投部,,\n"
        "EA123456785CN,2027-01-04 09:40:00,in_transit,威海,,\n"
        "EA000000031CN,2027-01-04T09:41:00+08:00,accepted,,,\n"
        "EA123456785CN,not a time,accepted,,,\n"
        "EA123456785CN,2027-01-04T09:45:00+08:00,teleported,,,\n"
        "EA123456785CN,2027-01-04T09:50:00+08:00,signed,,,李四\n", encoding="utf-8")
    clock.set("2027-01-04T10:00:00+08:00")
    runner = app.test_cli_runner()  # the command reads the app's clock, set just above
    result = runner.invoke(args=["service", "import-carrier", str(path)])
    assert result.exit_code == 1, result.output
    assert "applied 3, duplicates 0, bad rows 3" in result.output
    assert "line 4: no envelope with tracking number EA000000031CN" in result.output
    assert "line 5: event_at 'not a time' is not ISO 8601" in result.output
    assert "line 6: unknown carrier event code teleported" in result.output
    order = service.get()
    assert order["status"] == "served" and order["served_at"] == "2027-01-04T09:50:00+08:00"
    assert [e["code"] for e in order["attempts"][-1]["carrier_events"]] == ["accepted", "in_transit", "signed"]
    # importing the same file again changes nothing
    again = runner.invoke(args=["service", "import-carrier", str(path)])
    assert "applied 0, duplicates 3, bad rows 3" in again.output
