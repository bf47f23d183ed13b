"""Examples of the scheduling API's answers, for the OpenAPI document."""

HEARING_EXAMPLE = {
    "id": 7, "case_id": 42, "courtroom_id": 3, "judge_id": 12, "starts_at": "2027-01-07T09:00:00+08:00",
    "ends_at": "2027-01-07T10:00:00+08:00", "overlap": False, "status": "booked", "lane": 0, "sequence": 0,
    "courtroom_name": "第一法庭", "venue": "main",
    "case": {"number": "(2027)鲁1002民初123号", "kind": "summary", "track": None, "venue": "main",
             "mediation_likely": False, "parties": [{"role": "plaintiff", "name": "张三"}]},
}

BLOCKING_EXAMPLE = {"id": 2, "courtroom_id": 3, "user_id": None, "starts_at": "2027-01-06T08:30:00+08:00",
                    "ends_at": "2027-01-06T17:30:00+08:00", "reason": "音视频设备维修"}

COURT_DAY_EXAMPLE = {"day": "2027-02-20", "is_working": True, "name": "春节调休上班", "source": "admin"}

COURTROOM_EXAMPLE = {"id": 1, "name": "第一法庭", "venue": "main", "opens": "08:30", "closes": "17:30", "capacity": 30,
                     "has_video": True, "lunch_starts": "12:00", "lunch_ends": "13:30", "is_active": True,
                     "created_at": "2027-01-04T09:30:00+08:00"}
