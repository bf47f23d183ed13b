"""Service-of-process fixtures: small test photos with EXIF, a case whose serve task is claimed."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import datetime

import pytest
from PIL import ExifTags, Image

# The defendant's address in tests/conftest.py's case body.
ADDRESS = "山东省威海市环翠区统一路2号"
LAT, LON = 37.51, 122.12


def make_photo(lat=LAT, lon=LON, taken="2027:01:04 09:00:00", offset="+08:00", fmt="JPEG", size=(64, 48),
               gps=None) -> bytes:
    """A small image; ``lat``/``lon`` None leaves GPS out, ``gps`` writes a raw GPS IFD."""
    image = Image.new("RGB", size, (180, 40, 40))
    exif = Image.Exif()
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    elif lat is not None:
        exif[ExifTags.IFD.GPSInfo] = {1: "N" if lat >= 0 else "S", 2: _dms(abs(lat)),
                                      3: "E" if lon >= 0 else "W", 4: _dms(abs(lon))}
    if taken:
        exif[ExifTags.IFD.Exif] = {36867: taken, **({36881: offset} if offset else {})}
    out = io.BytesIO()
    image.save(out, fmt, exif=exif.tobytes())
    return out.getvalue()


def _dms(value: float):
    degrees = int(value)
    minutes_full = (value - degrees) * 60
    minutes = int(minutes_full)
    seconds = round((minutes_full - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def png_bomb(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + \
        chunk(b"IEND", b"")


def local(value: str) -> datetime:
    return datetime.fromisoformat(value)


class Service:
    """A filed case, its defendant's order, and the clerk who claimed the serve task."""

    def __init__(self, court, case, order, task, clerk):
        self.court, self.case, self.order, self.task, self.clerk = court, case, order, task, clerk

    @property
    def url(self):
        return f"/api/v1/service-orders/{self.order['id']}"

    def attempt(self, actor=None, photo: bytes | None = None, **body):
        actor = actor or self.clerk
        if photo is None:
            return actor.post(f"{self.url}/attempts", json=body)
        form = {k: str(v) for k, v in body.items()}
        form["photo"] = (io.BytesIO(photo), "photo.jpg")
        return actor.post(f"{self.url}/attempts", data=form, content_type="multipart/form-data")

    def get(self, actor=None):
        response = (actor or self.clerk).get(self.url)
        assert response.status_code == 200, response.get_json()
        return response.get_json()


SECRET = "carrier-shared-secret"


@pytest.fixture
def carrier_secret(app):
    original = app.config["SETTINGS"]
    app.config["SETTINGS"] = original.with_overrides(carrier_secret=SECRET)
    yield SECRET
    app.config["SETTINGS"] = original


@pytest.fixture
def at_posting(app, client, service, clock, carrier_secret):
    """An order whose mail came back unclaimed: posting is open."""
    assert service.attempt(channel="mail", tracking_number="EA123456785CN", skip_reason="无电话").status_code == 201
    clock.set("2027-01-12T09:00:00+08:00")
    hook = carrier_post(client, app, {"events": [{"tracking_number": "EA123456785CN", "code": "unclaimed",
                                                  "event_at": "2027-01-11T10:00:00+08:00"}]})
    assert hook.get_json()["applied"] == 1
    return service


@pytest.fixture
def open_service(court):
    """File a case and let the court's service clerk claim its serve task."""

    def make(clerk=None, **case_overrides) -> Service:
        case = court.file_case(**case_overrides)
        admin = court["court_admin"]
        orders = admin.get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"]
        assert len(orders) == 1, orders
        clerk = clerk or court["service_clerk"]
        task_id = orders[0]["task_id"]
        claimed = clerk.post(f"/api/v1/tasks/{task_id}/claim")
        assert claimed.status_code == 200, claimed.get_json()
        return Service(court, case, orders[0], claimed.get_json(), clerk)

    return make


@pytest.fixture
def service(open_service) -> Service:
    return open_service()


def deliver(app, notification_id: int, status: str = "delivered", at: datetime | None = None) -> None:
    """What the Twilio status webhook does: set the status and tell the listeners."""
    from ancillary.extensions import db
    from ancillary.outbox import Notification, NotificationStatus
    from ancillary.outbox import notify_status_change as on_status_change

    with app.app_context():
        notification = db.session.get(Notification, notification_id)
        notification.status = NotificationStatus(status)
        if status == "delivered":
            notification.delivered_at = at or app.config["CLOCK"]()
        on_status_change(db.session, notification, app.config["CLOCK"]())
        db.session.commit()
        db.session.remove()


def sweep_at(app, instant: str) -> dict:
    from ancillary.jobs import run_sweeps

    results = dict(run_sweeps(app, datetime.fromisoformat(instant)))
    return results["ancillary.service.jobs.sweep"]


def carrier_post(client, app, payload, secret=None, signature=None):
    import json

    from notifications.webhooks import sign_body

    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    key = secret if secret is not None else app.config["SETTINGS"].carrier_secret
    if signature is not None:
        headers["X-Carrier-Signature"] = signature
    elif key:
        headers["X-Carrier-Signature"] = sign_body(key, body)
    return client.post("/api/v1/webhooks/carrier", data=body, headers=headers)
