"""A hearing as the API answers it, written out by hand.

``HearingSchema`` documents the shape; every answer (a booking, one hearing, a listing) is
built here directly: marshmallow's walk over nested schemas cost more than the rest of a
booking's answer, and 7-9 ms of the server's CPU in a week's listing of 200 hearings.
``tests/scheduling/test_hearing_answer.py`` holds the two to the same output, field for field.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo


def _text(value) -> str | None:
    return None if value is None else str(value)


def _local(value, tz: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat()


def hearing(h, tz: ZoneInfo, *, with_names: bool) -> dict:
    """``HearingSchema().dump(h)`` (``with_names``) or with ``case.parties`` excluded; ``h.overlap`` set."""
    case, room = h.case, h.courtroom
    shown_case = {"number": case.number, "kind": _text(case.kind), "track": _text(case.track), "venue": case.venue,
                  "mediation_likely": None if case.mediation_likely is None else bool(case.mediation_likely)}
    if with_names:
        shown_case["parties"] = [{"role": _text(p.role), "name": p.name} for p in case.parties]
    return {
        "id": h.id, "case_id": h.case_id, "courtroom_id": h.courtroom_id, "judge_id": h.judge_id,
        "starts_at": _local(h.starts_at, tz), "ends_at": _local(h.ends_at, tz),
        "overlap": None if h.overlap is None else bool(h.overlap), "status": _text(h.status), "lane": h.lane,
        "sequence": h.sequence, "courtroom_name": room.name, "judge_name": h.judge.display_name,
        "venue": room.venue, "case": shown_case, "created_at": _local(h.created_at, tz),
        "updated_at": _local(h.updated_at, tz), "cancel_reason": h.cancel_reason,
    }
