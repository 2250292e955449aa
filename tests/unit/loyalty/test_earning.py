"""Earning rules (per yuan, per channel, campaign multiplier, actions with daily caps) and deduction."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.loyalty import (
    Action,
    ActionRule,
    Deduction,
    DeductionRule,
    EarnRule,
    earn_for_action,
    earn_for_order,
    max_deductible,
)

RULES = EarnRule(
    default_rate=1,
    channel_rates={"pos": 1, "mini_program": 2, "douyin": Fraction(1, 10)},
    campaign_multipliers={"618": Fraction(3, 2), "double": 2},
    actions={
        Action.REVIEW: ActionRule(10, daily_cap=30),
        Action.SIGN_IN: ActionRule(5, daily_cap=5),
        "share": ActionRule(1),
    },
)


@pytest.mark.parametrize(
    ("paid", "channel", "campaign", "points"),
    [
        (12_999, "pos", None, 129),  # ¥129.99 -> 129, rounded down
        (12_999, "app", None, 129),  # unknown channel: default rate
        (12_999, "mini_program", None, 259),  # 2 per yuan: floor(259.98)
        (12_999, "pos", "618", 194),  # floor(129.99 x 1.5 = 194.985): rounded once, at the end
        (12_999, "douyin", None, 12),  # 1 per 10 yuan
        (99, "pos", "double", 1),  # floor(0.99 x 2 = 1.98)
        (0, "pos", "618", 0),
    ],
)
def test_earn_for_order(paid, channel, campaign, points):
    assert earn_for_order(paid, channel, campaign, RULES) == points


def test_earn_for_order_refuses_unknown_campaigns_and_bad_amounts():
    with pytest.raises(ValueError, match="Unknown points campaign"):
        earn_for_order(100, "pos", "nope", RULES)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="paid_fen"):
            earn_for_order(bad, "pos", None, RULES)


def test_rules_refuse_float_rates():
    with pytest.raises(ValueError, match="float"):
        EarnRule(default_rate=1.5)
    with pytest.raises(ValueError, match="float"):
        EarnRule(campaign_multipliers={"x": 0.1})
    with pytest.raises(ValueError):
        EarnRule(actions={"review": 10})
    with pytest.raises(ValueError):
        ActionRule(-1)


@given(
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.sampled_from(["pos", "mini_program", "douyin", "other"]),
    st.sampled_from([None, "618", "double"]),
)
def test_earning_is_exact_floor_and_monotone(a, b, channel, campaign):
    lo, hi = sorted((a, b))
    rate = RULES.channel_rates.get(channel, RULES.default_rate)
    mult = RULES.campaign_multipliers[campaign] if campaign else 1
    exact = Fraction(lo, 100) * rate * mult
    points = earn_for_order(lo, channel, campaign, RULES)
    assert points <= exact < points + 1
    assert points <= earn_for_order(hi, channel, campaign, RULES)


def test_actions_earn_up_to_the_daily_cap():
    assert earn_for_action(Action.REVIEW, 0, RULES) == 10
    assert earn_for_action(Action.REVIEW, 20, RULES) == 10
    assert earn_for_action(Action.REVIEW, 25, RULES) == 5  # only what is left of the cap
    assert earn_for_action(Action.REVIEW, 30, RULES) == 0
    assert earn_for_action(Action.SIGN_IN, 5, RULES) == 0
    assert earn_for_action("share", 10_000, RULES) == 1  # no cap
    with pytest.raises(ValueError, match="No points rule"):
        earn_for_action("birthday", 0, RULES)
    with pytest.raises(ValueError):
        earn_for_action(Action.REVIEW, -1, RULES)


@pytest.mark.parametrize(
    ("balance", "total", "rule", "expected"),
    [
        (10_000, 20_000, DeductionRule(), (10_000, 10_000)),  # 100 points = ¥1, capped at 50% = ¥100
        (3_000, 20_000, DeductionRule(), (3_000, 3_000)),  # the balance is the limit
        (10_000, 999, DeductionRule(), (499, 499)),  # 50% of 999 fen = 499.5 -> 499
        (10_000, 20_000, DeductionRule(points_per_yuan=10), (1_000, 10_000)),  # 1 point = 10 fen
        (
            10_000,
            20_000,
            DeductionRule(points_per_yuan=150),
            (10_000 // 3 * 3, 10_000 // 3 * 2),
        ),  # 3 points = 2 fen
        (12_345, 20_000, DeductionRule(step_fen=100), (12_300 - 2_300, 10_000)),
        (1_250, 20_000, DeductionRule(step_fen=100), (1_200, 1_200)),  # whole yuan only
        (999, 20_000, DeductionRule(min_points=1_000), (0, 0)),
        (-50, 20_000, DeductionRule(), (0, 0)),  # in debt
        (10_000, 20_000, DeductionRule(max_share_percent=0), (0, 0)),
        (10_000, 5_000, DeductionRule(max_share_percent=100), (5_000, 5_000)),
    ],
)
def test_max_deductible(balance, total, rule, expected):
    assert max_deductible(balance, total, rule) == Deduction(*expected)


@given(
    st.integers(-1_000, 10**7),
    st.integers(0, 10**7),
    st.integers(1, 1_000),
    st.integers(0, 100),
    st.sampled_from([1, 10, 50, 100]),
    st.integers(0, 5_000),
)
def test_deduction_never_exceeds_cap_or_balance_and_is_exact(balance, total, rate, share, step, min_points):
    rule = DeductionRule(points_per_yuan=rate, max_share_percent=share, step_fen=step, min_points=min_points)
    points, fen = max_deductible(balance, total, rule)
    cap = total * share // 100
    assert 0 <= points <= max(balance, 0) and 0 <= fen <= cap <= total
    assert fen * rate == points * 100  # exact: no fen rounded into existence
    assert fen % step == 0
    if balance < min_points:
        assert (points, fen) == (0, 0)
    elif balance > 0:  # maximal: one more unit breaks the balance or the cap
        unit_points, unit_fen = rule.unit
        assert points + unit_points > balance or fen + unit_fen > cap


@pytest.mark.parametrize(
    "kwargs",
    [
        {"points_per_yuan": 0},
        {"max_share_percent": 101},
        {"step_fen": 0},
        {"min_points": -1},
        {"points_per_yuan": 1.0},
    ],
)
def test_deduction_rule_validates(kwargs):
    with pytest.raises(ValueError):
        DeductionRule(**kwargs)
    with pytest.raises(ValueError):
        max_deductible(100, -1, DeductionRule())
