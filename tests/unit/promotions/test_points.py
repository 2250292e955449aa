"""Points at checkout: the 50 % cap over what is left, whole rule units, requested -1, the balance,
the delivery fee in the cap base but never paid by points."""

from __future__ import annotations

import pytest

from o2o.core.loyalty import DeductionRule
from o2o.core.promotions import AmountOff, StackingPolicy, price_order
from tests.unit.promotions.builders import coupon, item, parts, request, total

DEFAULT = StackingPolicy()


def points(balance, requested, *cart, policy=DEFAULT, **kw):
    return price_order(request(*cart, points_balance=balance, points_requested=requested, **kw), policy)


def test_the_cap_is_half_of_what_is_left_after_the_other_stages():
    r = points(100_000, -1, item(1, 1, 10000))
    assert (r.points_used, r.points_fen, total(r)) == (5000, 5000, 5000)
    r = points(100_000, -1, item(1, 1, 10000), coupons=(coupon("c", AmountOff(2000)),))
    assert r.points_fen == 4000 and total(r) == 4000
    assert (
        r.totals.adjustments[-1].kind == "points"
        and r.totals.adjustments[-1].label == "积分抵扣 Points: 4000"
    )


def test_requested_and_balance_limit_the_points():
    assert points(100_000, 300, item(1, 1, 10000)).points_used == 300
    assert points(200, -1, item(1, 1, 10000)).points_used == 200  # balance below the cap
    assert points(200, 5000, item(1, 1, 10000)).points_used == 200  # asked for more than held
    assert points(5000, 0, item(1, 1, 10000)).points_used == 0
    assert points(-50, -1, item(1, 1, 10000)).points_used == 0  # a debt deducts nothing


def test_rule_units_round_down_to_whole_units():
    odd = StackingPolicy(points=DeductionRule(points_per_yuan=150))  # 3 points = 2 fen
    r = points(100, -1, item(1, 1, 10000), policy=odd)
    assert (r.points_used, r.points_fen) == (99, 66)
    whole_yuan = StackingPolicy(points=DeductionRule(step_fen=100))
    r = points(1234, -1, item(1, 1, 10000), policy=whole_yuan)
    assert (r.points_used, r.points_fen) == (1200, 1200)
    floor = StackingPolicy(points=DeductionRule(min_points=500))
    assert points(499, -1, item(1, 1, 10000), policy=floor).points_used == 0


def test_points_are_split_over_lines_by_what_they_pay():
    r = points(100_000, 1000, item(1, 1, 3000), item(2, 1, 1000))
    assert parts(r, "points") == (750, 250)
    assert [row["points"] for row in r.line_breakdown()] == [750, 250]


def test_the_fee_counts_in_the_cap_only_when_configured_and_points_never_pay_it():
    cart = (item(1, 1, 1000),)
    assert points(100_000, -1, *cart, delivery_fee_fen=1000).points_fen == 500
    on_fee = StackingPolicy(points_on_delivery=True)
    assert points(100_000, -1, *cart, delivery_fee_fen=600, policy=on_fee).points_fen == 800  # (1000+600)/2
    everything = StackingPolicy(points_on_delivery=True, points=DeductionRule(max_share_percent=100))
    r = points(100_000, -1, *cart, delivery_fee_fen=1000, policy=everything)
    assert (r.points_fen, total(r)) == (1000, 1000)  # goods fully paid by points; the fee is money
    steps = StackingPolicy(points_on_delivery=True, points=DeductionRule(max_share_percent=100, step_fen=300))
    r = points(100_000, -1, *cart, delivery_fee_fen=1000, policy=steps)
    assert (r.points_used, r.points_fen) == (900, 900)  # whole 3-yuan steps within the ¥10 of goods


def test_points_requested_below_minus_one_is_bad_input():
    with pytest.raises(ValueError, match="points_requested"):
        request(item(), points_requested=-2)
