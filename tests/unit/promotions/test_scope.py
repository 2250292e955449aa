"""Scope: channel/store/tier gate the order, SKUs and categories pick the lines, exclusions win."""

from __future__ import annotations

import pytest

from o2o.core.orders import CartLine
from o2o.core.promotions import AmountOff, Item, Scope, TierDiscount, price_order
from o2o.core.promotions.scope import NOT_CHANNEL, NOT_STORE, NOT_TIER
from tests.unit.promotions.builders import coupon, item, parts, promo, request


def test_item_checks_and_converts_to_a_cart_line():
    it = Item(7, 2, 1250, 1500, [3, 1])  # a list is frozen
    assert it.category_ids == frozenset({1, 3})
    assert it.to_cart_line() == CartLine(7, 2, 1250, 1500)
    for bad in (
        dict(sku_id=1, qty=0, unit_price_fen=1, list_price_fen=1),
        dict(sku_id=1, qty=1, unit_price_fen=-1, list_price_fen=1),
        dict(sku_id=1, qty=1, unit_price_fen=1, list_price_fen=1.5),
        dict(sku_id=True, qty=1, unit_price_fen=1, list_price_fen=1),
        dict(sku_id=1, qty=1, unit_price_fen=1, list_price_fen=1, category_ids=frozenset({"a"})),
    ):
        with pytest.raises(ValueError):
            Item(**bad)


def test_scope_sets_are_frozen_and_checked():
    s = Scope(channels={"online"}, store_ids=[1, 2])
    assert s.channels == frozenset({"online"}) and s.store_ids == frozenset({1, 2})
    with pytest.raises(ValueError, match="not one string"):
        Scope(channels="online")
    with pytest.raises(ValueError, match="store_ids"):
        Scope(store_ids={"1"})
    with pytest.raises(ValueError, match="tiers"):
        Scope(tiers={""})


def test_order_ok_checks_channel_store_and_tier():
    s = Scope(channels={"online"}, store_ids={1}, tiers={"gold"})
    assert s.order_ok(channel="online", store_id=1, tier="gold") is None
    assert s.order_ok(channel="store", store_id=1, tier="gold") == NOT_CHANNEL
    assert s.order_ok(channel="online", store_id=2, tier="gold") == NOT_STORE
    assert s.order_ok(channel="online", store_id=None, tier="gold") == NOT_STORE
    assert s.order_ok(channel="online", store_id=1, tier="silver") == NOT_TIER
    assert s.order_ok(channel="online", store_id=1, tier=None) == NOT_TIER  # a visitor
    assert Scope().order_ok(channel="x", store_id=None, tier=None) is None
    assert "Not valid on this channel" in NOT_CHANNEL and "渠道" in NOT_CHANNEL


def test_covers_sku_or_category_and_exclusions_win():
    shirt = item(1, cats={10, 1})  # category 10 under root 1
    mug = item(2, cats={20, 2})
    assert Scope().covers(shirt) and Scope().covers(mug)
    assert Scope(category_ids={1}).covers(shirt) and not Scope(category_ids={1}).covers(mug)
    assert Scope(sku_ids={2}).covers(mug) and not Scope(sku_ids={2}).covers(shirt)
    both = Scope(sku_ids={2}, category_ids={10})
    assert both.covers(shirt) and both.covers(mug)
    assert not Scope(category_ids={1}, exclude_sku_ids={1}).covers(shirt)
    assert not Scope(exclude_sku_ids={2}).covers(mug)


def test_a_coupon_out_of_scope_is_rejected_with_the_reason():
    cart = (item(1, unit=5000),)
    cases = [
        (Scope(channels={"store"}), NOT_CHANNEL),
        (Scope(store_ids={9}), NOT_STORE),
        (Scope(tiers={"gold"}), NOT_TIER),
    ]
    for scope, reason in cases:
        r = price_order(request(*cart, coupons=(coupon("c", AmountOff(100), scope),)))
        assert r.rejected_coupons == (("c", reason),) and r.applied_coupons == ()
        assert r.totals.total_fen == 5000
    gold = request(
        *cart, tier=TierDiscount("gold"), coupons=(coupon("c", AmountOff(100), Scope(tiers={"gold"})),)
    )
    assert price_order(gold).applied_coupons == ("c",)
    no_store = request(*cart, store_id=None, coupons=(coupon("c", AmountOff(100), Scope(store_ids={1})),))
    assert price_order(no_store).rejected_coupons == (("c", NOT_STORE),)


def test_a_promotion_out_of_scope_does_not_apply_and_covers_only_its_lines():
    cart = (item(1, unit=5000, cats={10}), item(2, unit=5000, cats={20}))
    on_store = promo("p", AmountOff(1000), Scope(channels={"store"}))
    assert price_order(request(*cart, promotions=(on_store,))).applied_promotions == ()
    by_cat = promo("p", AmountOff(1000), Scope(category_ids={20}))
    r = price_order(request(*cart, promotions=(by_cat,)))
    assert parts(r, "promotion:p") == (0, 1000)
    no_lines = promo("p", AmountOff(1000), Scope(sku_ids={3}))
    assert price_order(request(*cart, promotions=(no_lines,))).applied_promotions == ()
