"""Each offer type on a concrete cart: 满减, 每满减, tiered, percent, buy X get Y, fixed price, gift,
service voucher, free delivery; and their field checks."""

from __future__ import annotations

import pytest

from o2o.core.promotions import (
    AmountOff,
    BuyXGetY,
    FixedPrice,
    FreeDelivery,
    FreeGift,
    Gift,
    PercentOff,
    Scope,
    ServiceVoucher,
    TierDiscount,
    TieredAmountOff,
    price_order,
)
from o2o.core.promotions.offers import NO_FEE, NOTHING_LEFT
from tests.unit.promotions.builders import coupon, item, parts, payables, promo, request, total


def with_promo(offer, *cart, scope=None, **kw):
    return price_order(request(*cart, promotions=(promo("p", offer, scope),), **kw))


def with_coupon(offer, *cart, scope=None, **kw):
    return price_order(request(*cart, coupons=(coupon("c", offer, scope),), **kw))


def test_amount_off_over_a_threshold_is_split_by_what_lines_pay():
    r = with_promo(AmountOff(1000, 10000), item(1, 1, 6000), item(2, 2, 2000))
    assert r.applied_promotions == ("p",)
    assert parts(r, "promotion:p") == (600, 400) and total(r) == 9000
    below = with_promo(AmountOff(1000, 10000), item(1, 1, 9999))
    assert below.applied_promotions == () and total(below) == 9999
    rejected = with_coupon(AmountOff(1000, 10000), item(1, 1, 9999))
    ((cid, reason),) = rejected.rejected_coupons
    assert cid == "c" and "¥100.00" in reason and "¥99.99" in reason and "未满" in reason


def test_every_full_threshold_with_repeat_and_the_amount_is_capped_at_the_base():
    assert total(with_promo(AmountOff(1000, 10000, repeat=True), item(1, 1, 25000))) == 23000
    assert total(with_promo(AmountOff(1000, 10000, repeat=True), item(1, 1, 30000))) == 27000
    capped = with_promo(AmountOff(5000), item(1, 1, 3000), item(2, 1, 4000), scope=Scope(sku_ids={1}))
    assert payables(capped) == [0, 4000] and parts(capped, "promotion:p") == (3000, 0)


def test_tiered_amount_off_takes_the_best_tier_reached():
    tiers = TieredAmountOff(((10000, 1000), (20000, 2500)))
    assert total(with_promo(tiers, item(1, 1, 9000))) == 9000
    assert total(with_promo(tiers, item(1, 1, 15000))) == 14000
    assert total(with_promo(tiers, item(1, 1, 20000))) == 17500
    assert TieredAmountOff([[0, 5], [10, 6]]).tiers == ((0, 5), (10, 6))


def test_percent_off_rounds_down_and_caps():
    assert total(with_promo(PercentOff(20, cap_fen=1500), item(1, 1, 10000))) == 8500
    assert total(with_promo(PercentOff(20, cap_fen=1500), item(1, 1, 5000))) == 4000
    assert total(with_promo(PercentOff(15), item(1, 1, 999))) == 850  # 149.85 off -> 149
    assert total(with_promo(PercentOff(10, threshold_fen=5000), item(1, 1, 4999))) == 4999
    assert with_promo(PercentOff(1), item(1, 1, 99)).applied_promotions == ()  # 0.99 fen -> nothing


def test_buy_two_get_one_frees_the_cheapest_of_each_group():
    cart = (item(1, 2, 1000), item(2, 1, 600), item(3, 1, 800))
    r = with_promo(BuyXGetY(2, 1), *cart)
    # units 1000, 1000, 800 | 600: the 800 of the full group is free, the 600 is a partial group
    assert parts(r, "promotion:p") == (0, 0, 800)
    six = with_promo(BuyXGetY(2, 1), item(1, 3, 1000), item(2, 3, 500))
    assert parts(six, "promotion:p") == (1000, 500)  # 1000 1000 [1000] | 500 500 [500]
    # equal prices: sorted by sku_id, so the later sku's unit is the free one
    tie = with_promo(BuyXGetY(2, 1), item(5, 1, 500), item(3, 2, 500))
    assert parts(tie, "promotion:p") == (500, 0)
    few = with_coupon(BuyXGetY(2, 1), item(1, 2, 1000))
    assert few.rejected_coupons == (("c", "需满3件 Needs 3 qualifying units (now 2)"),)


def test_buy_x_get_y_uses_the_current_unit_payable():
    # 10 % tier first: 3 units paying 2700 -> 900 each; the free one is 900, not the shelf 1000
    r = with_promo(BuyXGetY(2, 1), item(1, 3, 1000), tier=TierDiscount("gold", percent=10))
    assert parts(r, "promotion:p") == (900,) and total(r) == 1800
    uneven = with_promo(BuyXGetY(1, 1), item(1, 3, 1000), item(2, 1, 1), tier=TierDiscount("g", percent=33))
    assert all(p >= 0 for p in payables(uneven))


def test_fixed_price_only_where_cheaper_and_up_to_max_units_priciest_first():
    cart = (item(1, 2, 1200), item(2, 2, 900), item(3, 1, 400))
    r = with_promo(FixedPrice(500, max_units=3), *cart)
    assert parts(r, "promotion:p") == (1400, 400, 0)  # 2 x (1200-500) + 1 x (900-500); 400 stays
    unlimited = with_promo(FixedPrice(500), *cart)
    assert parts(unlimited, "promotion:p") == (1400, 800, 0) and payables(unlimited) == [1000, 1000, 400]
    assert with_coupon(FixedPrice(500), item(1, 1, 400)).rejected_coupons == (("c", NOTHING_LEFT),)


def test_free_gift_adds_a_gift_without_changing_prices():
    r = with_promo(FreeGift(99, 2, threshold_fen=5000), item(1, 1, 5000))
    assert r.gifts == (Gift(99, 2, "p"),) and r.applied_promotions == ("p",) and total(r) == 5000
    assert r.totals.adjustments == ()
    assert with_promo(FreeGift(99, threshold_fen=5000), item(1, 1, 4999)).gifts == ()
    by_coupon = with_coupon(FreeGift(98), item(1, 1, 100))
    assert by_coupon.gifts == (Gift(98, 1, "c"),) and by_coupon.applied_coupons == ("c",)


def test_service_voucher_discounts_up_to_its_value_on_the_service_lines():
    install = Scope(sku_ids={50})
    r = with_coupon(
        ServiceVoucher("安装 installation", 3000), item(1, 1, 9000), item(50, 1, 2000), scope=install
    )
    assert parts(r, "coupon:c") == (0, 2000) and payables(r) == [9000, 0]
    r = with_coupon(
        ServiceVoucher("安装 installation", 1500), item(1, 1, 9000), item(50, 1, 2000), scope=install
    )
    assert parts(r, "coupon:c") == (0, 1500)
    missing = with_coupon(ServiceVoucher("安装 installation", 1500), item(1, 1, 9000), scope=install)
    assert missing.rejected_coupons[0][1].endswith("No item in the cart qualifies")


def test_free_delivery_waives_the_fee_from_the_threshold():
    r = with_promo(FreeDelivery(5000), item(1, 1, 5000), delivery_fee_fen=800)
    assert r.free_delivery and r.totals.delivery_fee_fen == 0 and total(r) == 5000
    assert "免配送费 Delivery fee waived (促销p Promotion p): -¥8.00" in r.totals.explanation
    assert "配送费 Delivery fee: ¥8.00" in r.totals.explanation
    below = with_promo(FreeDelivery(5000), item(1, 1, 4999), delivery_fee_fen=800)
    assert not below.free_delivery and total(below) == 4999 + 800
    assert with_coupon(FreeDelivery(), item(1, 1, 100)).rejected_coupons == (("c", NO_FEE),)


@pytest.mark.parametrize(
    "build",
    [
        lambda: AmountOff(0),
        lambda: AmountOff(100, -1),
        lambda: AmountOff(100, 0, repeat=True),
        lambda: AmountOff(100, repeat=1),
        lambda: TieredAmountOff(()),
        lambda: TieredAmountOff(((100, 10), (100, 20))),
        lambda: TieredAmountOff(((100, 10, 1),)),
        lambda: TieredAmountOff(((100, 0),)),
        lambda: PercentOff(0),
        lambda: PercentOff(101),
        lambda: PercentOff(10, cap_fen=0),
        lambda: BuyXGetY(0, 1),
        lambda: BuyXGetY(2, 0),
        lambda: FixedPrice(-1),
        lambda: FixedPrice(100, max_units=0),
        lambda: FreeGift(1, qty=0),
        lambda: FreeGift("1"),
        lambda: ServiceVoucher("", 100),
        lambda: ServiceVoucher("安装", 0),
        lambda: FreeDelivery(-5),
        lambda: PercentOff(True),
    ],
)
def test_bad_offer_fields_raise_value_error(build):
    with pytest.raises(ValueError):
        build()
