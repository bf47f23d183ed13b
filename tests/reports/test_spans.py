"""A period and its weeks: each instant is filed under the period and the one week it falls in."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ancillary.spans import Spans

TZ = ZoneInfo("Asia/Shanghai")


def test_an_instant_falls_in_the_period_and_its_week_by_local_dates():
    spans = Spans.of_days([(date(2027, 1, 1), date(2027, 1, 17)), (date(2027, 1, 1), date(2027, 1, 3)),
                           (date(2027, 1, 4), date(2027, 1, 10)), (date(2027, 1, 11), date(2027, 1, 17))], TZ)
    assert spans.at(datetime(2027, 1, 3, 23, 59, tzinfo=TZ)) == [0, 1]
    assert spans.at(datetime(2027, 1, 3, 16, 0, tzinfo=UTC)) == [0, 2]  # Monday 00:00 in Shanghai
    assert spans.at(datetime(2027, 1, 17, 15, 59, tzinfo=UTC)) == [0, 3]
    assert spans.at(datetime(2027, 1, 17, 16, 0, tzinfo=UTC)) == []
    assert spans.at(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == []
    rows = [datetime(2027, 1, d, 12, tzinfo=TZ) for d in (2, 5, 6, 12)]
    assert [len(part) for part in spans.split(rows, lambda at: at)] == [4, 1, 2, 1]


def test_parts_must_not_overlap():
    with pytest.raises(ValueError):
        Spans.of_days([(date(2027, 1, 1), date(2027, 1, 17)), (date(2027, 1, 1), date(2027, 1, 5)),
                       (date(2027, 1, 4), date(2027, 1, 10))], TZ)
