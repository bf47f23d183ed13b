"""Error texts name the person, or say what to do; never an internal id (issue 10's insider review)."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

CATALOGUE = Path(__file__).resolve().parents[2] / "ancillary" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
ID_FIELD = re.compile(r"\{(\w+_)?ids?\}")  # {id}, {user_id}, {officer_ids}; not {sid}, Twilio's own message id
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_no_message_of_the_catalogue_interpolates_an_internal_id():
    with open(CATALOGUE, "rb") as source:
        catalogue = read_po(source, locale="zh")
    naming_ids = sorted(m.id for m in catalogue if m.id and ID_FIELD.search(str(m.id)))
    assert naming_ids == []


def test_a_case_filed_for_someone_who_is_no_judge_names_them(court):
    clerk = court.make_actor("scheduler", display_name="周排期")
    refused = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(judge_id=clerk.id))
    body = refused.get_json()
    assert refused.status_code == 422 and body["field"] == "judge_id"
    assert "周排期" in body["message"] and "法官" in body["message"] and str(clerk.id) not in body["message"]
    english = court["intake_clerk"].post("/api/v1/cases", json=court.case_body(judge_id=clerk.id),
                                         headers={"Accept-Language": "en"}).get_json()
    assert english["message"] == "周排期 is not an active judge"


def test_a_follow_up_post_for_the_wrong_people_names_them(court):
    judge = court.make_actor("judge", display_name="王法官")
    follow = court.make_actor("follow_up", display_name="李跟进")
    officers = [court.make_actor("judge").id for _ in range(3)]
    manager = court["contractor_manager"]
    refused = manager.post("/api/v1/follow-up-posts", json={"user_id": judge.id, "officer_ids": officers}).get_json()
    assert "王法官" in refused["message"] and CJK.search(refused["message"]) and str(judge.id) not in refused["message"]
    clerk = court.make_actor("file_clerk", display_name="赵档案")
    refused = manager.post("/api/v1/follow-up-posts",
                           json={"user_id": follow.id, "officer_ids": [*officers[:2], clerk.id]}).get_json()
    assert refused["field"] == "officer_ids.2" and "赵档案" in refused["message"]
    assert manager.post("/api/v1/follow-up-posts", json={"user_id": follow.id, "officer_ids": officers}
                        ).status_code == 201
    again = manager.post("/api/v1/follow-up-posts", json={"user_id": follow.id, "officer_ids": officers})
    assert again.status_code == 409 and "李跟进" in again.get_json()["message"]


def test_something_that_does_not_exist_says_what_to_do_not_its_id(court):
    for path in ("/api/v1/cases/987654", "/api/v1/tasks/987654", "/api/v1/hearings/987654"):
        body = court["court_admin"].get(path).get_json()
        assert body["code"] == 404 and "987654" not in body["message"] and CJK.search(body["message"]), body
