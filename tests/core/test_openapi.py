"""The OpenAPI document describes every endpoint, with examples."""

import re


def test_every_operation_has_a_summary_and_examples(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    problems = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            name = f"{method.upper()} {path}"
            if not operation.get("summary"):
                problems.append(f"{name}: no summary")
            body = operation.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                if media == "application/json" and "example" not in content and "examples" not in content:
                    problems.append(f"{name}: request without example")
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media, content in response.get("content", {}).items():
                    if media == "application/json" and "example" not in content and "examples" not in content:
                        problems.append(f"{name}: {status} response without example")
    assert problems == []


def test_every_route_of_the_api_is_in_the_document(app, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {path.replace("{", "<").replace("}", ">") for path in spec["paths"]}
    missing = []
    for rule in app.url_map.iter_rules():
        route = re.sub(r"<\w+:", "<", rule.rule)
        own = route.startswith("/api/v1/") and not route.startswith(("/api/v1/docs", "/api/v1/openapi"))
        if own and route not in documented:
            missing.append(route)
    assert missing == []


def test_the_documented_case_example_files_a_case(court, clock):
    spec = court["intake_clerk"].client.get("/api/v1/openapi.json").get_json()
    example = dict(spec["paths"]["/api/v1/cases"]["post"]["requestBody"]["content"]["application/json"]["example"])
    example["judge_id"] = court["judge"].id
    clock.set("2026-11-02T10:00:00+08:00")
    response = court["intake_clerk"].post("/api/v1/cases", json=example)
    assert response.status_code == 201, response.get_json()
