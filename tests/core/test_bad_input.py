"""Bad input gets a clear JSON error naming the field, never a 500, and writes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select


def _counts(app):
    from ancillary.audit.models import AuditEntry
    from ancillary.cases.models import Case, Dossier, Party, Person
    from ancillary.extensions import db
    from ancillary.queues.models import Task

    with app.app_context():
        result = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
                  for m in (Case, Party, Person, Dossier, Task, AuditEntry)}
        db.session.remove()
        return result


def _check_refusal(response, status, field=None):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == status and body["message"]
    if field is not None:
        assert body.get("field") == field, body
    return body


BAD_CASES = [
    ({"kind": "criminal"}, "kind"),
    ({"kind": None}, "kind"),
    ({"venue": "火星法庭"}, "venue"),
    ({"filed_at": "2027-01-04 09:00"}, "filed_at"),
    ({"filed_at": "2027-01-04T09:00:00"}, "filed_at"),  # no offset
    ({"filed_at": "yesterday"}, "filed_at"),
    ({"filed_at": "1899-01-04T09:00:00+08:00"}, "filed_at"),
    ({"filed_at": "2030-01-04T09:00:00+08:00"}, "filed_at"),  # in the future
    ({"judge_id": 999999}, "judge_id"),
    ({"judge_id": "12"}, "judge_id"),
    ({"judge_id": 1.5}, "judge_id"),
    ({"judge_id": True}, "judge_id"),
    ({"judge_id": -3}, "judge_id"),
    ({"judge_id": 2**40}, "judge_id"),
    ({"volumes": 0}, "volumes"),
    ({"volumes": 100000}, "volumes"),
    ({"volumes": "2"}, "volumes"),
    ({"number": ""}, "number"),
    ({"number": "x" * 500}, "number"),
    ({"parties": []}, "parties"),
    ({"parties": "张三"}, "parties"),
    ({"parties": [{"role": "witness", "name": "张三"}]}, "parties.0.role"),
    ({"parties": [{"role": "plaintiff"}]}, "parties.0.name"),
    ({"parties": [{"role": "plaintiff", "name": "张三", "id_number": "371002198001010011"}]}, "parties.0.id_number"),
    ({"parties": [{"role": "plaintiff", "name": "张三", "phones": ["12345"]}]}, "parties.0.phones.0"),
    ({"parties": [{"role": "plaintiff", "name": "张三", "emails": ["not-an-email"]}]}, "parties.0.emails.0"),
    ({"parties": [{"role": "plaintiff", "name": "张三", "law_firm_id": 4242}]}, "parties.0.law_firm_id"),
    ({"parties": [{"role": "plaintiff", "name": "张三", "addresses": [{"text": "某地", "latitude": 91,
                                                                        "longitude": 1}]}]},
     "parties.0.addresses.0.latitude"),
    ({"parties": [{"role": "plaintiff", "name": "张三", "addresses": [{"text": "某地", "latitude": 37}]}]},
     "parties.0.addresses.0.latitude"),
    ({"surprise": 1}, "surprise"),
]


@pytest.mark.parametrize("override, field", BAD_CASES)
def test_bad_case_bodies_are_refused_naming_the_field(court, app, override, field):
    before = _counts(app)
    response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(**override))
    body = _check_refusal(response, 422)
    assert body["field"] == field, body
    assert _counts(app) == before


def test_missing_fields_are_each_named(court):
    response = court["intake_clerk"].post("/api/v1/cases", json={})
    body = _check_refusal(response, 422)
    missing = set(body["errors"]["json"])
    assert {"number", "kind", "venue", "filed_at", "judge_id", "parties"} <= missing


def test_duplicate_case_number_is_a_conflict_and_writes_nothing(court, app):
    case = court.file_case()
    before = _counts(app)
    response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(number=case["number"]))
    _check_refusal(response, 409, "number")
    assert _counts(app) == before


def test_a_bad_party_after_good_ones_leaves_no_partial_case(court, app):
    before = _counts(app)
    parties = court.case_body()["parties"] + [{"role": "defendant", "name": "王五", "phones": ["+86"]}]
    response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(parties=parties))
    _check_refusal(response, 422, "parties.2.phones.0")
    assert _counts(app) == before


@pytest.mark.parametrize("raw, content_type", [
    ("{not json", "application/json"),
    ('{"number": "x",}', "application/json"),
    ("[1, 2, 3]", "application/json"),
    ('"just a string"', "application/json"),
    ("number=1", "application/x-www-form-urlencoded"),
])
def test_malformed_bodies_get_a_json_4xx(court, app, raw, content_type):
    before = _counts(app)
    response = court["intake_clerk"].post("/api/v1/cases", data=raw, headers={"Content-Type": content_type})
    assert response.status_code in (400, 415, 422), response.get_data(as_text=True)
    assert response.is_json and response.get_json()["message"]
    assert _counts(app) == before


def test_oversized_body_is_refused_with_413(court, app):
    big = json.dumps(court.case_body(cause="案" * (21 * 1024 * 1024 // 3)))
    response = court["intake_clerk"].post("/api/v1/cases", data=big, headers={"Content-Type": "application/json"})
    _check_refusal(response, 413)


@pytest.mark.parametrize("path", ["/api/v1/cases/999999", "/api/v1/tasks/999999"])
def test_unknown_ids_are_404(court, path):
    _check_refusal(court["court_admin"].get(path), 404)


@pytest.mark.parametrize("path, status", [
    ("/api/v1/tasks/999999/claim", 404),
    ("/api/v1/cases/999999/close", 422),  # the body is checked first: it is missing here
])
def test_actions_on_unknown_ids(court, path, status):
    actor = court["scheduler"] if "tasks" in path else court["judge"]
    _check_refusal(actor.post(path, json={}), status)


def test_close_bad_input(court, app):
    case = court.file_case()
    judge = court["judge"]
    path = f"/api/v1/cases/{case['id']}/close"
    _check_refusal(judge.post(path, json={"closed_at": "2027-01-04T10:00:00+08:00"}), 422, "outcome")
    _check_refusal(judge.post(path, json={"closed_at": "2026-12-01T10:00:00+08:00", "outcome": "判决"}), 422,
                   "closed_at")
    _check_refusal(judge.post(path, json={"closed_at": "2027-01-04T10:00", "outcome": "判决"}), 422, "closed_at")
    assert court["court_admin"].get(f"/api/v1/cases/{case['id']}").get_json()["status"] == "open"


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("limit=5000", "limit"), ("offset=-1", "offset"),
    ("kind=criminal", "kind"), ("filed_from=notadate", "filed_from"), ("judge_id=-1", "judge_id"),
])
def test_bad_list_filters(court, query, field):
    _check_refusal(court["court_admin"].get(f"/api/v1/cases?{query}"), 422, field)


def test_errors_are_in_chinese_by_default_and_english_on_request(court):
    zh = court["court_admin"].get("/api/v1/cases/999999")
    en = court["court_admin"].get("/api/v1/cases/999999", headers={"Accept-Language": "en"})
    assert en.get_json()["message"] == "there is no such case: check the case number and choose it again"
    assert zh.get_json()["message"] != en.get_json()["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.get_json()["message"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["number", "kind", "venue", "filed_at", "judge_id", "volumes", "parties", "cause"]),
       value=json_values)
def test_any_json_in_any_field_never_gives_a_500(court, field, value):
    response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(**{field: value}))
    assert response.status_code in (201, 400, 409, 422), response.get_data(as_text=True)
    assert response.is_json


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(party=st.dictionaries(
    st.sampled_from(["role", "name", "id_number", "phones", "emails", "addresses", "law_firm_id", "x"]),
    json_values, max_size=6))
def test_any_party_shape_never_gives_a_500(court, party):
    response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(parties=[party]))
    assert response.status_code in (201, 400, 409, 422), response.get_data(as_text=True)


def test_field_messages_are_translated_too(court):
    response = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(kind="criminal", volumes=0))
    errors = response.get_json()["errors"]["json"]
    assert errors["kind"][0].startswith("必须是以下之一")
    assert errors["volumes"][0] == "须在 1 到 200 之间。"
    english = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(kind="criminal"),
                                         headers={"Accept-Language": "en"})
    assert english.get_json()["errors"]["json"]["kind"][0].startswith("Must be one of:")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_a_body_in_a_format_no_endpoint_reads_is_415(court, app, content_type):
    before = _counts(app)
    response = court["intake_clerk"].post("/api/v1/cases", data=json.dumps(court.case_body()),
                                          headers={"Content-Type": content_type})
    body = _check_refusal(response, 415, "Content-Type")
    assert "application/json" in court["intake_clerk"].post(
        "/api/v1/cases", data="x", headers={"Content-Type": content_type, "Accept-Language": "en"}).get_json()["message"]
    assert body["error"] == "unsupported_media_type"
    assert _counts(app) == before


def test_roles_and_states_in_messages_read_in_the_readers_language(court):
    case = court.file_case()
    response = court["scheduler"].patch(f"/api/v1/cases/{case['id']}", json={"track": "simple"})
    assert response.status_code == 403
    assert "排期岗" in response.get_json()["message"] and "scheduler" not in response.get_json()["message"]
    english = court["scheduler"].patch(f"/api/v1/cases/{case['id']}", json={"track": "simple"},
                                       headers={"Accept-Language": "en"})
    assert "the scheduler role" in english.get_json()["message"]


@pytest.mark.parametrize("override, field", [
    ({"number": "(2027)鲁1002民初\x00号"}, "number"),
    ({"parties": [{"role": "plaintiff", "name": "张\x00三"}]}, "parties.0.name"),
])
def test_nul_characters_are_refused_on_both_databases(court, app, override, field):
    before = _counts(app)
    _check_refusal(court["intake_clerk"].post("/api/v1/cases", json=court.case_body(**override)), 422, field)
    _check_refusal(court["court_admin"].get("/api/v1/cases?number=a%00b"), 422, "number.0")
    assert _counts(app) == before


def test_a_nul_character_in_a_utf16_json_body_is_refused_too(court, app):
    """JSON may come as UTF-16: its NUL escape is not the bytes a UTF-8 body would carry."""
    before = _counts(app)
    body = json.dumps(court.case_body(number="(2027)鲁1002民初\x00号")).encode("utf-16")
    response = court["intake_clerk"].post("/api/v1/cases", data=body, content_type="application/json")
    _check_refusal(response, 422, "number")
    assert _counts(app) == before
