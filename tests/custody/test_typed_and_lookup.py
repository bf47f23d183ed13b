"""A torn label's code typed by hand, look-up without recording, and a receipt that clears the shelf."""

from __future__ import annotations

from tests.custody.conftest import scan


def test_a_typed_code_is_accepted_and_marked_in_the_chain(court, dossiers):
    clerk = court["file_clerk"]
    typed = scan(clerk, " ds0000000-00 ".replace("0000000-00", dossiers[0]["code"][2:]), typed=True)
    assert typed.status_code == 201, typed.get_json()
    assert typed.get_json()["typed"] is True and typed.get_json()["holder"]["id"] == clerk.id
    chain = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()
    assert chain["events"][-1]["details"] == {"entry": "typed"} and chain["verified"]
    scanned = scan(clerk, dossiers[1]["qr_token"])
    assert scanned.get_json()["typed"] is False


def test_typed_codes_are_refused_when_malformed_unknown_or_not_for_the_person(court, dossiers):
    bad = scan(court["file_clerk"], "not a code", typed=True)
    assert bad.status_code == 422 and bad.get_json()["field"] == "code"
    unknown = scan(court["file_clerk"], "DS9999999-01", typed=True)
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "code"
    # An untyped bare code is not a label: the signature is what makes a scan trustworthy.
    assert scan(court["file_clerk"], dossiers[0]["code"]).status_code == 422
    # Someone who may not receive this dossier cannot type their way to it.
    other_judge = court.make_actor("judge")
    refused = scan(other_judge, dossiers[0]["code"], typed=True)
    assert refused.status_code == 403
    assert court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()["events"] == []


def test_look_up_shows_holder_and_place_and_records_nothing(court, dossiers):
    clerk = court["file_clerk"]
    assert scan(clerk, dossiers[0]["qr_token"], action="store", location="档案室 A-3").status_code == 201
    before = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()["events"]
    found = court["archivist"].get("/api/v1/dossiers/lookup", query_string={"code": dossiers[0]["qr_token"]})
    assert found.status_code == 200
    body = found.get_json()
    assert body["holder"]["id"] == clerk.id and body["location"] == "档案室 A-3" and body["last_action"] == "store"
    by_hand = court["archivist"].get("/api/v1/dossiers/lookup", query_string={"code": dossiers[0]["code"], "typed": "true"})
    assert by_hand.get_json()["dossier_id"] == dossiers[0]["id"]
    after = court["court_admin"].get(f"/api/v1/dossiers/{dossiers[0]['id']}/custody").get_json()["events"]
    assert after == before
    assert court["service_clerk"].get("/api/v1/dossiers/lookup", query_string={"code": dossiers[0]["qr_token"]}
                                      ).status_code == 403
    forged = court["archivist"].get("/api/v1/dossiers/lookup", query_string={"code": dossiers[0]["qr_token"][:-2] + "AA"})
    assert forged.status_code == 422


def test_a_receipt_clears_the_old_storage_location(court, dossiers):
    clerk, archivist = court["file_clerk"], court["archivist"]
    assert scan(clerk, dossiers[0]["qr_token"], action="store", location="档案室 A-3").get_json()["location"] == "档案室 A-3"
    taken = scan(archivist, dossiers[0]["qr_token"], action="receive", location=None)
    assert taken.status_code == 201 and taken.get_json()["location"] is None
    where = archivist.get("/api/v1/dossiers/lookup", query_string={"code": dossiers[0]["qr_token"]}).get_json()
    assert where["location"] is None and where["holder"]["id"] == archivist.id
