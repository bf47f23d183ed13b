"""`ancillary schedule auto` and `ancillary schedule calendar` from the command line."""

from ancillary.scheduling.models import CourtDay, Hearing


def test_auto_dry_run_books_nothing_then_the_real_run_books(sched, app):
    main_case = sched.file()
    tribunal_case = sched.file(venue=sched.tribunal)
    runner = app.test_cli_runner()
    args = ["schedule", "auto", "--from", "2027-01-11", "--to", "2027-01-15", "--as", sched["scheduler"].username]
    dry = runner.invoke(args=args + ["--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would book 2 hearing(s)" in dry.output and main_case["number"] in dry.output
    assert sched.count(Hearing) == 0
    only_tribunal = runner.invoke(args=args + ["--venue", sched.tribunal])
    assert only_tribunal.exit_code == 0, only_tribunal.output
    assert "booked 1 hearing(s)" in only_tribunal.output and tribunal_case["number"] in only_tribunal.output
    assert sched.count(Hearing, Hearing.case_id == tribunal_case["id"]) == 1
    assert sched.count(Hearing, Hearing.case_id == main_case["id"]) == 0
    rest = runner.invoke(args=args)
    assert "booked 1 hearing(s)" in rest.output and sched.count(Hearing) == 2


def test_auto_refuses_bad_arguments_with_a_message(sched, app):
    runner = app.test_cli_runner()
    not_a_scheduler = runner.invoke(args=["schedule", "auto", "--from", "2027-01-11", "--to", "2027-01-15",
                                          "--as", sched["judge"].username])
    assert not_a_scheduler.exit_code == 1 and "scheduler" in not_a_scheduler.output
    bad_date = runner.invoke(args=["schedule", "auto", "--from", "11/01/2027", "--to", "2027-01-15",
                                   "--as", sched["scheduler"].username])
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    too_long = runner.invoke(args=["schedule", "auto", "--from", "2027-01-11", "--to", "2027-06-30",
                                   "--as", sched["scheduler"].username])
    assert too_long.exit_code == 1 and "error" in too_long.output
    assert sched.count(Hearing) == 0


def test_calendar_loads_the_official_holidays(app, sched):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["schedule", "calendar", "2026"])
    assert result.exit_code == 0, result.output
    from datetime import date

    assert sched.count(CourtDay, CourtDay.day == date(2026, 10, 1), CourtDay.is_working.is_(False)) == 1


def test_closing_a_case_cancels_its_hearings_still_to_come(sched, app):
    case = sched.file()
    hearing = sched.book(case)
    assert hearing.status_code == 201, hearing.get_json()
    closed = sched.judge.post(f"/api/v1/cases/{case['id']}/close",
                              json={"closed_at": "2027-01-04T09:00:00+08:00", "outcome": "撤诉"})
    assert closed.status_code == 200, closed.get_json()
    listed = sched["scheduler"].get(f"/api/v1/hearings?judge_id={sched.judge.id}").get_json()["items"]
    assert [h["status"] for h in listed if h["id"] == hearing.get_json()["id"]] == ["cancelled"]
    from sqlalchemy import select

    from ancillary.outbox import Notification

    bodies = sched.session_do(lambda s: s.scalars(select(Notification.body).where(
        Notification.kind == "hearing_cancelled")).all())
    assert bodies and case["number"] in bodies[0] and "取消" in bodies[0]
    # the room is free again for another case
    assert sched.book(sched.file()).status_code == 201
