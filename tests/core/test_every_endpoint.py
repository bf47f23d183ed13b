"""Every endpoint of the OpenAPI document, walked with nonsense: a JSON 4xx, never a 500."""

import re

import pytest

GARBAGE_BODIES = [{}, {"x": 1}, [], "text", None, {"id": -1, "case_id": "abc", "starts_at": "yesterday"}]


def _operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method in operations:
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path


def _fill(path, value):
    return re.sub(r"\{[^}]+\}", str(value), path)


@pytest.mark.parametrize("role", ["court_admin", "scheduler", "service_clerk", "judge", "sysadmin"])
def test_nonsense_never_gives_a_500(app, court, role):
    case = court.file_case()
    actor = court[role]
    problems = []
    for method, path in _operations(app):
        for ident in (case["id"], 999999, 0):
            url = _fill(path, ident)
            if method == "get":
                responses = [actor.get(url), actor.get(url + "?from=x&to=y&limit=-5&case_id=abc&day=2027-13-45")]
            elif method == "delete":
                responses = [actor.delete(url)]
            else:
                send = getattr(actor, method) if method != "put" else None
                responses = []
                for body in GARBAGE_BODIES:
                    if send is None:
                        responses.append(actor.client.put(url, json=body,
                                                          headers={"Authorization": f"Bearer {actor.token}"}))
                    else:
                        responses.append(send(url, json=body))
            for response in responses:
                if path == "/readyz" and response.status_code == 503:
                    assert response.get_json()["ready"] is False  # "not ready" is that endpoint's answer
                elif response.status_code >= 500:
                    problems.append(f"{method.upper()} {url}: {response.status_code} {response.get_data(as_text=True)[:200]}")
                elif response.status_code >= 400 and response.mimetype == "application/json":
                    assert response.get_json().get("message"), (method, url)
    assert problems == []
