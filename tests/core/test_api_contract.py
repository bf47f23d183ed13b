"""The suite's client refuses answers the OpenAPI document does not describe."""

import json

import pytest
from flask import Response

from tests.api_contract import ApiContract


@pytest.fixture
def contract(app):
    return ApiContract(app)


def _json(status, body):
    return Response(json.dumps(body), status=status, mimetype="application/json")


def test_a_documented_answer_passes(contract):
    error = {"code": 404, "status": "Not Found", "error": "not_found", "message": "没有这个资源"}
    assert contract.problems("GET", "/api/v1/cases/7", _json(404, error)) == []


def test_an_undocumented_status_is_caught(contract):
    problems = contract.problems("GET", "/api/v1/me", _json(418, {}))
    assert problems and "418" in problems[0]


def test_a_body_off_the_schema_is_caught(contract):
    problems = contract.problems("GET", "/api/v1/cases/7", _json(404, {"code": "404", "surprise": 1}))
    assert any("surprise" in p for p in problems)
    assert any("'error' is a required property" in p for p in problems)


def test_no_catch_all_default_answer_in_the_document(contract):
    for operations in contract.spec["paths"].values():
        for operation in (op for op in operations.values() if isinstance(op, dict)):
            assert "default" not in operation.get("responses", {})


def test_the_suite_client_is_the_checking_one(app, client, make_actor):
    judge = make_actor("judge")
    assert type(client).__name__ == "ContractClient"
    assert judge.get("/api/v1/me").status_code == 200


def test_every_documented_example_matches_its_schema(contract):
    assert contract.example_problems() == []
