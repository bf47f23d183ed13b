"""A 429 is documented where it can happen (sign-in, serve-task claim and release), Retry-After
header included, and the real answers match what the document says."""

import jsonschema
import pytest

LIMITED = [("post", "/api/v1/auth/tokens"), ("post", "/api/v1/tasks/{task_id}/claim"),
           ("post", "/api/v1/tasks/{task_id}/release")]


@pytest.fixture
def spec(client):
    return client.get("/api/v1/openapi.json").get_json()


def _schema(spec, operation):
    """The documented 429 body's JSON schema, its references resolved."""
    documented = spec["paths"][operation[1]][operation[0]]["responses"]["429"]["content"]["application/json"]
    name = documented["schema"]["$ref"].rsplit("/", 1)[-1]
    return {**spec["components"]["schemas"][name], "additionalProperties": False}


def _check(spec, operation, response):
    """The answer is a 429 the document describes: body by the schema, header equal to retry_after."""
    assert response.status_code == 429, response.get_json()
    body = response.get_json()
    jsonschema.validate(body, _schema(spec, operation))
    assert int(response.headers["Retry-After"]) == body["retry_after"] >= 1
    assert body["message"] and body["errors"][body["field"]] == [body["message"]]


@pytest.mark.parametrize("operation", LIMITED, ids=lambda op: op[1])
def test_the_document_describes_429_with_retry_after_and_an_example(spec, operation):
    answer = spec["paths"][operation[1]][operation[0]]["responses"]["429"]
    assert "Retry-After" in answer["headers"] and answer["headers"]["Retry-After"]["description"]
    assert answer["headers"]["Retry-After"]["schema"]["type"] == "integer"
    example = answer["content"]["application/json"]["example"]
    jsonschema.validate(example, _schema(spec, operation))
    assert answer["description"]


def test_a_throttled_sign_in_answers_the_documented_429(spec, court, client):
    user = court.make_actor("file_clerk", password="winter-harbour-lantern-7")
    answers = [client.post("/api/v1/auth/tokens", json={"username": user.username, "password": "wrong"})
               for _ in range(7)]
    assert [a.status_code for a in answers[:6]] == [401] * 6  # the sixth failure starts a wait
    refused = answers[6]
    _check(spec, LIMITED[0], refused)
    assert refused.get_json()["error"] == "too_many_attempts"


def test_claims_and_releases_past_the_limit_answer_the_documented_429(app, spec, court, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SETTINGS", app.config["SETTINGS"].with_overrides(serve_moves_per_hour=3))
    clerk = court["service_clerk"]
    tasks = []
    for _ in range(2):
        case = court.file_case()
        tasks += [t["id"] for t in court["court_admin"].get(
            f"/api/v1/tasks?queue=service&case_id={case['id']}").get_json()["items"]][:1]
    for task in tasks:
        clock.advance(minutes=1)
        assert clerk.post(f"/api/v1/tasks/{task}/claim").status_code == 200
    assert clerk.post(f"/api/v1/tasks/{tasks[0]}/release").status_code == 200
    _check(spec, LIMITED[2], clerk.post(f"/api/v1/tasks/{tasks[1]}/release"))
    _check(spec, LIMITED[1], clerk.post(f"/api/v1/tasks/{tasks[0]}/claim"))
    held = court["court_admin"].get(f"/api/v1/tasks/{tasks[1]}").get_json()
    assert (held["status"], held["assignee_id"]) == ("claimed", clerk.id)  # the refused release changed nothing
