"""Need-to-know is the same through pages as through the API, for each of the eleven roles.

Pages open for exactly the roles whose navigation links to them, and every API answer a
page's script relies on is, for a signed-in browser, the one the same person gets with a
bearer token: same status, same body, same access-log rows.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ancillary.auth.models import Role

PAGES = ("/", "/intake", "/scan", "/service", "/archive", "/follow-up", "/schedule", "/hearings", "/dashboard",
         "/custody")
ALLOWED = {
    "intake_clerk": {"/", "/intake", "/scan"},
    "scheduler": {"/", "/schedule"},
    "service_clerk": {"/", "/service"},
    "file_clerk": {"/", "/scan"},
    "archivist": {"/", "/scan", "/archive"},
    "follow_up": {"/", "/follow-up"},
    "judge": {"/", "/scan", "/schedule", "/hearings"},
    "enforcement_officer": {"/", "/scan", "/hearings"},
    "court_admin": {"/", "/dashboard", "/custody"},
    "contractor_manager": {"/", "/dashboard"},
    "sysadmin": {"/"},
}


def _access_rows(app):
    from ancillary.audit.models import AccessLogEntry
    from ancillary.extensions import db

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(AccessLogEntry))
        db.session.remove()
        return count


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_pages_and_the_api_show_each_role_the_same(role, court, person, web, app):
    actor = person(role)
    own = {"judge": {"judge_id": actor.id}, "enforcement_officer": {"judge_id": actor.id, "kind": "enforcement"}}
    case = court.file_case(**own.get(role, {}))
    order = court["court_admin"].get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"][0]
    if role == "service_clerk":
        assert actor.post(f"/api/v1/tasks/{order['task_id']}/claim").status_code == 200
    browser = web()
    assert browser.sign_in(actor.username).status_code == 303

    opened = {path for path in PAGES if browser.get(path).status_code == 200}
    refused = {path: browser.get(path).status_code for path in set(PAGES) - opened}
    assert opened == ALLOWED[role] and set(refused.values()) <= {403}
    nav = set(re.findall(r'<nav class="nav".*?</nav>', browser.get("/").get_data(as_text=True), re.S)[0].split('"'))
    assert {p for p in PAGES if p in nav} == ALLOWED[role]

    dossier = case["dossiers"][0]["id"]
    for path in (f"/api/v1/cases/{case['id']}", f"/api/v1/service-orders/{order['id']}", "/api/v1/tasks",
                 f"/api/v1/service-orders?case_id={case['id']}", f"/api/v1/dossiers/{dossier}/custody",
                 "/api/v1/archive/queue", f"/api/v1/cases/{case['id']}/labels.pdf", "/api/v1/scans/mine"):
        before = _access_rows(app)
        by_page = browser.get(path)
        logged_by_page = _access_rows(app) - before
        by_token = actor.get(path)
        logged_by_token = _access_rows(app) - before - logged_by_page
        assert by_page.status_code == by_token.status_code, path
        if by_page.is_json:
            assert by_page.get_json() == by_token.get_json(), path
        else:
            assert by_page.data == by_token.data, path
        assert logged_by_page == logged_by_token, path
