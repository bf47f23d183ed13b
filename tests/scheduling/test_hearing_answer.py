"""A booking's answer is built by hand (``scheduling.answers``): the documented schema's output, field for field."""

from __future__ import annotations

from sqlalchemy import select

from ancillary.cases.models import CaseTrack
from ancillary.scheduling import answers
from ancillary.scheduling.models import Hearing
from ancillary.scheduling.schemas import HearingSchema


def test_the_hand_built_answer_is_the_schemas_dump(app, sched):
    booked = sched.book(sched.file()).get_json()
    tribunal = sched.book(sched.file(venue=sched.tribunal), room=sched.tribunal_room,
                          starts="2027-01-08T09:00:00+08:00", ends="2027-01-08T09:30:00+08:00").get_json()
    assert set(booked) == set(HearingSchema().fields)  # the answer the API gave carries every documented field

    def compare(session):
        tz = app.config["SETTINGS"].timezone
        hearings = session.scalars(select(Hearing).order_by(Hearing.id)).all()
        assert [h.id for h in hearings] == [booked["id"], tribunal["id"]]
        for h, overlap in zip(hearings, (False, True), strict=True):
            h.overlap = overlap
            assert answers.hearing(h, tz, with_names=True) == HearingSchema().dump(h)
            assert answers.hearing(h, tz, with_names=False) == HearingSchema(exclude=("case.parties",)).dump(h)
        hearings[0].cancel_reason, hearings[0].case.track = "当事人申请延期", CaseTrack.simple
        assert answers.hearing(hearings[0], tz, with_names=True) == HearingSchema().dump(hearings[0])

    sched.session_do(compare)
    assert booked["overlap"] is False and booked["status"] == "booked" and tribunal["venue"] == sched.tribunal
    assert [p["name"] for p in booked["case"]["parties"]] == ["张三", "李四"]
