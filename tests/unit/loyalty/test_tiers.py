"""Tiers: exact thresholds, upgrade at once, downgrade only at review, one step, protected a year."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.loyalty import (
    CHINA_TZ,
    DEFAULT_TIER_POLICY,
    TIER_ORDER,
    Basis,
    Benefits,
    ChangeReason,
    Tier,
    TierChange,
    TierMetrics,
    TierPolicy,
    monthly_review,
    protected_until,
    spend_12m,
    tier_after_order,
)

P = DEFAULT_TIER_POLICY
US = timedelta(microseconds=1)


def cst(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def spent(fen: int) -> TierMetrics:
    return TierMetrics(spend_12m_fen=fen)


def test_labels_and_order():
    assert [t.label for t in TIER_ORDER] == ["普通会员", "白银会员", "黄金会员", "钻石会员"]
    assert [t.rank for t in TIER_ORDER] == [0, 1, 2, 3]
    assert Tier("gold") is Tier.GOLD


@pytest.mark.parametrize(
    ("fen", "tier"),
    [
        (0, Tier.NORMAL),
        (99_999, Tier.NORMAL),
        (100_000, Tier.SILVER),  # ¥1,000.00 reaches ¥1,000.00
        (499_999, Tier.SILVER),  # ¥4,999.99 does not reach ¥5,000.00
        (500_000, Tier.GOLD),
        (1_999_999, Tier.GOLD),
        (2_000_000, Tier.DIAMOND),
        (10**9, Tier.DIAMOND),
    ],
)
def test_thresholds_are_exact_at_the_boundary(fen, tier):
    assert P.qualified(spent(fen)) is tier


def test_growth_basis_uses_growth_only():
    policy = TierPolicy(
        thresholds={Tier.NORMAL: 0, Tier.SILVER: 100, Tier.GOLD: 1_000, Tier.DIAMOND: 5_000},
        benefits=P.benefits,
        basis=Basis.GROWTH,
    )
    assert policy.qualified(TierMetrics(growth=1_000, spend_12m_fen=0)) is Tier.GOLD
    assert policy.qualified(TierMetrics(growth=99, spend_12m_fen=10**9)) is Tier.NORMAL


def test_upgrade_is_immediate_and_may_skip_tiers():
    now = cst(2024, 5, 1, 15)
    change = tier_after_order(Tier.NORMAL, None, spent(2_000_000), P, now)
    assert change == TierChange(Tier.NORMAL, Tier.DIAMOND, ChangeReason.UPGRADE, now, change.note)
    assert change.achieved_at == now
    assert "钻石会员" in change.note and "¥20000.00" in change.note
    assert tier_after_order(Tier.SILVER, None, spent(100_000), P, now) is None


def test_an_order_never_downgrades():
    assert tier_after_order(Tier.GOLD, None, spent(0), P, cst(2030, 1, 1)) is None


def test_downgrade_waits_for_protection_to_end_then_goes_one_tier_per_review():
    upgraded = cst(2024, 3, 15, 10)
    until = protected_until(upgraded, P)
    assert until == cst(2025, 3, 15, 10)
    assert monthly_review(Tier.DIAMOND, upgraded, spent(0), P, until - US) is None
    first = monthly_review(Tier.DIAMOND, upgraded, spent(0), P, until)
    assert (first.from_tier, first.to_tier, first.reason) == (Tier.DIAMOND, Tier.GOLD, ChangeReason.DOWNGRADE)
    assert first.achieved_at is None  # a tier reached by a downgrade is not protected
    second = monthly_review(first.to_tier, first.achieved_at, spent(0), P, cst(2025, 4, 1))
    assert second.to_tier is Tier.SILVER
    third = monthly_review(second.to_tier, second.achieved_at, spent(150_000), P, cst(2025, 5, 1))
    assert third is None  # qualifies for silver: stays


def test_review_downgrades_unprotected_members_and_upgrades_late_qualifiers():
    now = cst(2024, 6, 1)
    down = monthly_review(Tier.GOLD, None, spent(100_000), P, now)
    assert (down.to_tier, down.reason) == (Tier.SILVER, ChangeReason.DOWNGRADE)
    assert "白银会员" in down.note
    up = monthly_review(Tier.SILVER, None, spent(600_000), P, now)
    assert (up.to_tier, up.reason, up.achieved_at) == (Tier.GOLD, ChangeReason.UPGRADE, now)
    assert monthly_review(Tier.GOLD, None, spent(500_000), P, now) is None


def test_no_protection_when_the_policy_sets_zero_months():
    policy = TierPolicy(P.thresholds, P.benefits, protection_months=0)
    change = monthly_review(Tier.GOLD, cst(2024, 6, 1), spent(0), policy, cst(2024, 6, 1))
    assert change.to_tier is Tier.SILVER


def test_spend_12m_window_and_refunds():
    now = cst(2025, 3, 31, 12)
    start = cst(2024, 3, 31, 12)
    orders = [
        (start, 1_000, 0),  # exactly 12 months ago: out
        (start + US, 2_000, 0),  # in
        (cst(2024, 12, 1), 50_000, 20_000),  # refunds reduce spend
        (cst(2025, 1, 1), 10_000, 10_000),  # fully refunded
        (now, 300, 0),  # in
        (now + US, 7_000, 0),  # not yet
    ]
    assert spend_12m(orders, now) == 2_000 + 30_000 + 300
    assert spend_12m([(cst(2023, 2, 28, 9), 500, 0)], cst(2024, 2, 29, 9)) == 0  # Feb 29 - 12 months = Feb 28


def test_a_refund_lowers_the_tier_only_at_the_review():
    paid = cst(2024, 1, 10)
    change = tier_after_order(Tier.NORMAL, None, spent(spend_12m([(paid, 500_000, 0)], paid)), P, paid)
    assert change.to_tier is Tier.GOLD
    later = cst(2024, 1, 20)
    after_refund = spent(spend_12m([(paid, 500_000, 1)], later))
    assert tier_after_order(Tier.GOLD, change.achieved_at, after_refund, P, later) is None
    assert (
        monthly_review(Tier.GOLD, change.achieved_at, after_refund, P, cst(2024, 2, 1)) is None
    )  # protected
    assert (
        monthly_review(Tier.GOLD, change.achieved_at, after_refund, P, cst(2025, 2, 1)).to_tier is Tier.SILVER
    )


@pytest.mark.parametrize(
    "orders",
    [
        [(cst(2024, 1, 1), 100, 101)],
        [(cst(2024, 1, 1), -1, 0)],
        [(cst(2024, 1, 1), 1.5, 0)],
        [(datetime(2024, 1, 1), 1, 0)],
    ],
)
def test_spend_12m_refuses_bad_orders(orders):
    with pytest.raises(ValueError):
        spend_12m(orders, cst(2024, 6, 1))


@pytest.mark.parametrize(
    "thresholds",
    [
        {Tier.NORMAL: 0, Tier.SILVER: 100, Tier.GOLD: 100, Tier.DIAMOND: 200},  # not strictly increasing
        {Tier.NORMAL: 1, Tier.SILVER: 100, Tier.GOLD: 200, Tier.DIAMOND: 300},  # normal must be 0
        {Tier.NORMAL: 0, Tier.SILVER: 100, Tier.GOLD: 200},  # missing diamond
        {Tier.NORMAL: 0, Tier.SILVER: 100, Tier.GOLD: 20.5, Tier.DIAMOND: 300},
    ],
)
def test_policy_validates_thresholds(thresholds):
    with pytest.raises(ValueError):
        TierPolicy(thresholds, P.benefits)


def test_policy_validates_benefits():
    with pytest.raises(ValueError):
        Benefits(discount_percent=101)
    with pytest.raises(ValueError):
        TierPolicy(P.thresholds, {**P.benefits, Tier.GOLD: 5})
    with pytest.raises(ValueError):
        TierPolicy(P.thresholds, P.benefits, protection_months=-1)
    assert P.benefits[Tier.DIAMOND].dedicated_service and not P.benefits[Tier.NORMAL].free_delivery


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        monthly_review(Tier.GOLD, None, spent(0), P, datetime(2024, 1, 1))


@given(st.integers(0, 5_000_000), st.integers(0, 5_000_000))
def test_tier_is_monotone_in_spend_for_a_fresh_member(a, b):
    lo, hi = sorted((a, b))
    now = cst(2024, 6, 1)

    def tier(fen: int) -> Tier:
        change = tier_after_order(Tier.NORMAL, None, spent(fen), P, now)
        return Tier.NORMAL if change is None else change.to_tier

    assert tier(lo).rank <= tier(hi).rank
    assert all((lo >= P.thresholds[t]) == (tier(lo).rank >= t.rank) for t in TIER_ORDER)


@given(
    st.sampled_from(TIER_ORDER),
    st.one_of(st.none(), st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2025, 12, 31))),
    st.integers(0, 5_000_000),
)
def test_review_moves_down_at_most_one_tier_never_below_qualified_never_while_protected(
    current, achieved, fen
):
    achieved = achieved.replace(tzinfo=CHINA_TZ) if achieved else None
    now = cst(2025, 1, 1)
    change = monthly_review(current, achieved, spent(fen), P, now)
    qualified = P.qualified(spent(fen))
    if change is None:
        assert qualified.rank <= current.rank
        if qualified.rank < current.rank:
            assert achieved is not None and now < protected_until(achieved, P)
    elif change.reason is ChangeReason.UPGRADE:
        assert change.to_tier is qualified and qualified.rank > current.rank
    else:
        assert change.to_tier.rank == current.rank - 1 >= qualified.rank
        assert achieved is None or now >= protected_until(achieved, P)
