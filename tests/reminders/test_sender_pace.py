"""The sender paces SMS to the provider's rate; channels that say they need no pacing (the
replay's simulated provider, on a simulated clock) are sent without waiting for the wall clock."""

import dataclasses

from ancillary.outbox import sender
from tests.reminders.conftest import tick
from tests.reminders.test_outbox import AT, put


def send_three(app, monkeypatch, *, paced: bool) -> list:
    """Three SMS due at once, at 1 a second on channels ``paced`` or not; answers the sender's waits."""
    waits = []
    monkeypatch.setattr(sender.time, "sleep", waits.append)
    monkeypatch.setattr(sender, "_limiters", {})
    app.config["SETTINGS"] = app.config["SETTINGS"].with_overrides(sms_rate_per_second=1.0, sender_batch=10)
    app.config["CHANNELS"] = dataclasses.replace(app.config["CHANNELS"], paced=paced)
    put(app, n=3)
    assert tick(app, AT)["deliver"] == {"sent": 3}
    return waits


def test_a_paced_sender_waits_between_messages(app, twilio, monkeypatch):
    waits = send_three(app, monkeypatch, paced=True)
    assert len(twilio.messages) == 3
    assert len(waits) == 2 and all(wait > 0 for wait in waits)  # the 2nd and 3rd wait their turn at 1 a second


def test_an_unpaced_sender_sends_every_message_without_waiting(app, twilio, monkeypatch):
    waits = send_three(app, monkeypatch, paced=False)
    assert [m["body"] for m in twilio.messages] == ["提醒 0", "提醒 1", "提醒 2"]
    assert waits == []
