"""The scheduling sweep: it proposes hearings for newly filed cases (or books them when the court
says so), a scheduler accepts or rejects each, a slot taken meanwhile is named, and the sweep
proposes once however often it runs for an instant, also from two processes' threads at once."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from ancillary.outbox import Notification
from ancillary.queues.models import Task, TaskKind, TaskStatus
from ancillary.scheduling import jobs
from ancillary.scheduling.models import Hearing, HearingProposal, HearingStatus, ProposalStatus
from tests.conftest import NOW

PROPOSALS = "/api/v1/scheduling/proposals"


def run_sweep(app, now=NOW, **overrides):
    from ancillary.extensions import db

    settings = app.config["SETTINGS"].with_overrides(**overrides)
    with app.app_context():
        outcome = jobs.sweep(db.session, now, settings)
        db.session.commit()
        db.session.remove()
    return outcome


def proposals(sched, **where):
    return sched.session_do(lambda s: [
        (p.case_id, p.status.value, p.starts_at, p.courtroom_id) for p in s.scalars(
            select(HearingProposal).filter_by(**where).order_by(HearingProposal.id))])


def test_the_sweep_proposes_once_per_case_however_often_it_runs(sched, app):
    speedy = sched.file(kind="speedy")
    summary = sched.file(kind="summary")
    assert run_sweep(app) == {"proposed": 2, "unscheduled": 0}
    assert run_sweep(app) == {}  # the same instant again: nothing new
    assert run_sweep(app, NOW + timedelta(minutes=5)) == {}
    rows = proposals(sched)
    assert sorted(r[0] for r in rows) == sorted([speedy["id"], summary["id"]])
    assert all(r[1] == "proposed" for r in rows)
    assert sched.count(Hearing) == 0  # proposing books nothing
    by_case = {r[0]: r[2] for r in rows}
    # Speedy first, on the next working day (one day's notice); summary after three days' notice.
    assert by_case[speedy["id"]].astimezone(app.config["SETTINGS"].timezone).date().isoformat() == "2027-01-05"
    assert by_case[summary["id"]].astimezone(app.config["SETTINGS"].timezone).date().isoformat() >= "2027-01-07"


def test_the_sweep_is_off_when_the_court_says_so(sched, app):
    sched.file(kind="speedy")
    assert run_sweep(app, auto_schedule_sweep=False) == {}
    assert proposals(sched) == []


def test_the_sweep_runs_only_at_the_start_of_its_period(sched, app):
    sched.file(kind="speedy")
    assert run_sweep(app, NOW + timedelta(minutes=5), auto_schedule_minutes=30) == {}  # 09:35: mid-period
    assert run_sweep(app, NOW, auto_schedule_minutes=30)["proposed"] == 1  # 09:30 opens a period


def test_with_auto_book_the_sweep_books_within_the_scheduling_window(sched, app):
    cases = [sched.file(kind="speedy"), sched.file(kind="ordinary")]
    assert run_sweep(app, auto_book=True) == {"booked": 2, "unscheduled": 0}
    assert run_sweep(app, auto_book=True) == {}
    hearings = sched.session_do(lambda s: {h.case_id: h.created_at for h in s.scalars(select(Hearing))})
    assert set(hearings) == {c["id"] for c in cases}
    tasks = sched.session_do(lambda s: [(t.status, t.completed_at) for t in s.scalars(
        select(Task).where(Task.kind == TaskKind.schedule_hearing))])
    assert all(status != TaskStatus.open and done <= NOW for status, done in tasks), tasks
    digest = sched.session_do(lambda s: [n.body for n in s.scalars(
        select(Notification).where(Notification.recipient_id == sched.judge.id))])
    assert len(digest) == 1 and all(c["number"] in digest[0] for c in cases)


def test_a_scheduler_accepts_a_proposal_and_it_is_booked_the_normal_way(sched, app):
    case = sched.file(kind="speedy")
    run_sweep(app)
    listed = sched["scheduler"].get(PROPOSALS).get_json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert item["case_number"] == case["number"] and item["kind"] == "speedy" and item["taken_by"] is None
    answer = sched["scheduler"].post(f"{PROPOSALS}/{item['id']}/accept")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["status"] == "accepted" and body["hearing_id"]
    hearing = sched.session_do(lambda s: (lambda h: (h.case_id, h.booked_by_id))(s.get(Hearing, body["hearing_id"])))
    assert hearing == (case["id"], sched["scheduler"].id)
    told = sched.session_do(lambda s: [n.kind for n in s.scalars(
        select(Notification).where(Notification.recipient_id == sched.judge.id))])
    assert told == ["hearing_booked"]  # the judge's phone hears of it as of any booking
    again = sched["scheduler"].post(f"{PROPOSALS}/{item['id']}/accept")
    assert again.status_code == 409 and again.get_json()["error"] == "proposal_decided"
    assert sched["scheduler"].get(PROPOSALS).get_json()["total"] == 0
    assert run_sweep(app, NOW + timedelta(minutes=5)) == {}  # booked: nothing more to propose


def test_a_slot_taken_meanwhile_is_named_refused_and_proposed_afresh(sched, app):
    case = sched.file(kind="speedy")
    other = sched.file(kind="speedy", judge_id=sched.court.make_actor("judge").id)
    run_sweep(app)
    mine = next(p for p in sched["scheduler"].get(PROPOSALS).get_json()["items"] if p["case_id"] == case["id"])
    theirs = next(p for p in sched["scheduler"].get(PROPOSALS).get_json()["items"] if p["case_id"] == other["id"])
    assert sched["scheduler"].post(f"{PROPOSALS}/{theirs['id']}/reject", json={"reason": "另行安排"}).status_code == 200
    # Someone books the other case by hand into my proposal's room and time.
    assert sched.book(other, starts=mine["starts_at"], ends=mine["ends_at"],
                      room={"id": mine["courtroom_id"]}).status_code == 201
    listed = next(p for p in sched["scheduler"].get(PROPOSALS).get_json()["items"] if p["id"] == mine["id"])
    assert listed["taken_by"]["case_number"] == other["number"]
    refused = sched["scheduler"].post(f"{PROPOSALS}/{mine['id']}/accept")
    assert refused.status_code == 409
    assert other["number"] in refused.get_json()["message"] and mine["starts_at"][11:16] in refused.get_json()["message"]
    assert sched.count(Hearing, Hearing.case_id == case["id"]) == 0  # nothing partial
    outcome = run_sweep(app, NOW + timedelta(minutes=5))
    assert outcome == {"proposed": 1, "unscheduled": 0, "withdrawn": 1}
    rows = proposals(sched, case_id=case["id"])
    assert [r[1] for r in rows] == ["withdrawn", "proposed"]
    assert rows[1][2:] != rows[0][2:]  # another room or time


def test_a_rejected_case_is_left_to_people(sched, app):
    case = sched.file(kind="summary")
    run_sweep(app)
    item = sched["scheduler"].get(PROPOSALS).get_json()["items"][0]
    answer = sched["scheduler"].post(f"{PROPOSALS}/{item['id']}/reject", json={"reason": "法官当日另有安排"})
    assert answer.status_code == 200 and answer.get_json()["reason"] == "法官当日另有安排"
    assert run_sweep(app, NOW + timedelta(minutes=5)) == {}
    assert [r[1] for r in proposals(sched, case_id=case["id"])] == ["rejected"]
    task = sched.session_do(lambda s: s.scalar(select(Task.status).where(Task.case_id == case["id"],
                                                                          Task.kind == TaskKind.schedule_hearing)))
    assert task == TaskStatus.open  # still in the scheduler's queue
    rejected = sched["scheduler"].get(f"{PROPOSALS}?status=rejected").get_json()
    assert [p["id"] for p in rejected["items"]] == [item["id"]]


def test_need_to_know_and_bad_input(sched, app):
    mine = sched.file(kind="speedy")
    stranger = sched.court.make_actor("judge")
    sched.file(kind="speedy", judge_id=stranger.id)
    run_sweep(app)
    assert sched["court_admin"].get(PROPOSALS).get_json()["total"] == 2
    judged = sched.judge.get(PROPOSALS).get_json()
    assert [p["case_id"] for p in judged["items"]] == [mine["id"]]  # a judge sees their own cases only
    for role in ("intake_clerk", "service_clerk", "file_clerk", "archivist", "follow_up", "contractor_manager",
                 "sysadmin"):
        answer = sched[role].get(PROPOSALS)
        assert answer.status_code == 403, role
        assert "parties" not in str(answer.get_json())
    item = judged["items"][0]
    for role in ("judge", "court_admin", "intake_clerk"):
        assert sched[role].post(f"{PROPOSALS}/{item['id']}/accept").status_code == 403, role
    unknown = sched["scheduler"].post(f"{PROPOSALS}/999999/accept")
    assert unknown.status_code == 404 and unknown.get_json()["field"] == "proposal_id"
    long = sched["scheduler"].post(f"{PROPOSALS}/{item['id']}/reject", json={"reason": "长" * 201})
    assert long.status_code == 422 and long.get_json()["field"] == "reason"
    wrong = sched["scheduler"].get(f"{PROPOSALS}?status=maybe")
    assert wrong.status_code == 422 and wrong.get_json()["field"] == "status"
    assert proposals(sched, status=ProposalStatus.proposed).__len__() == 2  # nothing was decided
    assert "parties" not in judged["items"][0] and "phones" not in str(judged)


@pytest.mark.parametrize("auto_book", [False, True])
def test_two_sweeps_at_once_propose_or_book_each_case_once(sched, app, auto_book):
    cases = [sched.file(kind="speedy", judge_id=sched.court.make_actor("judge").id) for _ in range(6)]
    barrier = threading.Barrier(4)
    errors = []

    def go():
        barrier.wait()
        try:
            run_sweep(app, auto_book=auto_book)
        except Exception as exc:  # the loser of a race may be refused by the database: that is the guard
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    if auto_book:
        booked = sched.session_do(lambda s: sorted(h.case_id for h in s.scalars(
            select(Hearing).where(Hearing.status == HearingStatus.booked))))
        assert booked == sorted(c["id"] for c in cases), errors
    else:
        open_rows = proposals(sched, status=ProposalStatus.proposed)
        assert sorted(r[0] for r in open_rows) == sorted(c["id"] for c in cases), errors
    assert set(errors) <= {"IntegrityError", "OperationalError"}


def test_a_scheduler_accepts_and_rejects_proposals_on_the_page(sched, app, person, signed_in, viewport):
    from tests.browser import check_page

    first = sched.file(kind="speedy")
    second = sched.file(kind="summary")
    run_sweep(app)
    scheduler = person("scheduler", "吴排期")
    page = signed_in(scheduler, "/schedule?week=2027-01-04")
    item = page.locator(f"#proposal-list li[data-case='{first['id']}']")
    item.wait_for()
    assert first["number"] in item.inner_text() and "速裁" in item.inner_text()
    check_page(page)
    item.locator("button[data-action=accept]").click()
    page.locator("#message.ok").wait_for()
    assert first["number"] in page.locator("#message").inner_text() and "已通知法官" in page.locator("#message").inner_text()
    hearing = sched.session_do(lambda s: s.scalar(select(Hearing.id).where(Hearing.case_id == first["id"])))
    page.locator(f"[data-hearing='{hearing}']:visible").first.wait_for()  # the week is drawn again with it
    page.locator(f"#proposal-list li[data-case='{second['id']}'] button[data-action=reject]").click()
    page.locator("#proposal-empty:not([hidden])").wait_for()
    assert [r[1] for r in proposals(sched, case_id=second["id"])] == ["rejected"]
    page.wait_for_load_state("networkidle")
    check_page(page)
