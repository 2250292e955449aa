"""Stacking is configuration: stage order, "all" vs "best", exclusive promotions, coupons on promoted
lines, the tier on promoted lines, max coupons, one coupon per template."""

from __future__ import annotations

import pytest

from o2o.core.loyalty import DeductionRule
from o2o.core.promotions import (
    AmountOff,
    FreeGift,
    PercentOff,
    Scope,
    StackingPolicy,
    TierDiscount,
    price_order,
)
from o2o.core.promotions.stages import COUPONS_OFF, DUPLICATE, ONLY_PROMOTED, SAME_TEMPLATE, too_many
from tests.unit.promotions.builders import coupon, item, parts, promo, request, total

GOLD10 = TierDiscount("gold", "金卡9折 Gold 10% off", 10)


def test_stage_order_changes_the_result_as_configured():
    req = request(item(1, 1, 6000), item(2, 1, 4000), tier=GOLD10, coupons=(coupon("c", AmountOff(1000)),))
    assert total(price_order(req)) == 8000  # 10000 x 0.9 - 1000
    assert total(price_order(req, StackingPolicy(stages=("coupon", "tier")))) == 8100  # (10000 - 1000) x 0.9
    kinds = [a.kind for a in price_order(req, StackingPolicy(stages=("coupon", "tier"))).totals.adjustments]
    assert kinds == ["coupon:c", "tier"]


def test_a_stage_left_out_does_not_run_and_coupons_are_then_rejected():
    req = request(item(1, 1, 10000), tier=GOLD10, coupons=(coupon("c", AmountOff(1000)),), points_balance=999)
    r = price_order(req, StackingPolicy(stages=("promotion",)))
    assert total(r) == 10000 and r.rejected_coupons == (("c", COUPONS_OFF),) and r.points_used == 0


def test_tier_label_default_and_free_delivery():
    r = price_order(request(item(1, 1, 10000), tier=TierDiscount("silver", percent=5)))
    assert r.totals.adjustments[0].label == "会员95折 Member 5% off" and total(r) == 9500
    r = price_order(request(item(1, 1, 10000), tier=GOLD10, delivery_fee_fen=600))
    assert r.totals.adjustments[0].label == GOLD10.label and total(r) == 9000 + 600
    free = TierDiscount("gold", "金卡 Gold", 0, free_delivery=True)
    r = price_order(request(item(1, 1, 10000), tier=free, delivery_fee_fen=600))
    assert r.free_delivery and total(r) == 10000 and r.totals.adjustments == ()


def test_all_promotions_by_priority_versus_only_the_best():
    cart = (item(1, 1, 10000),)
    promos = (promo("amount", AmountOff(1000), priority=1), promo("pct", PercentOff(20)))
    every = price_order(request(*cart, promotions=promos))
    assert every.applied_promotions == ("amount", "pct") and total(every) == 7200  # 9000 x 0.8
    best = price_order(request(*cart, promotions=promos), StackingPolicy(promotions="best"))
    assert best.applied_promotions == ("pct",) and total(best) == 8000


def test_best_ties_go_to_priority_then_id_and_a_gift_only_when_nothing_gives_money():
    cart = (item(1, 1, 10000),)
    best = StackingPolicy(promotions="best")
    same = (promo("b", AmountOff(1000)), promo("a", AmountOff(1000)))
    assert price_order(request(*cart, promotions=same), best).applied_promotions == ("a",)
    ranked = (promo("b", AmountOff(1000), priority=2), promo("a", AmountOff(1000)))
    assert price_order(request(*cart, promotions=ranked), best).applied_promotions == ("b",)
    gift = promo("gift", FreeGift(9), priority=9)
    assert price_order(
        request(*cart, promotions=(gift, promo("m", AmountOff(1)))), best
    ).applied_promotions == ("m",)
    only_gift = price_order(request(*cart, promotions=(gift,)), best)
    assert only_gift.applied_promotions == ("gift",) and only_gift.gifts[0].source == "gift"


def test_priority_decides_which_threshold_is_reached():
    cart = (item(1, 1, 10000),)
    first = promo("first", AmountOff(1000), priority=1)
    needs_100 = promo("needs", AmountOff(500, 10000))
    assert price_order(request(*cart, promotions=(first, needs_100))).applied_promotions == ("first",)
    needs_first = promo("needs", AmountOff(500, 10000), priority=2)
    r = price_order(request(*cart, promotions=(first, needs_first)))
    assert r.applied_promotions == ("needs", "first") and total(r) == 8500


def test_an_exclusive_promotion_keeps_its_lines_to_itself():
    cart = (item(1, 1, 10000), item(2, 1, 10000))
    excl = promo("excl", PercentOff(10), Scope(sku_ids={1}), priority=5, exclusive=True)
    other = promo("other", AmountOff(1000))
    r = price_order(request(*cart, promotions=(excl, other)))
    assert parts(r, "promotion:excl") == (1000, 0) and parts(r, "promotion:other") == (0, 1000)
    # lower priority: the non-exclusive one discounted both lines first, so the exclusive one finds none
    late = promo("excl", PercentOff(10), Scope(sku_ids={1}), priority=-1, exclusive=True)
    r = price_order(request(*cart, promotions=(late, other)))
    assert r.applied_promotions == ("other",) and parts(r, "promotion:other") == (500, 500)


def test_coupon_on_promoted_lines_false_skips_those_lines():
    cart = (item(1, 1, 5000), item(2, 1, 5000))
    promos = (promo("p", AmountOff(1000), Scope(sku_ids={1})),)
    c = coupon("c", AmountOff(600))
    on = price_order(request(*cart, promotions=promos, coupons=(c,)))
    assert parts(on, "coupon:c") == (267, 333)  # by payable 4000 : 5000, largest remainder
    off = StackingPolicy(coupon_on_promoted_lines=False)
    r = price_order(request(*cart, promotions=promos, coupons=(c,)), off)
    assert parts(r, "coupon:c") == (0, 600)
    only = coupon("only", AmountOff(600), Scope(sku_ids={1}))
    r = price_order(request(*cart, promotions=promos, coupons=(only,)), off)
    assert r.rejected_coupons == (("only", ONLY_PROMOTED),)
    # a coupon threshold counts only the lines it may use
    needs = coupon("needs", AmountOff(100, 6000))
    assert (
        price_order(request(*cart, promotions=promos, coupons=(needs,)), off).rejected_coupons[0][0]
        == "needs"
    )


def test_tier_on_promoted_lines_false_needs_promotion_first():
    cart = (item(1, 1, 5000), item(2, 1, 5000))
    promos = (promo("p", AmountOff(1000), Scope(sku_ids={1})),)
    first = StackingPolicy(stages=("promotion", "tier"), tier_on_promoted_lines=False)
    r = price_order(request(*cart, promotions=promos, tier=GOLD10), first)
    assert parts(r, "tier") == (0, 500)
    after = StackingPolicy(stages=("tier", "promotion"), tier_on_promoted_lines=False)
    r = price_order(request(*cart, promotions=promos, tier=GOLD10), after)
    assert parts(r, "tier") == (500, 500)


def test_coupon_threshold_counts_what_promotions_left():
    req = request(
        item(1, 1, 11000),
        promotions=(promo("p", PercentOff(20)),),
        coupons=(coupon("c", AmountOff(1000, 10000)),),
    )
    r = price_order(req)
    assert r.applied_coupons == () and "¥88.00" in r.rejected_coupons[0][1]


def test_max_coupons_and_the_same_template_twice():
    cart = (item(1, 1, 10000),)
    a, b = coupon("a", AmountOff(100)), coupon("b", AmountOff(200))
    r = price_order(request(*cart, coupons=(a, b)))
    assert r.applied_coupons == ("a",) and r.rejected_coupons == (("b", too_many(1)),)
    assert "At most 1 coupon(s) per order" in too_many(1)
    assert price_order(request(*cart, coupons=(a, b)), StackingPolicy(max_coupons=2)).applied_coupons == (
        "a",
        "b",
    )
    none = price_order(request(*cart, coupons=(a,)), StackingPolicy(max_coupons=0))
    assert none.rejected_coupons == (("a", too_many(0)),)
    t1, t2 = coupon("t1", AmountOff(100), template="tpl"), coupon("t2", AmountOff(100), template="tpl")
    r = price_order(request(*cart, coupons=(t1, t2)), StackingPolicy(max_coupons=3))
    assert r.applied_coupons == ("t1",) and r.rejected_coupons == (("t2", SAME_TEMPLATE),)
    # the first of the template was rejected (out of scope): the second may apply
    t0 = coupon("t0", AmountOff(100), Scope(sku_ids={7}), template="tpl")
    r = price_order(request(*cart, coupons=(t0, t2)), StackingPolicy(max_coupons=3))
    assert r.applied_coupons == ("t2",) and r.rejected_coupons[0][0] == "t0"
    r = price_order(request(*cart, coupons=(a, a)), StackingPolicy(max_coupons=3))
    assert r.applied_coupons == ("a",) and r.rejected_coupons == (("a", DUPLICATE),)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(stages=("tier", "bogus")),
        dict(stages=("tier", "tier")),
        dict(stages="tier"),
        dict(promotions="some"),
        dict(max_coupons=-1),
        dict(max_coupons=True),
        dict(coupon_on_promoted_lines=0),
        dict(points={"points_per_yuan": 100}),
    ],
)
def test_bad_policy_raises_value_error(kwargs):
    with pytest.raises(ValueError):
        StackingPolicy(**kwargs)


def test_a_policy_accepts_a_list_and_a_rule():
    p = StackingPolicy(stages=["points", "tier"], points=DeductionRule(points_per_yuan=10))
    assert p.stages == ("points", "tier") and p.points.points_per_yuan == 10
