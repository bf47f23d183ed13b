"""Reminders and "remind now" follow the court's quiet hours (ANCILLARY_QUIET_HOURS)."""

from tests.conftest import waits_until
from tests.reminders.conftest import enforcement_case, tick


def test_an_action_reminder_keeps_the_configured_quiet_hours(app, staffed, twilio, quiet_22_to_7):
    enforcement_case(staffed, n=701)
    outcome = tick(app, "2027-01-12T06:30:00+08:00", deliver=False)
    assert outcome["sweep_reminders"]["messages"] == 3
    assert set(waits_until(app, "action_digest")) == {"2027-01-12T07:00:00+08:00"}
    assert tick(app, "2027-01-12T07:00:00+08:00")["deliver"] == {"sent": 3}


def test_remind_now_keeps_the_configured_quiet_hours(app, staffed, twilio, quiet_22_to_7):
    enforcement_case(staffed, n=702)
    app.config["CLOCK"].set("2027-01-12T07:30:00+08:00")
    answer = staffed["follow_up"].post(f"/api/v1/follow-up-posts/{staffed.post_id}/remind",
                                       json={"officer_id": staffed["enforcement_officer"].id})
    assert answer.status_code == 201, answer.get_json()
    assert waits_until(app, "remind_now") == ["2027-01-12T07:30:00+08:00"]
