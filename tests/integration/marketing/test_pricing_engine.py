"""The database -> engine mapping (``marketing.pricing.marketing_engine``): stored ``Promotion`` and
``CouponTemplate`` rows (their kind columns and many-to-many scopes) priced through the pure core.

Covered: percent off with a cap, fixed price, buy X get Y, amount off with a threshold; category scopes
(a SKU under a sub-sub-category is in its ancestors' scope), SKU scopes and exclusions, channel, store and
tier scopes; rows out of their window or inactive are ignored. Every result keeps the core's invariants:
lines' payables sum to the goods after discounts, each adjustment's parts sum to its amount, nothing negative.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from o2o.catalog.models import Category, Product, Sku
from o2o.core.orders import CartLine, Totals
from o2o.marketing.claims import coupon_issue
from o2o.marketing.models import Coupon, Promotion
from o2o.marketing.pricing import marketing_engine
from o2o.members.models import TierState
from tests.factories import location, member, region
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db
_n = [0]


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()  # the category tree is cached a minute: not across tests
    yield
    cache.clear()


def cat(code: str, parent: Category | None = None) -> Category:
    return Category.objects.create(code=code, name=code, parent=parent)


def item(category: Category, price_fen: int) -> Sku:
    _n[0] += 1
    product = Product.objects.create(code=f"PE{_n[0]}", name=f"商品{_n[0]}", category=category)
    return Sku.objects.create(product=product, code=f"SE{_n[0]}", barcode=f"68{_n[0]:011d}", name=product.name,
                              list_price_fen=price_fen, weight_g=500)


@pytest.fixture
def shop():
    """家电 > 空调 > 挂机 (the AC under a grandchild category); 小家电 (a fan) apart; a cable in 配件."""
    appliances = cat("appliances")
    ac_cat = cat("air-con", appliances)
    wall = cat("wall-ac", ac_cat)
    small = cat("small")
    parts = cat("parts")
    east = region("华东")
    return {"appliances": appliances, "air_con": ac_cat, "wall": wall, "small": small, "parts": parts,
            "ac": item(wall, 300_000), "fan": item(small, 19_900), "cable": item(parts, 1_000),
            "a": location(east, name="A店"), "b": location(east, name="B店")}


def promo(**kw) -> Promotion:  # noqa: ANN003
    now = timezone.now()
    scope = {k: kw.pop(k) for k in ("stores", "categories", "skus", "exclude_skus") if k in kw}
    p = Promotion.objects.create(**{"name": "促销", "starts_at": now - timedelta(days=1),
                                    "ends_at": now + timedelta(days=1), **kw})
    for name, rows in scope.items():
        getattr(p, name).set(rows)
    return p


def price(pairs, *, member_id=None, channel="h5", location_id=None, coupons=(), **context):  # noqa: ANN001, ANN003, ANN201
    skus = {s.pk: s for s, _ in pairs}
    cart = tuple(CartLine(sku_id=s.pk, qty=q, unit_price_fen=s.list_price_fen, list_price_fen=s.list_price_fen)
                 for s, q in pairs)
    totals, extras = marketing_engine(cart, skus=skus, location_id=location_id, channel=channel, at=timezone.now(),
                                      modes=[], context={"member_id": member_id,
                                                         "coupon_ids": [c.pk for c in coupons], **context})
    check(totals)
    return totals, extras


def check(t: Totals) -> None:
    assert t.goods_fen == sum(line.subtotal_fen for line in t.lines)
    assert t.discount_fen == sum(line.discount_fen for line in t.lines) == sum(a.amount_fen for a in t.adjustments)
    assert t.total_fen == t.goods_fen - t.discount_fen + t.delivery_fee_fen
    assert all(line.payable_fen >= 0 and line.payable_fen == line.subtotal_fen - line.discount_fen for line in t.lines)
    for a in t.adjustments:
        assert sum(a.per_line) == a.amount_fen and len(a.per_line) == len(t.lines)


def adj(t: Totals, kind: str) -> tuple[int, tuple[int, ...]] | None:
    found = [a for a in t.adjustments if a.kind == kind]
    return (found[0].amount_fen, found[0].per_line) if found else None


def give(m, **kw) -> Coupon:  # noqa: ANN001, ANN003
    scope = {k: kw.pop(k) for k in ("stores", "categories", "skus", "exclude_skus") if k in kw}
    t = template(**kw)
    for name, rows in scope.items():
        getattr(t, name).set(rows)
    return coupon_issue(template_id=t.pk, member=m, source="claim")


def test_percent_off_is_capped_and_floors_under_the_cap(shop):
    p = promo(kind="percent_off", percent=20, cap_fen=5_000, categories=[shop["appliances"]])
    t, extras = price([(shop["ac"], 1), (shop["fan"], 1)])
    assert adj(t, f"promotion:{p.pk}") == (5_000, (5_000, 0))  # 20% of ¥3000 is ¥600: capped at ¥50
    assert extras["promotion_ids"] == [p.pk]
    q = promo(kind="percent_off", percent=15, cap_fen=100_000, skus=[shop["fan"]])
    t, _ = price([(shop["fan"], 1)])
    assert adj(t, f"promotion:{q.pk}") == (19_900 * 15 // 100, (2_985,))  # rounded down, in fen
    assert t.total_fen == 19_900 - 2_985


def test_percent_off_waits_for_its_threshold(shop):
    p = promo(kind="percent_off", percent=10, threshold_fen=50_000, skus=[shop["fan"]])
    t, extras = price([(shop["fan"], 2)])
    assert adj(t, f"promotion:{p.pk}") is None and extras["promotion_ids"] == []
    t, _ = price([(shop["fan"], 3)])  # ¥597 >= ¥500
    assert adj(t, f"promotion:{p.pk}") == (5_970, (5_970,))


def test_fixed_price_covers_at_most_max_units(shop):
    p = promo(kind="fixed_price", amount_fen=9_900, max_units=2, skus=[shop["fan"]])
    t, _ = price([(shop["fan"], 3), (shop["cable"], 1)])
    assert adj(t, f"promotion:{p.pk}") == (2 * (19_900 - 9_900), (20_000, 0))
    assert t.lines[0].payable_fen == 2 * 9_900 + 19_900
    # A fixed price above the item's price gives nothing (never dearer).
    promo(kind="fixed_price", amount_fen=2_000, skus=[shop["cable"]])
    t, _ = price([(shop["cable"], 2)])
    assert t.discount_fen == 0 and t.total_fen == 2_000


def test_buy_two_get_one_frees_the_cheapest_of_each_complete_group(shop):
    p = promo(kind="buy_x_get_y", buy_qty=2, get_qty=1, categories=[shop["parts"], shop["small"]])
    for qty, free in ((2, 0), (3, 1), (5, 1), (6, 2)):
        t, _ = price([(shop["cable"], qty)])
        got = adj(t, f"promotion:{p.pk}")
        assert (got[0] if got else 0) == free * 1_000, qty
    t, _ = price([(shop["fan"], 2), (shop["cable"], 1)])  # mixed group: the cable is the cheapest
    assert adj(t, f"promotion:{p.pk}") == (1_000, (0, 1_000))


def test_a_category_scope_covers_skus_in_its_sub_categories(shop):
    mid = promo(kind="amount_off", amount_fen=3_000, threshold_fen=0, categories=[shop["air_con"]])
    t, _ = price([(shop["ac"], 1), (shop["fan"], 1)])
    assert adj(t, f"promotion:{mid.pk}") == (3_000, (3_000, 0))  # 挂机 is under 空调
    t, extras = price([(shop["fan"], 1)])
    assert t.discount_fen == 0 and extras["promotion_ids"] == []
    m, _ = member()
    c = give(m, amount_fen=1_000, threshold_fen=0, categories=[shop["appliances"]])  # the root of the tree
    t, extras = price([(shop["ac"], 1)], member_id=m.pk, coupons=[c])
    assert adj(t, f"coupon:{c.pk}") == (1_000, (1_000,)) and extras["coupon_ids"] == [c.pk]
    t, extras = price([(shop["fan"], 1)], member_id=m.pk, coupons=[c])
    assert extras["coupon_ids"] == [] and [r["id"] for r in extras["rejected_coupons"]] == [c.pk]


def test_a_coupon_threshold_counts_only_the_covered_goods(shop):
    m, _ = member()
    c = give(m, amount_fen=2_000, threshold_fen=30_000, categories=[shop["small"]])
    _, extras = price([(shop["fan"], 1), (shop["ac"], 1)], member_id=m.pk, coupons=[c])
    assert [r["id"] for r in extras["rejected_coupons"]] == [c.pk]  # ¥199 of fans < ¥300, the AC does not count
    t, extras = price([(shop["fan"], 2), (shop["ac"], 1)], member_id=m.pk, coupons=[c])
    assert adj(t, f"coupon:{c.pk}") == (2_000, (2_000, 0))


def test_sku_scope_and_excluded_skus(shop):
    other_ac = item(shop["wall"], 250_000)
    p = promo(kind="percent_off", percent=10, categories=[shop["appliances"]], exclude_skus=[other_ac])
    t, _ = price([(shop["ac"], 1), (other_ac, 1)])
    assert adj(t, f"promotion:{p.pk}") == (30_000, (30_000, 0))
    m, _ = member()
    c = give(m, kind="percent_off", amount_fen=0, threshold_fen=0, percent=50, cap_fen=3_000, skus=[shop["cable"]])
    t, _ = price([(shop["cable"], 2), (shop["fan"], 1)], member_id=m.pk, coupons=[c])
    assert adj(t, f"coupon:{c.pk}") == (1_000, (1_000, 0))  # half of the ¥20 of cables, the fan untouched


def test_channel_scopes_of_promotions_and_coupons(shop):
    p = promo(kind="amount_off", amount_fen=500, threshold_fen=0, channels=["mini_program"], skus=[shop["fan"]])
    t, _ = price([(shop["fan"], 1)], channel="h5")
    assert adj(t, f"promotion:{p.pk}") is None
    t, _ = price([(shop["fan"], 1)], channel="mini_program")
    assert adj(t, f"promotion:{p.pk}") == (500, (500,))
    m, _ = member()
    c = give(m, amount_fen=1_000, threshold_fen=0, channels=["pos"])
    _, extras = price([(shop["fan"], 1)], member_id=m.pk, coupons=[c], channel="h5")
    assert [r["id"] for r in extras["rejected_coupons"]] == [c.pk]
    t, extras = price([(shop["fan"], 1)], member_id=m.pk, coupons=[c], channel="pos")
    assert extras["coupon_ids"] == [c.pk] and adj(t, f"coupon:{c.pk}") == (1_000, (1_000,))


def test_store_scope_reads_the_pickup_store_or_the_one_store_that_ships(shop):
    a, b = shop["a"], shop["b"]
    p = promo(kind="amount_off", amount_fen=700, threshold_fen=0, stores=[a])
    cart = [(shop["fan"], 1)]
    assert adj(price(cart, location_id=a.pk)[0], f"promotion:{p.pk}") == (700, (700,))
    assert adj(price(cart, location_id=b.pk)[0], f"promotion:{p.pk}") is None
    assert adj(price(cart, location_id=b.pk, fulfil_location_ids=[a.pk])[0], f"promotion:{p.pk}") == (700, (700,))
    assert adj(price(cart, location_id=a.pk, fulfil_location_ids=[a.pk, b.pk])[0], f"promotion:{p.pk}") is None


def test_tier_scope_and_rows_out_of_their_window_or_inactive(shop):
    now = timezone.now()
    gold, _ = member()
    TierState.objects.create(member=gold, tier="gold")
    plain, _ = member()
    p = promo(kind="amount_off", amount_fen=800, threshold_fen=0, tiers=["gold"], skus=[shop["fan"]])
    promo(kind="amount_off", amount_fen=900, threshold_fen=0, active=False)
    promo(kind="amount_off", amount_fen=900, threshold_fen=0, starts_at=now + timedelta(hours=1),
          ends_at=now + timedelta(days=2))
    promo(kind="amount_off", amount_fen=900, threshold_fen=0, starts_at=now - timedelta(days=2),
          ends_at=now - timedelta(seconds=1))
    _, extras = price([(shop["fan"], 1)], member_id=gold.pk)
    assert extras["promotion_ids"] == [p.pk]
    _, extras = price([(shop["fan"], 1)], member_id=plain.pk)
    assert extras["promotion_ids"] == []


def test_a_promotion_and_a_coupon_stack_and_the_coupon_applies_to_what_is_left(shop):
    m, _ = member()
    p = promo(kind="fixed_price", amount_fen=9_900, skus=[shop["fan"]])
    c = give(m, kind="percent_off", amount_fen=0, threshold_fen=0, percent=10, cap_fen=None)
    t, extras = price([(shop["fan"], 1), (shop["cable"], 1)], member_id=m.pk, coupons=[c])
    assert adj(t, f"promotion:{p.pk}") == (10_000, (10_000, 0))
    assert adj(t, f"coupon:{c.pk}") == ((9_900 + 1_000) // 10, (990, 100))
    assert extras["promotion_ids"] == [p.pk] and extras["coupon_ids"] == [c.pk]
    assert t.total_fen == 9_900 + 1_000 - 1_090
