"""Each feature switched off on the same small month: what it names changes, nothing else does."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select

from ancillary.extensions import db
from ancillary.replay.cli import feature_settings
from ancillary.service.models import AttemptChannel, AttemptOutcome, ServiceAttempt
from tests.replay.conftest import SMALL

SERVICE = {"service_success_rate"}
SCHEDULING = {"scheduled_within_3h_rate", "courtroom_utilization", "courtroom_utilization_of_bound",
              "speedy_heard_within_7_days_rate", "speedy_placeable_heard_within_7_days_rate"}
# What each feature may move; every other seed figure must come out exactly as with it on.
OWN = {"address-reuse": SERVICE, "law-firm-e-service": SERVICE, "ladder-escalation": SERVICE,
       "auto-scheduling": SCHEDULING}


def without(replay, feature: str):
    return replay(f"without-{feature}", without=(feature,))


def changed(base: dict, other: dict) -> set[str]:
    return {name for name, figure in base["figures"].items() if other["figures"][name] != figure}


def attempts(app, channel: AttemptChannel, outcome: AttemptOutcome | None = None) -> int:
    query = select(func.count()).select_from(ServiceAttempt).where(ServiceAttempt.channel == channel)
    if outcome is not None:
        query = query.where(ServiceAttempt.outcome == outcome)
    with app.app_context():
        return db.session.scalar(query)


@pytest.mark.parametrize("feature", sorted(OWN))
def test_switching_a_feature_off_moves_only_its_own_figures(replay, feature):
    base, other = replay("base")[1], without(replay, feature)[1]
    assert other["settings"]["without"] == [feature]
    assert changed(base, other) <= OWN[feature], feature


def test_without_address_reuse_no_confirmed_address_is_attached_and_more_visits_find_the_party_gone(replay):
    base_app, base, _ = replay("base")
    app, other, _ = without(replay, "address-reuse")
    found = AttemptOutcome.delivered  # layer 0 found an address confirmed in the person's other case
    assert attempts(base_app, AttemptChannel.address_reuse, found) > 0
    assert attempts(app, AttemptChannel.address_reuse, found) == 0
    assert other["kpis"]["service_success_by_layer"] != base["kpis"]["service_success_by_layer"]


def test_without_law_firm_e_service_those_defendants_are_phoned_instead(replay):
    base_app, base, _ = replay("base")
    app, other, _ = without(replay, "law-firm-e-service")
    assert attempts(base_app, AttemptChannel.law_firm_email) > 0
    assert attempts(app, AttemptChannel.law_firm_email) == 0
    assert other["kpis"]["service_electronic_share"] < base["kpis"]["service_electronic_share"]


def test_without_ladder_escalation_the_sweep_moves_no_order_and_clerks_review_by_hand(replay):
    base, other = replay("base")[1], without(replay, "ladder-escalation")[1]
    assert base["counts"].get("sweep.sweep.escalated", 0) > 0
    assert other["counts"].get("sweep.sweep.escalated", 0) == 0
    assert other["kpis"]["service_time_to_serve_days_p95"] >= base["kpis"]["service_time_to_serve_days_p95"]


def test_without_auto_scheduling_schedulers_book_by_hand_and_are_busier(replay):
    base, other = replay("base")[1], without(replay, "auto-scheduling")[1]
    assert base["counts"]["auto_runs"] > 0 and "auto_runs" not in other["counts"]
    assert other["staff"]["scheduler"]["busy_minutes"] > base["staff"]["scheduler"]["busy_minutes"]
    assert other["figures"]["cases"] == base["figures"]["cases"]


def test_without_auto_scheduling_the_products_own_scheduling_sweep_is_off_too():
    assert feature_settings(dataclasses.replace(SMALL, without=("auto-scheduling",))) == {"auto_schedule_sweep": False}
    assert feature_settings(SMALL) == {"auto_schedule_sweep": True}
