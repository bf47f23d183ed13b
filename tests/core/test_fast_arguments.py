"""The hand checks of a scan's and a booking's body load exactly what their schemas load, or
step aside: any body they do not accept is left to the schema, so its error answer is the same."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from ancillary.custody.schemas import ScanArgsSchema, scan_args
from ancillary.scheduling.schemas import HearingArgsSchema, hearing_args

TOKEN = "ANC1.K2.DS0000123-01.ABCDEFGHIJKLMNOPQRSTUVWX"
SCAN = {"code": TOKEN, "action": "receive", "location": "审判组 3楼", "client_scan_id": "scan-000001"}
BOOKING = {"case_id": 42, "courtroom_id": 3, "starts_at": "2027-01-07T09:00:00+08:00",
           "ends_at": "2027-01-07T10:00:00+08:00"}

PLAIN_SCANS = [
    SCAN,
    {"code": TOKEN, "action": "store", "location": "档案室 A-3"},
    {"code": TOKEN, "action": "receive", "location": None, "client_scan_id": None, "scanned_at": None},
    {"code": "DS0000123-01", "action": "receive", "typed": True},
    {"code": TOKEN + "\r\n", "action": "receive", "typed": False},
    {"code": "x" * 4096, "action": "store", "location": "l" * 100, "client_scan_id": "c" * 64},
]
IRREGULAR_SCANS = [  # each left to the schema (an error, or a value it converts)
    {}, {"action": "receive"}, {"code": TOKEN}, {**SCAN, "extra": 1}, {**SCAN, "code": ""},
    {**SCAN, "code": "x" * 4097}, {**SCAN, "code": 5}, {**SCAN, "action": "steal"}, {**SCAN, "action": None},
    {**SCAN, "location": ""}, {**SCAN, "location": "l" * 101}, {**SCAN, "client_scan_id": ""},
    {**SCAN, "client_scan_id": "c" * 65}, {**SCAN, "client_scan_id": 7}, {**SCAN, "typed": "true"},
    {**SCAN, "typed": 1}, {**SCAN, "typed": None}, {**SCAN, "scanned_at": "2027-01-04T09:00:00+08:00"},
    {**SCAN, "scanned_at": "yesterday"}, {**SCAN, "code": None}, [SCAN], None, "scan",
]
PLAIN_BOOKINGS = [
    BOOKING,
    {**BOOKING, "starts_at": "2027-01-07T01:00:00Z", "ends_at": "2027-01-07T01:10:00Z"},
    {**BOOKING, "starts_at": "2027-01-07T09:00:00.250+08:00", "ends_at": "2027-01-07T17:00:00.250+08:00"},
    {**BOOKING, "case_id": 2**31 - 1, "courtroom_id": 1},
]
IRREGULAR_BOOKINGS = [
    {}, {**BOOKING, "extra": None}, {k: v for k, v in BOOKING.items() if k != "ends_at"},
    {**BOOKING, "case_id": 0}, {**BOOKING, "case_id": 2**31}, {**BOOKING, "case_id": True},
    {**BOOKING, "case_id": "42"}, {**BOOKING, "case_id": 4.2}, {**BOOKING, "courtroom_id": None},
    {**BOOKING, "starts_at": "2027-01-07T09:00:00"}, {**BOOKING, "starts_at": "2027-01-07 09:00"},
    {**BOOKING, "starts_at": "tomorrow"}, {**BOOKING, "starts_at": 20270107},
    {**BOOKING, "starts_at": "1999-01-07T09:00:00+08:00", "ends_at": "1999-01-07T10:00:00+08:00"},
    {**BOOKING, "ends_at": "2027-01-07T09:00:00+08:00"}, {**BOOKING, "ends_at": "2027-01-07T08:00:00+08:00"},
    {**BOOKING, "ends_at": "2027-01-07T09:05:00+08:00"}, {**BOOKING, "ends_at": "2027-01-07T17:01:00+08:00"},
    [BOOKING], None,
]


def _loaded_or_refused(schema, body):
    try:
        return schema.load(body)
    except ValidationError:
        return "refused"


@pytest.mark.parametrize("body", PLAIN_SCANS)
def test_a_plain_scan_is_loaded_by_hand_as_the_schema_loads_it(body):
    assert scan_args(body) is not None
    assert scan_args(body) == ScanArgsSchema().load(body)


@pytest.mark.parametrize("body", IRREGULAR_SCANS)
def test_an_irregular_scan_is_left_to_the_schema(body):
    assert scan_args(body) is None


@pytest.mark.parametrize("body", PLAIN_BOOKINGS)
def test_a_plain_booking_is_loaded_by_hand_as_the_schema_loads_it(body):
    assert hearing_args(body) is not None
    assert hearing_args(body) == HearingArgsSchema().load(body)


@pytest.mark.parametrize("body", IRREGULAR_BOOKINGS)
def test_an_irregular_booking_is_left_to_the_schema(body):
    assert hearing_args(body) is None


JSON_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**32), st.floats(allow_nan=False), st.text(max_size=8),
    st.sampled_from(["receive", "store", "steal", "", TOKEN, "DS0000123-01", "2027-01-07T09:00:00+08:00",
                     "2027-01-07T09:30:00+08:00", "2027-01-07T16:00:00Z", "2027-01-07T09:00:00", "1999-01-07T09:00Z",
                     "2027-01-07T09:00:00+08:00\n", "2027-01-07"]),
    st.lists(st.integers(), max_size=2),
)
SCAN_KEYS = st.sampled_from([*ScanArgsSchema().fields, "image", "Code"])
BOOKING_KEYS = st.sampled_from([*HearingArgsSchema().fields, "judge_id"])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({"code": st.sampled_from([TOKEN, "", 7]), "action": st.sampled_from(["receive", "x"])},
                             optional={}).flatmap(
    lambda base: st.dictionaries(SCAN_KEYS, JSON_VALUES, max_size=6).map(lambda extra: {**base, **extra})))
def test_whatever_scan_the_hand_check_accepts_the_schema_loads_the_same(body):
    fast = scan_args(body)
    assert fast is None or fast == _loaded_or_refused(ScanArgsSchema(), body)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(BOOKING_KEYS, JSON_VALUES, max_size=5).map(lambda extra: {**BOOKING, **extra}))
def test_whatever_booking_the_hand_check_accepts_the_schema_loads_the_same(body):
    fast = hearing_args(body)
    assert fast is None or fast == _loaded_or_refused(HearingArgsSchema(), body)
