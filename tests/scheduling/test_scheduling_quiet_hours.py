"""The judge's booking SMS follows the court's quiet hours (ANCILLARY_QUIET_HOURS)."""

from tests.conftest import waits_until


def test_a_booking_sms_keeps_the_configured_quiet_hours(app, sched, clock, quiet_22_to_7):
    clock.set("2027-01-05T07:30:00+08:00")
    assert sched.book(sched.file()).status_code == 201
    clock.set("2027-01-05T06:30:00+08:00")
    assert sched.book(sched.file(), starts="2027-01-07T10:00:00+08:00",
                      ends="2027-01-07T11:00:00+08:00").status_code == 201
    assert waits_until(app, "hearing_booked") == ["2027-01-05T07:30:00+08:00", "2027-01-05T07:00:00+08:00"]
