"""The clock rules of sending: China day, quiet hours (across midnight or not), the next window, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.notifications.rules import CHINA, backoff, china_day, in_quiet, next_day_start, parse_hhmm, quiet_end

NIGHT = (time(21), time(9))


def at(h: int, m: int = 0, day: int = 15) -> datetime:
    return datetime(2024, 3, day, h, m, tzinfo=CHINA)


@pytest.mark.parametrize(("moment", "quiet"), [
    (at(20, 59), False), (at(21), True), (at(23, 30), True), (at(0, 5), True), (at(8, 59), True), (at(9), False),
    (at(12), False)])
def test_the_default_window_spans_midnight(moment, quiet):
    assert in_quiet(moment, *NIGHT) is quiet
    assert in_quiet(moment.astimezone(UTC), *NIGHT) is quiet  # China time, whatever zone the datetime is in


def test_quiet_end_is_the_next_nine_oclock_china_time():
    assert quiet_end(at(22), *NIGHT) == at(9, day=16)
    assert quiet_end(at(3), *NIGHT) == at(9)
    assert quiet_end(at(14), *NIGHT) == at(14)  # not quiet: now
    assert quiet_end(datetime(2024, 3, 15, 14, 0, tzinfo=UTC), *NIGHT) == at(9, day=16)  # 22:00 in China


def test_a_daytime_window_and_no_window():
    lunch = (time(12), time(14))
    assert in_quiet(at(13), *lunch) and not in_quiet(at(14), *lunch) and not in_quiet(at(11, 59), *lunch)
    assert quiet_end(at(12, 30), *lunch) == at(14)
    assert not in_quiet(at(3), time(9), time(9))
    assert next_day_start(at(15), *lunch) == at(0, day=16)


def test_next_day_start_skips_the_night():
    assert next_day_start(at(10), *NIGHT) == at(9, day=16)
    assert next_day_start(at(20, 59), *NIGHT) == at(9, day=16)


def test_china_day_and_parse():
    assert china_day(datetime(2024, 3, 15, 17, 0, tzinfo=UTC)) == at(1, day=16).date()
    assert parse_hhmm("09:30") == time(9, 30)
    for bad in ("9:30", "25:00", "0930", None):
        with pytest.raises(ValueError):
            parse_hhmm(bad)  # type: ignore[arg-type]


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (2, 4, 8, 16)]
    assert backoff(10) == timedelta(hours=1)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
       st.integers(0, 23), st.integers(0, 23))
def test_quiet_end_is_never_quiet_and_never_before(naive, start_h, end_h):
    moment = naive.replace(tzinfo=CHINA)
    start, end = time(start_h), time(end_h)
    done = quiet_end(moment, start, end)
    assert done >= moment and not in_quiet(done, start, end)
    assert done - moment <= timedelta(days=1)
    assert not in_quiet(next_day_start(moment, start, end), start, end)
