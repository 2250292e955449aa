"""Expiry policies and the local calendar: exact instants, China time, month-end clamping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.loyalty import CHINA_TZ, DEFAULT_EXPIRY, ExpiryKind, ExpiryPolicy, add_months, local_day_start


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


@pytest.mark.parametrize(
    ("earned", "expires"),
    [
        (cst(2024, 1, 1), cst(2026, 1, 1)),
        (cst(2024, 12, 31, 23, 59, 59), cst(2026, 1, 1)),
        # 2024-12-31 16:30 UTC is already 2025-01-01 00:30 in China: a 2025 point
        (datetime(2024, 12, 31, 16, 30, tzinfo=UTC), cst(2027, 1, 1)),
        (datetime(2024, 12, 31, 15, 59, tzinfo=UTC), cst(2026, 1, 1)),
    ],
)
def test_default_is_the_end_of_the_year_after_the_year_earned_china_time(earned, expires):
    assert DEFAULT_EXPIRY.kind is ExpiryKind.END_OF_NEXT_YEAR
    assert DEFAULT_EXPIRY.expires_at(earned) == expires


def test_end_of_month_and_days_policies():
    assert ExpiryPolicy(ExpiryKind.END_OF_MONTH, 12).expires_at(cst(2024, 3, 15, 10)) == cst(2025, 4, 1)
    assert ExpiryPolicy(ExpiryKind.END_OF_MONTH, 1).expires_at(cst(2024, 12, 31, 23)) == cst(2025, 2, 1)
    assert ExpiryPolicy(ExpiryKind.DAYS, 365).expires_at(cst(2024, 3, 15, 10)) == cst(2025, 3, 16)
    assert ExpiryPolicy(ExpiryKind.DAYS, 1).expires_at(cst(2024, 2, 28, 23, 59)) == cst(2024, 3, 1)
    other = ExpiryPolicy(ExpiryKind.DAYS, 1, tz=UTC)
    # 2024-03-01 07:00 in China is still 29 February in UTC: a retailer's own tz decides the day
    assert other.expires_at(cst(2024, 3, 1, 7)) == datetime(2024, 3, 2, tzinfo=UTC)
    assert ExpiryPolicy(ExpiryKind.DAYS, 1).expires_at(cst(2024, 3, 1, 7)) == cst(2024, 3, 3)


@pytest.mark.parametrize("n", [0, -1, True, 1.5])
def test_rolling_policies_need_a_positive_n(n):
    with pytest.raises(ValueError, match="positive integer"):
        ExpiryPolicy(ExpiryKind.DAYS, n)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        DEFAULT_EXPIRY.expires_at(datetime(2024, 1, 1))


def test_add_months_clamps_to_the_month_end_in_local_time():
    assert add_months(cst(2024, 1, 31, 8), 1) == cst(2024, 2, 29, 8)
    assert add_months(cst(2024, 2, 29), -12) == cst(2023, 2, 28)
    assert add_months(cst(2024, 11, 30), 3) == cst(2025, 2, 28)
    assert add_months(datetime(2024, 1, 31, 20, tzinfo=UTC), 1) == cst(
        2024, 3, 1, 4
    )  # Feb 1 04:00 local + 1 month
    assert local_day_start(datetime(2024, 1, 31, 20, tzinfo=UTC)) == cst(2024, 2, 1)


aware = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(tzinfo=timezone(timedelta(hours=8)))
)
policies = st.one_of(
    st.just(DEFAULT_EXPIRY),
    st.builds(ExpiryPolicy, st.just(ExpiryKind.END_OF_MONTH), st.integers(1, 36)),
    st.builds(ExpiryPolicy, st.just(ExpiryKind.DAYS), st.integers(1, 1000)),
)


@given(aware, aware, policies)
def test_expiry_is_a_later_local_midnight_and_monotone(a, b, policy):
    lo, hi = sorted((a, b))
    exp = policy.expires_at(lo)
    assert exp > lo and exp == local_day_start(exp)
    assert exp <= policy.expires_at(hi)
    if policy.kind is ExpiryKind.END_OF_NEXT_YEAR:
        assert timedelta(days=365) < exp - lo <= timedelta(days=731)
