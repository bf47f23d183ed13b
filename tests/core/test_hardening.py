"""The request edge: hostile bodies and ids get a clear 4xx, and every answer carries security headers."""


import pytest


def _post_raw(actor, path, data):
    return actor.client.post(path, data=data, headers={"Authorization": f"Bearer {actor.token}",
                                                        "Content-Type": "application/json"})


@pytest.mark.parametrize("body, error", [
    ("[" * 1000 + "]" * 1000, "json_too_deep"),
    ('{"parties": ' + "[" * 40 + "]" * 40 + "}", "json_too_deep"),
    ('{"volumes": ' + "9" * 100_000 + "}", "json_number_too_long"),
    ('{"volumes": 1e999}', "json_number_too_long"),
    ('{"volumes": NaN}', "invalid_json"),
    ('{"volumes": 2', "invalid_json"),
    (b'{"number": "\xff\xfe"}', "invalid_json"),
])
def test_hostile_json_bodies_get_400_naming_the_body(app, court, body, error):
    from tests.core.test_bad_input import _counts

    before = _counts(app)
    response = _post_raw(court["intake_clerk"], "/api/v1/cases", body)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    payload = response.get_json()
    assert payload["error"] == error and payload["field"] == "body" and payload["message"]
    assert _counts(app) == before


def test_a_reasonable_body_still_files_a_case(app, court):
    assert court.file_case()["id"] > 0


def test_every_int_id_in_a_path_is_bounded(app, court):
    """An id no column can hold matches no route: 404, on every path with an id."""
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    admin = court["court_admin"]
    problems = []
    for path, operations in spec["paths"].items():
        if "{" not in path or "get" not in operations:
            continue
        for huge in ("99999999999999999999", "2147483648", "0"):
            url = path.replace("{", "<").replace("}", ">")
            url = "/".join(huge if part.startswith("<") and "token" not in part and "day" not in part else part
                           for part in url.split("/"))
            if "<" in url:
                continue
            response = admin.get(url)
            if response.status_code != 404:
                problems.append(f"{url}: {response.status_code}")
    assert problems == []


@pytest.mark.parametrize("query", [
    "/api/v1/reports/kpis?from=0001-01-01&to=0001-01-31",
    "/api/v1/reports/kpis?from=2027-01-01&to=9999-12-31",
    "/api/v1/court-days?from=1900-01-01&to=1900-01-31",
    "/api/v1/reports/utilization?from=0001-01-01&to=0001-01-02",
    "/api/v1/hearings?from=0001-01-01T00:00:00%2B08:00&to=0001-01-02T00:00:00%2B08:00",
])
def test_dates_outside_a_sane_range_get_422_naming_the_field(app, court, query):
    response = court["court_admin"].get(query)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.get_json()["field"] in ("from", "to", "day")


@pytest.mark.parametrize("path", ["/", "/healthz", "/api/v1/openapi.json", "/api/v1/me", "/scan", "/schedule",
                                  "/api/v1/cases/99999999999999999999"])
def test_every_answer_carries_the_security_headers(app, court, path):
    response = court["court_admin"].get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"


def test_a_case_answer_is_never_stored_by_a_cache(app, court):
    case = court.file_case()
    response = court["court_admin"].get(f"/api/v1/cases/{case['id']}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"


def test_templates_hold_no_inline_script_style_or_handlers():
    import re
    from pathlib import Path

    import ancillary

    problems = []
    for template in (Path(ancillary.__file__).parent / "templates").glob("*.html"):
        text = template.read_text()
        for match in re.finditer(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", text, re.S):
            if match["body"].strip() and 'type="application/json"' not in match["attrs"]:
                problems.append(f"{template.name}: inline script")
        if re.search(r"<style|\sstyle=|\son[a-z]+=", text):
            problems.append(f"{template.name}: inline style or handler")
    assert problems == []


@pytest.mark.browser
@pytest.mark.parametrize("viewport", ["desktop"])
def test_pages_run_under_the_strict_policy_without_violations(browser_context, person, viewport):
    from tests.browser import sign_in_through_form

    page = browser_context(bypass_csp=False).new_page()
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.goto("/api/v1/docs")
    page.wait_for_load_state("networkidle")
    assert page.locator(".swagger-ui").count() > 0  # the docs UI started from its static script
    sign_in_through_form(page, person("file_clerk", "王芳").username, path="/scan")
    for path in ("/", "/scan"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert violations == []
