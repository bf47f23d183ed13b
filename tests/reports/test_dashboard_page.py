"""/dashboard in real Chromium: the figures the KPI endpoint returns for the same period, green or
red against their targets, counts on hover, workload by name; phone and desktop."""

from tests.browser import check_page
from tests.reports.test_dashboard import _served_and_booked


def _pct(value):
    return "—" if value is None else f"{value * 100:.1f}%"


def test_the_dashboard_page_shows_the_kpi_endpoints_figures(signed_in, person, court, clock):
    _served_and_booked(court, clock)
    admin = person("court_admin", "刘主任")
    kpis = admin.get("/api/v1/reports/kpis?from=2027-01-04&to=2027-01-10").get_json()
    page = signed_in(admin, "/dashboard?from=2027-01-04&to=2027-01-10")
    for key in ("scheduled_within_3_hours_rate", "courtroom_utilization", "courtroom_utilization_of_bound",
                "speedy_heard_within_7_days_rate", "speedy_placeable_heard_within_7_days_rate",
                "service_success_rate", "archived_within_30_days_rate", "closed_within_limit_rate"):
        row = page.locator(f"#figures tr[data-key='{key}']")
        assert row.locator("td.value").inner_text().split()[0] == _pct(kpis[key]), key
        numerator, denominator = kpis["rate_counts"][key]
        shown = [str(v) if v is not None else "—" for v in (numerator, denominator)]
        assert row.locator("td.count-cell").inner_text().replace(" ", "") == "/".join(shown), key
        assert row.locator("td.value").get_attribute("title").replace(" ", "") == "/".join(shown), key
    within = page.locator("#figures tr[data-key='scheduled_within_3_hours_rate']")
    assert "missed" in within.get_attribute("class") and "低于目标" in within.inner_text()
    page.locator("#trend svg.trend").nth(7).wait_for()
    assert page.locator("svg.trend").count() == 8  # one per seed figure
    assert page.locator("#csv").get_attribute("href") == "/api/v1/reports/dashboard.csv?from=2027-01-04&to=2027-01-10"
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_the_contractor_manager_sees_workload_by_name_and_no_party_data(signed_in, person, court):
    case = court.file_case()
    clerk = person("service_clerk", "王芳")
    tasks = clerk.get(f"/api/v1/tasks?queue=service&case_id={case['id']}").get_json()["items"]
    for task in tasks:
        assert clerk.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200
    manager = person("contractor_manager", "陈经理")
    page = signed_in(manager, "/dashboard?from=2027-01-04&to=2027-01-10")
    assert "王芳" in page.locator("#workload").inner_text()
    html = page.content()
    for secret in ("张三", "李四", "371002198001010010", "13800000001"):
        assert secret not in html
    page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
    check_page(page)


def test_a_reversed_period_is_refused_with_the_reason_and_other_roles_are_turned_away(web, person):
    admin = person("court_admin", "刘主任")
    browser = web()
    browser.sign_in(admin.username)
    refused = browser.get("/dashboard?from=2027-01-10&to=2027-01-04")
    assert refused.status_code == 422 and "统计期间的结束日期早于开始日期" in refused.get_data(as_text=True)
    too_long = browser.get("/dashboard?from=2025-01-01&to=2027-01-04")
    assert too_long.status_code == 422 and "366" in too_long.get_data(as_text=True)
    for role in ("scheduler", "judge", "service_clerk"):
        other = web()
        other.sign_in(person(role).username)
        assert other.get("/dashboard").status_code == 403
        assert other.get("/api/v1/reports/dashboard?from=2027-01-04&to=2027-01-10").status_code == 403


def test_the_dashboard_names_clerks_whose_releases_are_unusual_in_a_sentence(signed_in, person, court, clock):
    harvester, honest = person("service_clerk", "赵收集"), person("service_clerk", "钱认真")

    def claim_read_release(clerk, minutes):
        case = court.file_case()
        order = court["court_admin"].get(f"/api/v1/service-orders?case_id={case['id']}").get_json()["items"][0]
        assert clerk.post(f"/api/v1/tasks/{order['task_id']}/claim").status_code == 200
        assert clerk.get(f"/api/v1/service-orders/{order['id']}").status_code == 200  # reads the contacts
        clock.advance(minutes=minutes)
        assert clerk.post(f"/api/v1/tasks/{order['task_id']}/release").status_code == 200

    claim_read_release(harvester, 3)
    claim_read_release(harvester, 4)
    claim_read_release(honest, 180)
    for reader in (person("court_admin", "刘主任"), person("contractor_manager", "陈经理")):
        page = signed_in(reader, "/dashboard?from=2027-01-01&to=2027-01-31")
        rows = page.locator("#release-patterns tbody tr")
        rows.first.wait_for()
        assert rows.count() == 2
        flagged, calm = rows.nth(0).inner_text(), rows.nth(1).inner_text()
        assert "赵收集" in flagged and "异常" in flagged and "赵收集在阅读受送达人联系方式后" in flagged, flagged
        assert "退回 2 个任务" in flagged and [cell.strip() for cell in flagged.split("\t")[1:3]] == ["2", "2"]
        assert "钱认真" in calm and "无异常" in calm, calm
        html = page.content()
        for secret in ("张三", "李四", "371002198001010010", "13800000001", "(2027)鲁1002"):
            assert secret not in html, secret
        page.wait_for_load_state("networkidle")  # no request of the page left open when the test ends
        check_page(page)
