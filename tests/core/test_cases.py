from datetime import datetime

from scanners.tokens import Keyring, verify
from tests.conftest import QR_KEYS


def test_filing_creates_dossiers_with_signed_tokens_deadline_and_tasks(court):
    case = court.file_case(volumes=3)
    assert case["status"] == "open"
    assert [d["volume"] for d in case["dossiers"]] == [1, 2, 3]
    codes = {d["code"] for d in case["dossiers"]}
    assert len(codes) == 3
    ring = Keyring.parse(QR_KEYS)
    for dossier in case["dossiers"]:
        assert verify(ring, dossier["qr_token"]) == dossier["code"]
    # summary: 3 months, first day not counted, to the end of the last day (local time)
    assert case["deadline"] == "2027-04-04T23:59:59+08:00"
    assert case["filed_at"] == "2027-01-04T09:00:00+08:00"

    tasks = court["court_admin"].get(f"/api/v1/tasks?case_id={case['id']}").get_json()["items"]
    kinds = sorted((t["kind"], t["queue"]) for t in tasks)
    assert kinds == [("schedule_hearing", "trial"), ("serve", "service")]
    schedule = next(t for t in tasks if t["kind"] == "schedule_hearing")
    assert schedule["due_at"] == "2027-01-04T12:00:00+08:00"
    defendant = next(p for p in case["parties"] if p["role"] == "defendant")
    assert next(t for t in tasks if t["kind"] == "serve")["party_id"] == defendant["id"]


def test_statutory_deadlines_by_kind_clamp_to_month_end(court, clock):
    clock.set("2027-02-01T08:00:00+08:00")
    expectations = {
        ("speedy", "2027-01-31T10:00:00+08:00"): "2027-02-28T23:59:59+08:00",
        ("ordinary", "2027-01-04T10:00:00+08:00"): "2027-07-04T23:59:59+08:00",
        ("summary", "2027-01-01T00:30:00+08:00"): "2027-04-01T23:59:59+08:00",
    }
    for (kind, filed_at), deadline in expectations.items():
        case = court.file_case(kind=kind, filed_at=filed_at)
        assert case["deadline"] == deadline, kind
    enforcement = court.file_case(kind="enforcement", judge_id=court["enforcement_officer"].id,
                                  filed_at="2027-01-04T10:00:00+08:00")
    assert enforcement["deadline"] == "2027-07-04T23:59:59+08:00"
    tasks = court["court_admin"].get(f"/api/v1/tasks?case_id={enforcement['id']}&kind=schedule_hearing")
    assert tasks.get_json()["items"][0]["queue"] == "enforcement"


def test_one_person_is_recognised_across_cases_by_id_number(court):
    first = court.file_case()
    second = court.file_case()
    person_ids = [next(p for p in c["parties"] if p["role"] == "defendant")["person_id"] for c in (first, second)]
    assert person_ids[0] is not None and person_ids[0] == person_ids[1]


def test_closing_opens_an_archive_task_due_30_days_later_and_cancels_scheduling(court):
    case = court.file_case()
    judge = court["judge"]
    response = judge.post(f"/api/v1/cases/{case['id']}/close",
                          json={"closed_at": "2027-01-04T10:00:00+08:00", "outcome": "调解结案"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "closed"
    tasks = court["court_admin"].get(f"/api/v1/tasks?case_id={case['id']}").get_json()["items"]
    archive = [t for t in tasks if t["kind"] == "archive"]
    assert len(archive) == 1 and archive[0]["queue"] == "archive"
    assert archive[0]["due_at"] == "2027-02-03T23:59:59+08:00"  # the 30th day, to its end
    assert next(t for t in tasks if t["kind"] == "schedule_hearing")["status"] == "cancelled"
    again = judge.post(f"/api/v1/cases/{case['id']}/close",
                       json={"closed_at": "2027-01-04T10:00:00+08:00", "outcome": "判决"})
    assert again.status_code == 409


def test_only_the_cases_judge_or_the_office_may_close(court):
    case = court.file_case()
    other_judge = court.make_actor("judge")
    body = {"closed_at": "2027-01-04T10:00:00+08:00", "outcome": "判决结案"}
    assert other_judge.post(f"/api/v1/cases/{case['id']}/close", json=body).status_code == 403
    assert court["scheduler"].post(f"/api/v1/cases/{case['id']}/close", json=body).status_code == 403
    assert court["court_admin"].post(f"/api/v1/cases/{case['id']}/close", json=body).status_code == 200


def test_judge_assignment_track_and_mediation(court):
    case = court.file_case()
    new_judge = court.make_actor("judge")
    admin, judge = court["court_admin"], court["judge"]
    refused = judge.patch(f"/api/v1/cases/{case['id']}", json={"judge_id": new_judge.id})
    assert refused.status_code == 403
    # a sentence naming the role in words; the field is named where programs read it
    assert refused.json["message"] == "法官无权修改案件的这一项" and refused.json["field"] == "judge_id"
    assert admin.patch(f"/api/v1/cases/{case['id']}", json={"track": "simple"}).status_code == 403
    moved = admin.patch(f"/api/v1/cases/{case['id']}", json={"judge_id": new_judge.id})
    assert moved.status_code == 200 and moved.get_json()["judge_id"] == new_judge.id
    assert judge.get(f"/api/v1/cases/{case['id']}").status_code == 403
    marked = new_judge.patch(f"/api/v1/cases/{case['id']}", json={"track": "complex", "mediation_likely": True})
    assert marked.get_json()["track"] == "complex" and marked.get_json()["mediation_likely"] is True
    bad = admin.patch(f"/api/v1/cases/{case['id']}", json={"judge_id": court["scheduler"].id})
    assert bad.status_code == 422 and bad.get_json()["field"] == "judge_id"


def test_law_firms(court):
    admin = court["court_admin"]
    body = {"name": "山东海明律师事务所", "email": "Service@Haiming.example.cn", "e_service_agreement": True}
    created = admin.post("/api/v1/law-firms", json=body)
    assert created.status_code == 201
    firm = created.get_json()
    assert firm["e_service_agreement"] is True and firm["email"] == "service@haiming.example.cn"
    assert admin.post("/api/v1/law-firms", json=body).status_code == 409
    assert court["scheduler"].post("/api/v1/law-firms", json={**body, "name": "x律所"}).status_code == 403
    case = court.file_case(parties=[{"role": "plaintiff", "name": "王五", "law_firm_id": firm["id"]}])
    assert case["parties"][0]["law_firm"]["name"] == body["name"]


def test_case_list_filters_and_limit(court):
    for _ in range(3):
        court.file_case()
    court.file_case(kind="speedy")
    admin = court["court_admin"]
    assert admin.get("/api/v1/cases?kind=speedy").get_json()["total"] == 1
    page = admin.get("/api/v1/cases?limit=2").get_json()
    assert page["total"] == 4 and len(page["items"]) == 2
    assert "parties" not in page["items"][0]
    assert admin.get("/api/v1/cases?limit=1000").status_code == 200
    assert admin.get("/api/v1/cases?limit=1001").status_code == 422


def test_audit_trail_records_actor_and_change(court):
    case = court.file_case()
    entries = court["court_admin"].get(f"/api/v1/audit/entries?case_id={case['id']}").get_json()["items"]
    filing = next(e for e in entries if e["action"] == "case.file")
    assert filing["actor_id"] == court["intake_clerk"].id
    assert filing["after"]["number"] == case["number"]
    assert court["judge"].get("/api/v1/audit/entries").status_code == 403


def test_times_are_shown_in_court_time_whatever_offset_came_in(court):
    case = court.file_case(filed_at="2027-01-04T01:00:00+00:00")
    assert case["filed_at"] == "2027-01-04T09:00:00+08:00"
    assert datetime.fromisoformat(case["filed_at"]).utcoffset().total_seconds() == 8 * 3600


def test_one_plaintiff_filing_many_cases_at_once_is_one_person(court, app):
    """Real threads, each its own connection: the same new plaintiff in eight filings at once."""
    import threading

    from sqlalchemy import func, select

    from ancillary.cases.models import Person

    barrier = threading.Barrier(8)
    statuses = []
    bodies = [court.case_body(parties=[{"role": "plaintiff", "name": "威海某银行", "id_number": "91371002MA3C12345D"},
                                        {"role": "defendant", "name": f"债务人{i}"}]) for i in range(8)]

    def file(body):
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/cases", json=body,
                               headers={"Authorization": f"Bearer {court['intake_clerk'].token}"})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=file, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 8
    with app.app_context():
        from ancillary.extensions import db

        assert db.session.scalar(select(func.count()).select_from(Person)
                                 .where(Person.id_number == "91371002MA3C12345D")) == 1
        db.session.remove()
