"""Scans by photo, /scans/decode, labels, and bad uploads: clear 4xx, nothing written."""

import io

from PIL import Image
from sqlalchemy import func, select

from tests.custody.conftest import scan_id


def _photo(png: bytes, side: int = 1920, tilt: float = 0.0) -> bytes:
    """The label on a large grey desk, as a JPEG like a phone's."""
    label = Image.open(io.BytesIO(png)).convert("RGB")
    label = label.resize((label.width // 2, label.height // 2))
    if tilt:
        label = label.rotate(tilt, expand=True, fillcolor=(150, 150, 150))
    desk = Image.new("RGB", (side, side * 9 // 16), (150, 150, 150))
    desk.paste(label, (side // 3, side // 8))
    out = io.BytesIO()
    desk.save(out, format="JPEG", quality=80)
    return out.getvalue()


def _events(app):
    from ancillary.custody.models import CustodyEvent
    from ancillary.extensions import db

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CustodyEvent))


def _upload(actor, path, data, name="photo.jpg", **form):
    fields = {"action": "receive", "client_scan_id": scan_id(), **form}
    if data is not None:
        fields["image"] = (io.BytesIO(data), name)
    return actor.post(path, data=fields, content_type="multipart/form-data")


def test_label_png_decodes_and_a_photo_scan_records_custody(court, dossiers, app):
    clerk = court["file_clerk"]
    label = clerk.get(f"/api/v1/dossiers/{dossiers[0]['id']}/label.png")
    assert label.status_code == 200 and label.mimetype == "image/png"
    photo = _photo(label.data, tilt=8)
    decoded = clerk.post("/api/v1/scans/decode", data={"image": (io.BytesIO(photo), "p.jpg")},
                         content_type="multipart/form-data")
    assert decoded.status_code == 200 and decoded.get_json() == {"codes": [dossiers[0]["qr_token"]]}
    assert _events(app) == 0  # decoding records nothing

    response = _upload(clerk, "/api/v1/scans", photo, location="审判组")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["dossier_id"] == dossiers[0]["id"]
    assert response.get_json()["holder"]["id"] == clerk.id


def test_bad_uploads_get_clear_errors_and_nothing_is_written(court, dossiers, app):
    clerk = court["file_clerk"]
    png = clerk.get(f"/api/v1/dossiers/{dossiers[0]['id']}/label.png").data
    blank = io.BytesIO()
    Image.new("RGB", (1920, 1080), (200, 200, 200)).save(blank, format="JPEG")
    two = Image.new("RGB", (2400, 900), "white")
    for index, dossier in enumerate(dossiers):
        two.paste(Image.open(io.BytesIO(clerk.get(f"/api/v1/dossiers/{dossier['id']}/label.png").data)),
                  (index * 1100 + 50, 50))
    two_bytes = io.BytesIO()
    two.save(two_bytes, format="PNG")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")
    cases = [
        (b"this is not a picture", 415, "image_not_an_image"),
        (_photo(png)[:4000], 422, "image_truncated"),
        (b"", 422, "image_empty"),
        (blank.getvalue(), 422, "no_code_found"),
        (two_bytes.getvalue(), 422, "several_labels"),
        (bomb.getvalue(), 413, "image_too_large"),
    ]
    for data, status, error in cases:
        response = _upload(clerk, "/api/v1/scans", data)
        assert response.status_code == status, (error, response.get_json())
        assert response.get_json()["error"] == error
    missing = _upload(clerk, "/api/v1/scans", None)
    assert missing.status_code == 422 and missing.get_json()["field"] == "image"
    bad_action = _upload(clerk, "/api/v1/scans", png, action="eat")
    assert bad_action.status_code == 422 and bad_action.get_json()["field"] == "action"
    # 50 MB is refused from its Content-Length, before the body is read.
    huge = clerk.post("/api/v1/scans/decode", data=b"x" * (50 * 2**20),
                      headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert huge.status_code == 413 and huge.get_json()["error"] == "too_large"
    assert _events(app) == 0


def test_labels_cli_writes_a_pdf_sheet(court, dossiers, app, tmp_path):
    out = tmp_path / "labels.pdf"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["labels", *[str(d["id"]) for d in dossiers], "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF-")
    missing = runner.invoke(args=["labels", "999999", "--out", str(out)])
    assert missing.exit_code == 1 and "999999" in missing.output


def test_a_huge_png_is_refused_and_a_busy_server_says_so(court, dossiers, app, monkeypatch):
    from ancillary.custody import views

    clerk = court["file_clerk"]
    bomb = io.BytesIO()
    Image.new("RGBA", (7000, 7000), (255, 255, 255, 0)).save(bomb, format="PNG")
    refused = _upload(clerk, "/api/v1/scans/decode", bomb.getvalue(), name="big.png")
    assert refused.status_code == 413
    assert refused.get_json()["error"] == "image_too_large" and refused.get_json()["field"] == "image"

    png = clerk.get(f"/api/v1/dossiers/{dossiers[0]['id']}/label.png").data
    monkeypatch.setattr(views, "DECODE_WAIT_SECONDS", 0.05)
    assert views.DECODE_SLOTS.acquire(timeout=1) and views.DECODE_SLOTS.acquire(timeout=1)
    try:
        busy = _upload(clerk, "/api/v1/scans", png)
    finally:
        views.DECODE_SLOTS.release()
        views.DECODE_SLOTS.release()
    assert busy.status_code == 503
    assert busy.get_json()["error"] == "image_busy" and busy.get_json()["field"] == "image"
    assert "稍后" in busy.get_json()["message"]
    assert _events(app) == 0
    assert _upload(clerk, "/api/v1/scans", png).status_code == 201
