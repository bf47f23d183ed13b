"""The archivist's deadline warning follows the court's quiet hours (ANCILLARY_QUIET_HOURS)."""

from datetime import datetime

from ancillary.jobs import run_sweeps
from tests.archive.test_archive import _close
from tests.conftest import waits_until


def test_an_archive_warning_keeps_the_configured_quiet_hours(court, dossiers, app, quiet_22_to_7):
    court.make_actor("archivist", phone="+8613800000099")
    _close(court, dossiers[0]["case_id"])
    run_sweeps(app, datetime.fromisoformat("2027-01-28T07:30:00+08:00"), deliver=False)  # 6 days left
    run_sweeps(app, datetime.fromisoformat("2027-02-03T06:30:00+08:00"), deliver=False)  # under 1 day
    assert waits_until(app, "archive_deadline") == ["2027-01-28T07:30:00+08:00", "2027-02-03T07:00:00+08:00"]
