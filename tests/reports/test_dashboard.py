"""The management dashboard: the KPI endpoint's figures with targets, counts, a weekly trend,
workload per person; bad periods refused with the reason; CSV; the same for both readers."""

import csv
import io

import pytest


def _served_and_booked(court, clock):
    """Two cases filed Monday: one booked within 3 hours, one after 6; one defendant served in person."""
    judge = court["judge"]
    first = court.file_case(filed_at="2027-01-04T08:30:00+08:00")
    second = court.file_case(filed_at="2027-01-04T08:30:00+08:00")
    scheduler = court["scheduler"]
    rooms = court["court_admin"].get("/api/v1/courtrooms").get_json()
    main = next(r for r in rooms if r["venue"] == "main")
    clock.set("2027-01-04T10:30:00+08:00")
    assert scheduler.post("/api/v1/hearings", json={"case_id": first["id"], "courtroom_id": main["id"],
                                                    "starts_at": "2027-01-07T09:00:00+08:00",
                                                    "ends_at": "2027-01-07T10:00:00+08:00"}).status_code == 201
    clock.set("2027-01-04T14:30:00+08:00")
    assert scheduler.post("/api/v1/hearings", json={"case_id": second["id"], "courtroom_id": main["id"],
                                                    "starts_at": "2027-01-08T09:00:00+08:00",
                                                    "ends_at": "2027-01-08T10:00:00+08:00"}).status_code == 201
    return judge, first, second


def test_the_dashboard_shows_what_the_kpi_endpoint_returns_with_targets_and_counts(court, clock):
    _served_and_booked(court, clock)
    admin = court["court_admin"]
    kpis = admin.get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-10").get_json()
    board = admin.get("/api/v1/reports/dashboard?from=2027-01-04&to=2027-01-10")
    assert board.status_code == 200, board.get_json()
    body = board.get_json()
    rows = {row["key"]: row for row in body["figures"]}
    for key in ("scheduled_within_3_hours_rate", "courtroom_utilization", "courtroom_utilization_of_bound",
                "speedy_heard_within_7_days_rate", "service_success_rate", "archived_within_30_days_rate",
                "closed_within_limit_rate"):
        assert rows[key]["value"] == kpis[key], key
        assert [rows[key]["numerator"], rows[key]["denominator"]] == kpis["rate_counts"][key], key
    layers = [key for key in rows if key.startswith("service_success_by_layer.")]
    assert len(layers) == len(kpis["service_success_by_layer"])
    for key in layers:
        assert [rows[key]["numerator"], rows[key]["denominator"]] == kpis["rate_counts"][key], key
        assert rows[key]["value"] == kpis["service_success_by_layer"][key.split(".", 1)[1]]
    within = rows["scheduled_within_3_hours_rate"]
    assert (within["value"], within["numerator"], within["denominator"]) == (0.5, 1, 2)
    assert within["met"] is False and within["target"] == 0.9
    assert rows["service_success_rate"]["target"] == 0.882
    assert rows["closed_within_limit_rate"]["target"] == 0.998
    assert rows["closed_within_limit_rate"]["value"] is None and rows["closed_within_limit_rate"]["met"] is None
    use = rows["courtroom_utilization"]
    assert use["value"] == pytest.approx(use["numerator"] / use["denominator"], abs=1e-4)
    assert use["numerator"] == 120
    bound = rows["courtroom_utilization_of_bound"]
    assert bound["numerator"] == 120 and bound["denominator"] == 120 and bound["value"] == 1.0
    # One week, Monday to Sunday, the same figures as the whole period.
    assert [(w["from"], w["to"]) for w in body["trend"]] == [("2027-01-04", "2027-01-10")]
    assert body["trend"][0]["values"]["scheduled_within_3_hours_rate"] == 0.5


def test_the_trend_has_one_row_per_week_clipped_to_the_period(court):
    body = court["court_admin"].get("/api/v1/reports/dashboard?from=2027-01-06&to=2027-01-20").get_json()
    assert [(w["from"], w["to"]) for w in body["trend"]] == [
        ("2027-01-06", "2027-01-10"), ("2027-01-11", "2027-01-17"), ("2027-01-18", "2027-01-20")]


def test_workload_names_each_person_with_held_and_overdue_tasks(court, clock):
    case = court.file_case()
    clerk = court["service_clerk"]
    tasks = clerk.get(f"/api/v1/tasks?queue=service&case_id={case['id']}").get_json()["items"]
    assert tasks
    for task in tasks:
        assert clerk.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    clock.set("2027-03-01T09:00:00+08:00")  # long past every serve task's due date
    for reader in ("court_admin", "contractor_manager"):
        people = court[reader].get("/api/v1/reports/dashboard?from=2027-01-04&to=2027-01-10").get_json()[
            "workload"]["people"]
        mine = next(p for p in people if p["user_id"] == clerk.id)
        assert mine["name"] == clerk.username and mine["held"] == len(tasks) and mine["overdue"] == len(tasks)


def test_the_dashboard_carries_no_party_data_for_either_reader(court, clock):
    case = court.file_case()
    for reader in ("court_admin", "contractor_manager"):
        text = court[reader].get("/api/v1/reports/dashboard?from=2027-01-04&to=2027-01-10").get_data(as_text=True)
        for secret in ("张三", "李四", "371002198001010010", "13800000001", case["parties"][0]["name"]):
            assert secret not in text


@pytest.mark.parametrize(("query", "code"), [
    ("from=2027-01-10&to=2027-01-04", "period_reversed"),
    ("from=2026-01-01&to=2027-01-10", "period_too_long"),
])
def test_a_reversed_or_too_long_period_is_refused_with_the_reason(court, query, code):
    for path in ("/api/v1/reports/dashboard", "/api/v1/reports/dashboard.csv"):
        answer = court["court_admin"].get(f"{path}?{query}")
        assert answer.status_code == 422
        body = answer.get_json()
        assert (body["error"], body["field"]) == (code, "to")
    chinese = court["court_admin"].get(f"/api/v1/reports/dashboard?{query}").get_json()["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), chinese


def test_bad_input_and_other_roles(court):
    admin = court["court_admin"]
    assert admin.get("/api/v1/reports/dashboard?from=2027-01-04").get_json()["field"] == "to"
    assert admin.get("/api/v1/reports/dashboard?from=yesterday&to=2027-01-04").status_code == 422
    for role in ("scheduler", "judge", "service_clerk", "sysadmin"):
        assert court[role].get("/api/v1/reports/dashboard?from=2027-01-04&to=2027-01-10").status_code == 403


def test_the_csv_export_is_the_dashboards_table_in_chinese(court, clock):
    _served_and_booked(court, clock)
    answer = court["contractor_manager"].get("/api/v1/reports/dashboard.csv?from=2027-01-04&to=2027-01-10")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][0] == "指标"
    within = next(r for r in rows if r and r[0] == "开庭排期在立案后3小时内完成")
    assert within[1:6] == ["50.0%", "1", "2", "90.0%", "否"]


def test_every_week_of_the_trend_and_the_period_are_what_the_kpi_endpoint_answers(court, clock):
    """The period and its weeks are counted in one pass; each must still equal its own KPI answer."""
    _served_and_booked(court, clock)
    clock.set("2027-01-08T16:30:00+08:00")
    court.file_case(kind="speedy", filed_at="2027-01-08T16:00:00+08:00")  # unbooked, its 7 days run past Sunday
    clock.set("2027-01-12T09:30:00+08:00")
    court.file_case(kind="speedy", filed_at="2027-01-12T09:00:00+08:00")
    clock.set("2027-01-25T09:00:00+08:00")
    admin = court["court_admin"]
    body = admin.get("/api/v1/reports/dashboard?from=2027-01-01&to=2027-01-24").get_json()
    assert body["kpis"] == admin.get("/api/v1/reports/kpis?from=2027-01-01&to=2027-01-24").get_json()
    assert len(body["trend"]) == 4
    for week in body["trend"]:
        kpis = admin.get(f"/api/v1/reports/kpis?from={week['from']}&to={week['to']}").get_json()
        assert week["values"] == {key: kpis[key] for key in week["values"]}, week["from"]
    # The unbooked speedy case of the first week waits inside its week, and counts as late over the period.
    first = admin.get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-10").get_json()
    assert first["rate_counts"]["speedy_heard_within_7_days_rate"] == [0, 0]
    assert body["kpis"]["rate_counts"]["speedy_heard_within_7_days_rate"] == [0, 2]
