"""Service-of-process messages follow the court's quiet hours, not a fixed 21:00-08:00."""

from tests.conftest import waits_until
from tests.service.conftest import sweep_at


def test_a_service_sms_keeps_the_configured_quiet_hours(app, service, clock, quiet_22_to_7):
    clock.set("2027-01-05T07:30:00+08:00")  # after 07:00: free to go (it waited until 08:00 before)
    assert service.attempt(channel="sms").status_code == 201
    clock.set("2027-01-05T21:30:00+08:00")  # before 22:00: free to go
    assert service.attempt(channel="sms").status_code == 201
    clock.set("2027-01-05T22:30:00+08:00")  # quiet: waits for 07:00
    assert service.attempt(channel="sms").status_code == 201
    assert waits_until(app, "service.sms") == [
        "2027-01-05T07:30:00+08:00", "2027-01-05T21:30:00+08:00", "2027-01-06T07:00:00+08:00"]


def test_a_service_email_is_never_held(app, service, clock, quiet_22_to_7):
    clock.set("2027-01-05T23:30:00+08:00")
    assert service.attempt(channel="email", contact="lisi@example.cn").status_code == 201
    assert waits_until(app, "service.email") == ["2027-01-05T23:30:00+08:00"]


def test_the_clerks_deadline_warning_keeps_the_configured_quiet_hours(app, court, open_service, quiet_22_to_7):
    open_service(clerk=court.make_actor("service_clerk", phone="+8613811112222"))
    assert sweep_at(app, "2027-01-07T06:30:00+08:00") == {"warned": 1}
    assert waits_until(app, "service.deadline") == ["2027-01-07T07:00:00+08:00"]


def test_the_overdue_notice_keeps_the_configured_quiet_hours(app, court, open_service, quiet_22_to_7):
    court.make_actor("contractor_manager", username="manager-quiet", phone="+8613811113333")
    open_service(clerk=court.make_actor("service_clerk", phone="+8613811112222"))
    assert sweep_at(app, "2027-01-20T07:30:00+08:00")["overdue"] == 1
    assert set(waits_until(app, "service.overdue")) == {"2027-01-20T07:30:00+08:00"}
