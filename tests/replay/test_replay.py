"""A month at a small court, replayed through the product: reproducible, consistent, and the KPIs agree."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ancillary.archive.models import ArchiveRecord
from ancillary.auth.models import Role, User
from ancillary.auth.services import issue_token
from ancillary.cases.models import Case, CaseStatus, Dossier
from ancillary.config import DEFAULT_HEARING_MINUTES
from ancillary.custody.services import verify_chains
from ancillary.extensions import db
from ancillary.queues.models import Task, TaskKind, TaskStatus
from ancillary.replay.court import ReplaySettings, derive_rooms, scale_staff
from ancillary.scheduling.models import Hearing, HearingStatus
from ancillary.service.models import OrderStatus, ServiceOrder
from tests.replay.conftest import SMALL

OPEN = [TaskStatus.open, TaskStatus.claimed]


def test_the_same_seed_writes_the_same_report_byte_for_byte(replay):
    first, second = replay("base")[2], replay("again")[2]
    assert (first / "report.json").read_bytes() == (second / "report.json").read_bytes()
    assert (first / "report.html").read_bytes() == (second / "report.html").read_bytes()


def test_the_report_has_every_seed_figure_with_its_counts(replay):
    body = json.loads((replay("base")[2] / "report.json").read_text(encoding="utf-8"))
    figures = body["figures"]
    assert 50 <= figures["cases"]["value"] <= 200
    for name in ("scheduled_within_3h_rate", "courtroom_utilization", "courtroom_utilization_of_bound",
                 "speedy_heard_within_7_days_rate", "service_success_rate", "archived_within_30_days_rate",
                 "closed_within_limit_rate"):
        figure = figures[name]
        assert figure["denominator"] > 0, name
        assert 0 <= figure["value"] <= 1, name
        assert figure["value"] == round(figure["numerator"] / figure["denominator"], 4), name
    assert body["commit"] and body["assumptions"] and len(body["by_month"]) == 1
    html = (replay("base")[2] / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html and "送达成功率" in html and "<script" not in html and "http://" not in html.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    cases = body["figures"]["cases"]["numerator"]  # a count of cases, not a fraction of one
    assert f"<td>{cases}</td></tr>" in html and f"{cases} / 1<" not in html
    month = int(body["by_month"][0]["month"][5:7])
    assert f">{month}月</text>" in html  # the month-by-month charts name their months


def test_a_missed_figure_is_never_shown_as_its_target():
    from ancillary.replay.report import percent

    assert percent(0.9998, 1.0) == "99.98%"  # one decimal would read 100.0%, beside "below"
    assert percent(0.99999, 1.0) == "99.999%"
    assert percent(0.9984, 0.998) == "99.8%" and percent(1.0, 1.0) == "100.0%" and percent(0.3741) == "37.4%"
    assert percent(None) == "—"


def test_the_report_figures_are_what_the_kpi_endpoint_answers_on_the_replay_database(replay):
    app, body, _ = replay("base")
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.role == Role.court_admin).order_by(User.id))
        token, _ = issue_token(db.session, admin, now=app.config["CLOCK"](), lifetime=timedelta(days=1))
        db.session.commit()
    answer = app.test_client().get(f"/api/v1/reports/kpis?from={body['window']['from']}&to={body['window']['to']}",
                                   headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    kpis = answer.get_json()
    assert kpis["figures"] == body["figures"]
    assert kpis["figures"]["service_success_rate"]["value"] == kpis["service_success_rate"]
    assert kpis["figures"]["closed_within_limit_rate"]["value"] == round(kpis["closed_within_limit_rate"], 4)
    assert kpis["figures"]["courtroom_utilization"]["value"] == kpis["courtroom_utilization"]


def test_every_case_ends_in_a_consistent_state(replay):
    app = replay("base")[0]
    with app.app_context():
        session = db.session
        cases = list(session.scalars(select(Case)))
        assert cases
        for case in cases:
            hearings = list(session.scalars(select(Hearing).where(
                Hearing.case_id == case.id, Hearing.status == HearingStatus.booked).order_by(Hearing.starts_at)))
            assert 1 <= len(hearings) <= SMALL.max_hearings, case.number
            for earlier, later in zip(hearings, hearings[1:], strict=False):  # one after the other, never double
                assert later.starts_at >= earlier.ends_at and later.created_at >= earlier.ends_at, case.number
            tasks = list(session.scalars(select(Task).where(Task.case_id == case.id)))
            orders = list(session.scalars(select(ServiceOrder).where(ServiceOrder.case_id == case.id)))
            waiting = any(t.kind == TaskKind.schedule_hearing and t.status in OPEN for t in tasks)
            if case.status == CaseStatus.open:  # waiting only for a further hearing, after one held
                assert not waiting or hearings[-1].ends_at <= case_end(app), case.number
                assert case.closed_at is None
                assert not any(t.kind == TaskKind.archive for t in tasks)
                continue
            assert not waiting and case.closed_at >= hearings[-1].ends_at, case.number  # after its last hearing
            assert all(o.status in (OrderStatus.served, OrderStatus.exhausted, OrderStatus.withdrawn)
                       for o in orders), case.number
            archive = [t for t in tasks if t.kind == TaskKind.archive]
            assert len(archive) == 1, case.number
            shelved = session.scalar(select(func.count()).select_from(ArchiveRecord).join(Dossier).where(
                Dossier.case_id == case.id, ArchiveRecord.archived_at.is_not(None)))
            if case.status == CaseStatus.archived:
                assert shelved == len(case.dossiers) and archive[0].status == TaskStatus.done, case.number
            else:
                assert shelved < len(case.dossiers) and archive[0].status in OPEN, case.number
        assert verify_chains(session).ok


def case_end(app):
    return app.config["CLOCK"]()


def test_staff_spread_over_posts_in_the_seed_proportions():
    assert sum(scale_staff(42).values()) == 42 and scale_staff(42)["service_clerk"] == 5
    assert sum(scale_staff(30).values()) == 30 and all(n >= 1 for n in scale_staff(30).values())
    assert sum(scale_staff(7).values()) == 7


def test_the_court_has_the_fewest_rooms_the_seed_volume_fills_to_96_percent():
    """Six at the main court, one per tribunal: the seed's hearings fill them to about 95 %."""
    assert derive_rooms(ReplaySettings(), DEFAULT_HEARING_MINUTES) == {"main": 6, "tribunal": 1}
    assert derive_rooms(ReplaySettings(volume=2.0), DEFAULT_HEARING_MINUTES) == {"main": 6, "tribunal": 1}
    assert derive_rooms(ReplaySettings(cases_per_year=31326), DEFAULT_HEARING_MINUTES) == {"main": 12, "tribunal": 2}
    assert derive_rooms(ReplaySettings(rooms={"main": 6, "tribunal": 2}), DEFAULT_HEARING_MINUTES)["tribunal"] == 2


@pytest.mark.parametrize("args, says", [
    (["--without", "courtrooms"], "courtrooms"),
    (["--rate", "personal_served=1.5"], "between 0 and 1"),
    (["--rate", "luck=0.5"], "unknown rate"),
    (["--post", "janitor=3"], "unknown post"),
    (["--post", "scheduler=many"], "scheduler=many"),
    (["--volume", "0"], "volume"),
    (["--start", "someday"], "ISO date"),
])
def test_the_command_refuses_nonsense_naming_the_option(args, says, tmp_path):
    from click.testing import CliRunner

    from ancillary.replay.cli import replay_command

    result = CliRunner().invoke(replay_command, ["--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 2
    assert says in result.output
    assert not (tmp_path / "out" / "report.json").exists()


def test_the_replay_refuses_a_database_that_is_not_empty(new_database, tmp_path):
    import click

    from ancillary.replay import actions
    from ancillary.replay.cli import replay_app

    url = new_database()
    first = replay_app(tmp_path / "first", SMALL, url)
    with first.app_context():
        actions.add_user(db.session, username="clerk01", role="intake_clerk", display_name="王芳",
                         phone="+8613800000001", now=datetime(2026, 1, 1, tzinfo=UTC))
        db.session.commit()
        db.engine.dispose()
    with pytest.raises(click.ClickException, match="empty database"):
        replay_app(tmp_path / "second", SMALL, url)
