"""price_order end to end: zero-yuan orders, the explanation, the line breakdown, bad input,
best_coupons, determinism."""

from __future__ import annotations

import pytest

from o2o.core.orders import Totals, refund_for
from o2o.core.promotions import (
    AmountOff,
    FixedPrice,
    FreeDelivery,
    FreeGift,
    Item,
    PercentOff,
    PricingRequest,
    Promotion,
    Scope,
    StackingPolicy,
    TierDiscount,
    best_coupons,
    price_order,
)
from o2o.core.promotions.offers import NOTHING_LEFT
from tests.unit.promotions.builders import coupon, item, payables, promo, request, total


def test_a_zero_yuan_order_is_handled_on_purpose():
    everything_free = promo("free", FixedPrice(0))
    r = price_order(
        request(
            item(1, 2, 1000),
            item(2, 1, 333),
            promotions=(everything_free,),
            coupons=(coupon("c", AmountOff(100)),),
            points_balance=1000,
            points_requested=-1,
        )
    )
    assert total(r) == 0 and payables(r) == [0, 0] and r.totals.discount_fen == r.totals.goods_fen == 2333
    assert r.rejected_coupons == (("c", NOTHING_LEFT),) and r.points_used == 0
    assert r.totals.explanation[-1] == "应付 Total: ¥0.00"
    assert refund_for(0, 2, 0, 0, 2) == 0
    with_fee = price_order(request(item(1, 1, 1000), promotions=(everything_free,), delivery_fee_fen=500))
    assert total(with_fee) == 500
    waived = price_order(
        request(
            item(1, 1, 1000),
            promotions=(everything_free,),
            coupons=(coupon("d", FreeDelivery()),),
            delivery_fee_fen=500,
        )
    )
    assert total(waived) == 0 and waived.free_delivery and waived.applied_coupons == ("d",)
    zero_shelf = price_order(request(item(1, 1, 0), tier=TierDiscount("gold", percent=10)))
    assert total(zero_shelf) == 0 and zero_shelf.totals.adjustments == ()


def test_explanation_and_totals_read_like_the_checkout_pipeline():
    r = price_order(
        request(
            item(1, 2, 2500),
            item(2, 1, 5000),
            tier=TierDiscount("gold", "金卡95折 Gold 5% off", 5),
            promotions=(promo("p", AmountOff(1000, 4000), Scope(sku_ids={2})),),
            coupons=(coupon("c", AmountOff(500)),),
            points_balance=200,
            points_requested=-1,
            delivery_fee_fen=800,
        )
    )
    assert isinstance(r.totals, Totals)
    assert r.totals.explanation == (
        "商品金额 Goods: ¥100.00",
        "金卡95折 Gold 5% off: -¥5.00",
        "促销p Promotion p: -¥10.00",
        "券c Coupon c: -¥5.00",
        "积分抵扣 Points: 200: -¥2.00",
        "配送费 Delivery fee: ¥8.00",
        "应付 Total: ¥86.00",
    )
    assert r.totals.goods_fen == 10000 and r.totals.discount_fen == 2200 and r.totals.delivery_fee_fen == 800
    assert [a.kind for a in r.totals.adjustments] == ["tier", "promotion:p", "coupon:c", "points"]
    rows = r.line_breakdown()
    assert rows[1]["promotion"] == 1000 and rows[0]["promotion"] == 0
    assert [sum(row.values()) for row in rows] == [line.discount_fen for line in r.totals.lines]
    assert set(rows[0]) == {"tier", "promotion", "coupon", "points"}


def test_same_input_same_output_whatever_the_order_promotions_come_in():
    cart = (item(1, 3, 1234), item(2, 1, 999))
    promos = (promo("a", PercentOff(10)), promo("b", AmountOff(300)), promo("c", FreeGift(5)))
    one = price_order(request(*cart, promotions=promos))
    assert one == price_order(request(*cart, promotions=promos))
    assert one == price_order(request(*cart, promotions=promos[::-1]))
    assert one.applied_promotions == ("a", "b", "c")


def test_best_coupons_picks_the_cheapest_choice_and_order():
    cart = (item(1, 1, 10000),)
    a = coupon("a", AmountOff(1000, 5000))
    b = coupon("b", PercentOff(10))
    small = coupon("small", AmountOff(200))
    out = coupon("out", AmountOff(5000), Scope(channels={"store"}))
    req = request(*cart, coupons=(small, a, b, out))
    assert best_coupons(req, StackingPolicy()) in (("a",), ("b",))  # both save ¥10
    two = StackingPolicy(max_coupons=2)
    assert best_coupons(req, two) == ("b", "a")  # 10 % first (¥10), then ¥10 off: ¥80; the other way ¥81
    assert total(price_order(request(*cart, coupons=(b, a)), two)) == 8000
    assert best_coupons(request(*cart, coupons=(out,))) == ()
    assert best_coupons(req, StackingPolicy(stages=("tier",))) == ()
    assert best_coupons(req, StackingPolicy(max_coupons=0)) == ()
    gift = coupon("gift", FreeGift(7))
    assert best_coupons(request(*cart, coupons=(gift,))) == ("gift",)  # no cheaper, but a gift


@pytest.mark.parametrize(
    "build",
    [
        lambda: PricingRequest((), "online", 1),
        lambda: PricingRequest((item(),), "online", "1"),
        lambda: PricingRequest(("sku",), "online", 1),
        lambda: PricingRequest((item(),), None, 1),
        lambda: request(item(), delivery_fee_fen=-1),
        lambda: request(item(), points_balance=1.5),
        lambda: request(item(), promotions=(promo("p", AmountOff(1)), promo("p", AmountOff(2)))),
        lambda: request(item(), tier=None),
        lambda: Promotion("", "x", AmountOff(1)),
        lambda: Promotion("p", "", AmountOff(1)),
        lambda: Promotion("p", "x", "10 off"),
        lambda: Promotion("p", "x", AmountOff(1), priority=1.5),
        lambda: Promotion("p", "x", AmountOff(1), scope={"channels": {"online"}}),
        lambda: coupon("c", AmountOff(1), template=None),
        lambda: TierDiscount("gold", percent=101),
        lambda: TierDiscount("", percent=5),
        lambda: Item(1, 1, -1, 0),
    ],
)
def test_bad_input_raises_value_error(build):
    with pytest.raises(ValueError):
        build()


def test_price_order_refuses_what_is_not_a_request():
    with pytest.raises(ValueError, match="PricingRequest"):
        price_order("cart")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="StackingPolicy"):
        price_order(request(item()), policy="all")  # type: ignore[arg-type]


def test_empty_cart_message_is_bilingual():
    with pytest.raises(ValueError, match="购物车为空 The cart is empty"):
        PricingRequest((), "online", 1)
    assert Item(1, 1, 0, 0).to_cart_line().unit_price_fen == 0
