"""Attempts sent from a phone: a client id makes a resend harmless; the phone's position
stands in when the photo has no GPS."""

from __future__ import annotations

import shutil
import threading

import pytest

from tests.service.conftest import ADDRESS, make_photo


@pytest.fixture(autouse=True)
def _no_photos_left(app):
    """Leave the shared storage as found: other tests check that refused photos are not kept."""
    yield
    shutil.rmtree(app.config["SETTINGS"].storage_dir / "service", ignore_errors=True)


def test_a_resent_attempt_is_recorded_once_and_answers_the_order(service, clock):
    clock.set("2027-01-05T10:00:00+08:00")
    body = dict(channel="phone", outcome="no_answer", client_id="phone-0001-abcdef")
    first = service.attempt(**body)
    assert first.status_code == 201, first.get_json()
    again = service.attempt(**body)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    attempts = service.get()["attempts"]
    assert [a.get("client_id") for a in attempts if a["channel"] == "phone"] == ["phone-0001-abcdef"]
    other = service.attempt(channel="phone", outcome="no_answer", client_id="phone-0002-abcdef")
    assert other.status_code == 201 and len(other.get_json()["attempts"]) == len(attempts) + 1


def test_a_resend_after_the_attempt_served_the_order_still_answers_200(service, clock):
    clock.set("2027-01-05T10:00:00+08:00")
    body = dict(channel="personal", outcome="served", received_by="李四", address=ADDRESS,
                skip_reason="当事人约定今日到场", client_id="visit-serves-0001")
    assert service.attempt(**body).status_code == 201
    replay = service.attempt(**body)
    assert replay.status_code == 200 and replay.get_json()["status"] == "served"


@pytest.mark.parametrize("client_id, status", [("short", 422), ("has space 123", 422), ("x" * 65, 422)])
def test_a_malformed_client_id_is_refused_naming_the_field(service, client_id, status):
    response = service.attempt(channel="phone", outcome="no_answer", client_id=client_id)
    assert response.status_code == status and "client_id" in response.get_json()["errors"]["json"]
    assert [a for a in service.get()["attempts"] if a["channel"] == "phone"] == []


def test_the_phone_position_is_kept_when_the_photo_has_no_gps(service, clock):
    clock.set("2027-01-05T10:00:00+08:00")
    photo = make_photo(lat=None, taken="2027:01:05 09:58:00")
    response = service.attempt(channel="personal", outcome="refused", address=ADDRESS, photo=photo,
                               skip_reason="电话无人接听，直接上门", device_latitude=37.5102, device_longitude=122.1201,
                               client_id="refusal-photo-0001")
    assert response.status_code == 201, response.get_json()
    attempt = response.get_json()["attempts"][-1]
    assert (attempt["latitude"], attempt["longitude"]) == (37.5102, 122.1201)
    assert "no_gps" in attempt["flags"] and "position_from_device" in attempt["flags"]
    assert attempt["distance_m"] < 200


def test_a_photo_with_gps_keeps_its_own_position(service, clock):
    clock.set("2027-01-05T10:00:00+08:00")
    photo = make_photo(lat=37.5105, lon=122.1203, taken="2027:01:05 09:58:00")
    response = service.attempt(channel="personal", outcome="refused", address=ADDRESS, photo=photo,
                               skip_reason="电话无人接听，直接上门", device_latitude=1.0, device_longitude=2.0)
    attempt = response.get_json()["attempts"][-1]
    assert (attempt["latitude"], attempt["longitude"]) == (37.5105, 122.1203)
    assert "position_from_device" not in attempt["flags"]


def test_one_coordinate_alone_is_refused(service):
    response = service.attempt(channel="phone", outcome="no_answer", device_latitude=37.5)
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["device_longitude"] == ["纬度和经度须同时提供。"]


def test_two_racing_resends_record_one_attempt(service, clock, app):
    clock.set("2027-01-05T10:00:00+08:00")
    body = dict(channel="phone", outcome="no_answer", client_id="racing-resend-0001")
    statuses = []
    barrier = threading.Barrier(2)

    def send():
        client = app.test_client()
        barrier.wait()
        response = client.post(f"{service.url}/attempts", json=body,
                               headers={"Authorization": f"Bearer {service.clerk.token}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) in ([200, 201], [201, 409])
    assert len([a for a in service.get()["attempts"] if a["channel"] == "phone"]) == 1
