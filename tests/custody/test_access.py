"""Need-to-know over every custody resource, walking all eleven roles."""

import io

import pytest

from ancillary.auth.models import Role
from tests.custody.conftest import scan

ALL_CASES = {"file_clerk", "archivist", "intake_clerk", "court_admin"}
SCANNERS = {"file_clerk", "archivist", "intake_clerk", "judge", "enforcement_officer"}
# resource -> roles that get 2xx (judge: own case; the case below is the judge's)
EXPECTED = {
    "custody": ALL_CASES | {"judge"},
    "verify": {"court_admin"},
    "where": ALL_CASES,
    "label": ALL_CASES,
    "scan": SCANNERS - {"enforcement_officer"},  # not their case
    "decode": SCANNERS,
    "mine": SCANNERS,
    "queue": {"archivist", "court_admin", "contractor_manager"},
}


def test_every_role_over_every_custody_resource(court, dossiers):
    assert {r.value for r in Role} == set(court.actors)
    dossier = dossiers[0]
    png = court["file_clerk"].get(f"/api/v1/dossiers/{dossier['id']}/label.png").data
    for role in (r.value for r in Role):
        actor = court[role]
        calls = {
            "custody": lambda: actor.get(f"/api/v1/dossiers/{dossier['id']}/custody"),
            "verify": lambda: actor.get("/api/v1/custody/verify"),
            "where": lambda: actor.get("/api/v1/custody/dossiers"),
            "label": lambda: actor.get(f"/api/v1/dossiers/{dossier['id']}/label.png"),
            "scan": lambda: scan(actor, dossier["qr_token"]),
            "decode": lambda: actor.post("/api/v1/scans/decode", data={"image": (io.BytesIO(png), "l.png")},
                                         content_type="multipart/form-data"),
            "mine": lambda: actor.get("/api/v1/scans/mine"),
            "queue": lambda: actor.get("/api/v1/archive/queue"),
        }
        for resource, call in calls.items():
            response = call()
            allowed = role in EXPECTED[resource]
            assert (response.status_code < 300) == allowed, (role, resource, response.status_code)
            if not allowed:
                assert response.status_code == 403, (role, resource)
            body = response.get_data().decode("utf-8", "replace")
            for secret in ("张三", "371002198001010010", "13800000001", "新威路"):
                assert secret not in body, (role, resource, secret)


def test_officers_see_only_their_own_cases_chains(court, dossiers):
    other_judge = court.make_actor("judge")
    response = other_judge.get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody")
    assert response.status_code == 403 and response.get_json()["error"] == "not_your_case"
    assert scan(other_judge, dossiers[0]["qr_token"]).status_code == 403


def test_anonymous_callers_are_refused(client, dossiers):
    for path in (f"/api/v1/dossiers/{dossiers[0]['id']}/custody", "/api/v1/custody/verify", "/api/v1/scans/mine"):
        assert client.get(path).status_code == 401
    assert client.post("/api/v1/scans", json={"code": dossiers[0]["qr_token"], "action": "receive"}).status_code == 401
    assert client.get("/scan").headers["Location"] == "/login?next=/scan"  # the page asks to sign in first


@pytest.mark.parametrize("path", ["/api/v1/dossiers/999999/custody", "/api/v1/dossiers/999999/label.png"])
def test_unknown_dossier_is_404(court, path):
    assert court["court_admin"].get(path).status_code == 404
