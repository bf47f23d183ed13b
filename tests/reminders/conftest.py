"""Fixtures for reminders: the Twilio stand-in behind the real SDK, a staffed court, helpers."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator

from notifications.testing.twilio_standin import TwilioStandin

PUBLIC_URL = "https://court.example.cn"
FROM = "+8653100000001"
PHONES = {
    "judge": "+8613800000001",
    "enforcement_officer": "+8613800000002",
    "follow_up": "+8613800000003",
    "court_admin": "+8613800000004",
    "contractor_manager": "+8613800000005",
    "archivist": "+8613800000006",
    "scheduler": "+8613800000007",
}
PRESIDENT_PHONE = "+8613800000009"


@pytest.fixture
def standin():
    with TwilioStandin() as server:
        yield server


@pytest.fixture
def twilio(app, standin):
    """Point the app at the stand-in: ANCILLARY_SMS_BACKEND=twilio, TWILIO_API_BASE=http://127.0.0.1:port."""
    from ancillary.outbox import build_channels

    original = app.config["SETTINGS"]
    settings = original.with_overrides(
        sms_backend="twilio", twilio_account_sid=standin.account_sid, twilio_auth_token=standin.auth_token,
        twilio_from_number=FROM, twilio_api_base=standin.base_url, public_url=PUBLIC_URL,
        sms_rate_per_second=1000.0, sms_timeout_seconds=2.0,
    )
    settings.check()
    app.config["SETTINGS"] = settings
    app.config["CHANNELS"] = build_channels(settings)  # the real twilio SDK over HTTP
    yield standin
    app.config["SETTINGS"] = original
    app.config["CHANNELS"] = None


@pytest.fixture
def staffed(court, app, make_actor):
    """The court fixture with phones, two more judges, a president and a follow-up post."""
    from ancillary.auth.models import User
    from ancillary.extensions import db

    with app.app_context():
        for role, phone in PHONES.items():
            db.session.execute(update(User).where(User.id == court[role].id).values(phone=phone))
        db.session.commit()
    president = make_actor("court_admin", phone=PRESIDENT_PHONE, is_president=True)
    judges = [make_actor("judge", phone=f"+861390000000{i}") for i in (1, 2)]
    officers = [court["judge"].id, court["enforcement_officer"].id, judges[0].id]
    answer = court["contractor_manager"].post("/api/v1/follow-up-posts",
                                               json={"user_id": court["follow_up"].id, "officer_ids": officers})
    assert answer.status_code == 201, answer.get_json()
    court.president = president
    court.other_judges = judges
    court.post_id = answer.get_json()["id"]
    return court


def tick(app, at: str, **kw):
    from ancillary.jobs import run_sweeps

    return dict((path.rsplit(".", 1)[-1], outcome) for path, outcome in run_sweeps(app, datetime.fromisoformat(at), **kw))


def notifications(app, **filters):
    from ancillary.extensions import db
    from ancillary.outbox import Notification

    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        for name, value in filters.items():
            query = query.where(getattr(Notification, name) == value)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return rows


def signed_post(client, path: str, params: dict, token: str, url_base: str = PUBLIC_URL, signature=None):
    """POST a form to the app as Twilio would, signed for ``url_base + path``."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(url_base + path, params)
    return client.post(path, data=urlencode(params), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature})


def enforcement_case(court, **overrides):
    body = dict(kind="enforcement", judge_id=court["enforcement_officer"].id,
                number=f"(2027)鲁1002执{overrides.pop('n', 1)}号")
    body.update(overrides)
    return court.file_case(**body)
