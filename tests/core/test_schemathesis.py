"""Schemathesis walks every operation of the OpenAPI document with generated input, as
several roles: no answer may be a 5xx. Examples per operation are bounded so the whole
walk stays around a minute."""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import update

from tests.conftest import NOW

schemathesis = pytest.importorskip("schemathesis")

ROLES = ("court_admin", "intake_clerk", "service_clerk", "judge", "sysadmin")
EXAMPLES = 4


def _fresh_tokens(app, court) -> dict[str, str]:
    """Re-enable the walkers and give them new tokens: an earlier operation may have
    disabled, reset or revoked one of them (they are real operations, after all)."""
    from ancillary.auth.models import User
    from ancillary.auth.services import issue_token
    from ancillary.extensions import db

    with app.app_context():
        ids = [court[role].id for role in ROLES]
        db.session.execute(update(User).where(User.id.in_(ids)).values(
            is_active=True, is_approved=True, must_change_password=False, credentials_revoked_at=None))
        tokens = {}
        for role in ROLES:
            token, _ = issue_token(db.session, db.session.get(User, court[role].id), now=NOW,
                                   lifetime=timedelta(days=3650))
            tokens[role] = token
        db.session.commit()
        db.session.remove()
    return tokens


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        yield result.ok()


def test_generated_input_never_gives_a_5xx(app, court):
    court.file_case()
    failures, statuses = [], []
    operations = list(_operations(app))
    for operation in operations:
        tokens = _fresh_tokens(app, court)

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def walk(case):
            for role in ROLES:
                response = case.call(headers={"Authorization": f"Bearer {tokens[role]}"})
                statuses.append(response.status_code)
                # /readyz answers 503 by design: no scheduler runs beside the test app
                if response.status_code >= 500 and not case.formatted_path.endswith("/readyz"):
                    failures.append(f"{role} {case.method} {case.formatted_path} "
                                    f"{response.status_code} {response.text[:200]}")

        walk()
    assert failures == []
    assert len(operations) > 50 and len(statuses) >= len(operations) * len(ROLES)
    assert any(status < 300 for status in statuses)  # the walk reached real answers, not only refusals
