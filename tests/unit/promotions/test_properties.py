"""Hypothesis: over random carts, promotions, coupons, tiers, points and stacking policies --

* totals add up: ``total == sum(line payable) + fee``, ``payable == subtotal - discount >= 0``,
  each adjustment's ``per_line`` sums to its amount, ``discount == sum(adjustments)``;
* refunding every unit of every line with ``refund_for``, in random partial returns, gives back
  exactly what was paid;
* pricing is deterministic (twice, or with the promotions listed in another order);
* points stay within the rule's cap share and whole units;
* coupons: each chosen coupon is applied or rejected exactly once, within ``max_coupons`` and one
  per template; ``best_coupons`` never makes the customer pay more than any choice of theirs.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from o2o.core.loyalty import DeductionRule
from o2o.core.orders import refund_for
from o2o.core.promotions import (
    STAGE_NAMES,
    AmountOff,
    BuyXGetY,
    CouponOffer,
    FixedPrice,
    FreeDelivery,
    FreeGift,
    Item,
    PercentOff,
    PricingRequest,
    PricingResult,
    Promotion,
    Scope,
    ServiceVoucher,
    StackingPolicy,
    TierDiscount,
    TieredAmountOff,
    best_coupons,
    price_order,
)

CHANNELS = ("online", "store")
TIERS = ("silver", "gold")


def small_sets(elements):
    return st.frozensets(st.sampled_from(elements), max_size=2)


prices = st.one_of(st.integers(0, 30_000), st.sampled_from([0, 1, 99, 100, 999, 10_000]))
items = st.lists(
    st.builds(
        Item,
        sku_id=st.integers(1, 6),
        qty=st.integers(1, 6),
        unit_price_fen=prices,
        list_price_fen=prices,
        category_ids=small_sets(range(1, 5)),
    ),
    min_size=1,
    max_size=6,
).map(tuple)
scopes = st.one_of(
    st.just(Scope()),
    st.builds(Scope, category_ids=small_sets(range(1, 5)), sku_ids=small_sets(range(1, 7))),
    st.builds(
        Scope,
        channels=small_sets(CHANNELS),
        store_ids=small_sets((1, 2)),
        category_ids=small_sets(range(1, 5)),
        sku_ids=small_sets(range(1, 7)),
        tiers=small_sets(TIERS),
        exclude_sku_ids=small_sets(range(1, 7)),
    ),
)
amounts = st.integers(1, 20_000)
thresholds = st.one_of(st.just(0), st.integers(0, 40_000))
offers = st.one_of(
    st.builds(AmountOff, amounts, thresholds),
    st.builds(AmountOff, amounts, st.integers(1, 30_000), st.just(True)),
    st.lists(
        st.tuples(st.integers(0, 40_000), amounts), min_size=1, max_size=3, unique_by=lambda t: t[0]
    ).map(lambda tiers: TieredAmountOff(tuple(sorted(tiers)))),
    st.builds(PercentOff, st.integers(1, 100), st.none() | amounts, thresholds),
    st.builds(BuyXGetY, st.integers(1, 3), st.integers(1, 3)),
    st.builds(FixedPrice, st.integers(0, 20_000), st.none() | st.integers(1, 5)),
    st.builds(FreeGift, st.integers(90, 99), st.integers(1, 3), thresholds),
    st.builds(ServiceVoucher, st.just("安装 installation"), amounts),
    st.builds(FreeDelivery, thresholds),
)
promotions = st.lists(st.tuples(offers, scopes, st.integers(-2, 2), st.booleans()), max_size=4).map(
    lambda specs: tuple(
        Promotion(f"p{i}", f"促销{i} Promotion {i}", offer, scope, priority, exclusive)
        for i, (offer, scope, priority, exclusive) in enumerate(specs)
    )
)
coupons = st.lists(
    st.tuples(offers, scopes, st.sampled_from(["", "t1", "t2"])), max_size=4
).flatmap(  # ids are unique; sometimes the member picks one of them twice
    lambda specs: (
        st.lists(st.sampled_from(range(len(specs))), max_size=1).map(
            lambda again: tuple(
                CouponOffer(f"c{i}", f"券{i} Coupon {i}", offer, scope, template)
                for i, (offer, scope, template) in [*enumerate(specs), *((j, specs[j]) for j in again)]
            )
        )
        if specs
        else st.just(())
    )
)
tiers = st.builds(
    TierDiscount,
    tier=st.none() | st.sampled_from(TIERS),
    label=st.just(""),
    percent=st.one_of(st.just(0), st.integers(0, 30)),
    free_delivery=st.booleans(),
)
rules = st.builds(
    DeductionRule,
    points_per_yuan=st.sampled_from([1, 10, 100, 150, 1000]),
    max_share_percent=st.integers(0, 100),
    step_fen=st.sampled_from([1, 10, 100]),
    min_points=st.sampled_from([0, 100, 1000]),
)
policies = st.builds(
    StackingPolicy,
    stages=st.lists(st.sampled_from(STAGE_NAMES), unique=True, max_size=4).map(tuple),
    promotions=st.sampled_from(["all", "best"]),
    max_coupons=st.integers(0, 3),
    coupon_on_promoted_lines=st.booleans(),
    tier_on_promoted_lines=st.booleans(),
    points=rules,
    points_on_delivery=st.booleans(),
)
requests = st.builds(
    PricingRequest,
    items=items,
    channel=st.sampled_from(CHANNELS),
    store_id=st.none() | st.sampled_from([1, 2]),
    tier=tiers,
    promotions=promotions,
    coupons=coupons,
    points_balance=st.integers(-100, 200_000),
    points_requested=st.one_of(st.just(-1), st.integers(-1, 200_000)),
    delivery_fee_fen=st.one_of(st.sampled_from([0, 500]), st.integers(0, 3000)),
)


def parts_of(r: PricingResult, prefix: str) -> dict[str, tuple[int, ...]]:
    return {a.kind: a.per_line for a in r.totals.adjustments if a.kind.startswith(prefix)}


def check_totals(req: PricingRequest, r: PricingResult) -> None:
    t = r.totals
    assert t.goods_fen == sum(line.subtotal_fen for line in t.lines)
    assert (
        t.discount_fen
        == sum(a.amount_fen for a in t.adjustments)
        == sum(line.discount_fen for line in t.lines)
    )
    assert t.total_fen == sum(line.payable_fen for line in t.lines) + t.delivery_fee_fen
    assert t.total_fen == t.goods_fen - t.discount_fen + t.delivery_fee_fen >= 0
    assert t.delivery_fee_fen in (0, req.delivery_fee_fen)
    assert r.free_delivery == (req.delivery_fee_fen > 0 and t.delivery_fee_fen == 0)
    for line, it in zip(t.lines, req.items, strict=True):
        assert (line.sku_id, line.qty, line.unit_price_fen) == (it.sku_id, it.qty, it.unit_price_fen)
        assert line.subtotal_fen == it.unit_price_fen * it.qty
        assert line.payable_fen == line.subtotal_fen - line.discount_fen
        assert 0 <= line.payable_fen <= line.subtotal_fen
    kinds = [a.kind for a in t.adjustments]
    assert len(set(kinds)) == len(kinds)
    for a in t.adjustments:
        assert a.amount_fen > 0 and len(a.per_line) == len(t.lines) and sum(a.per_line) == a.amount_fen
        assert all(p >= 0 for p in a.per_line)
    rows = r.line_breakdown()
    assert [sum(row.values()) for row in rows] == [line.discount_fen for line in t.lines]
    assert t.explanation[0].startswith("商品金额 Goods") and t.explanation[-1].startswith("应付 Total")
    assert len(t.explanation) == len(t.adjustments) + 3 + (1 if r.free_delivery else 0)


@given(requests, policies)
def test_totals_add_up_and_no_price_goes_negative(req, policy):
    r = price_order(req, policy)
    check_totals(req, r)
    stages = policy.stages
    # stages that did not run left nothing behind
    assert all(a.kind.partition(":")[0] in stages for a in r.totals.adjustments)
    assert {a.kind for a in r.totals.adjustments if a.kind.startswith("promotion:")} <= {
        f"promotion:{p}" for p in r.applied_promotions
    }
    assert len(set(r.applied_promotions)) == len(r.applied_promotions)
    if policy.promotions == "best":
        assert len(r.applied_promotions) <= 1
    # every chosen coupon is accounted for once; the limits hold
    assert len(r.applied_coupons) + len(r.rejected_coupons) == len(req.coupons)
    assert sorted([*r.applied_coupons, *(cid for cid, _ in r.rejected_coupons)]) == sorted(
        c.id for c in req.coupons
    )
    assert len(r.applied_coupons) <= policy.max_coupons and len(set(r.applied_coupons)) == len(
        r.applied_coupons
    )
    by_id = {c.id: c for c in reversed(req.coupons)}  # the first of each id is the one that can apply
    templates = [by_id[cid].template_id for cid in r.applied_coupons if by_id[cid].template_id]
    assert len(set(templates)) == len(templates)
    assert all(reason and " " in reason for _, reason in r.rejected_coupons)  # bilingual text
    assert {g.source for g in r.gifts} <= {*r.applied_promotions, *r.applied_coupons}
    # points: whole units of the rule, never more than held or asked for
    rule = policy.points
    assert r.points_fen * rule.points_per_yuan == r.points_used * 100
    assert r.points_used <= max(req.points_balance, 0)
    if req.points_requested != -1:
        assert r.points_used <= req.points_requested
    if "points" not in stages:
        assert r.points_used == 0
    promo_parts = parts_of(r, "promotion:")
    # an exclusive promotion's lines take no other promotion (all mode)
    exclusive = {f"promotion:{p.id}" for p in req.promotions if p.exclusive}
    for kind, per_line in promo_parts.items():
        if kind in exclusive:
            for other, other_parts in promo_parts.items():
                if other != kind:
                    assert all(not (a and b) for a, b in zip(per_line, other_parts, strict=True))
    # coupons skip promoted lines when configured (and the promotion ran first)
    if not policy.coupon_on_promoted_lines and "promotion" in stages and "coupon" in stages:
        if stages.index("promotion") < stages.index("coupon"):
            promoted = [any(p[i] for p in promo_parts.values()) for i in range(len(req.items))]
            for per_line in parts_of(r, "coupon:").values():
                assert all(not (part and promoted[i]) for i, part in enumerate(per_line))


@given(requests, policies)
def test_pricing_is_deterministic(req, policy):
    r = price_order(req, policy)
    assert r == price_order(req, policy)
    assert r == price_order(replace(req, promotions=req.promotions[::-1]), policy)


@given(requests, policies)
def test_points_stay_within_the_cap_share(req, policy):
    last = StackingPolicy(
        stages=tuple(s for s in policy.stages if s != "points") + ("points",),
        promotions=policy.promotions,
        max_coupons=policy.max_coupons,
        points=policy.points,
        points_on_delivery=policy.points_on_delivery,
    )
    r = price_order(req, last)
    goods_left = sum(line.payable_fen for line in r.totals.lines) + r.points_fen  # before points
    base = goods_left + (r.totals.delivery_fee_fen if last.points_on_delivery else 0)
    assert r.points_fen <= base * last.points.max_share_percent // 100
    assert r.points_fen <= goods_left
    unit_points, unit_fen = last.points.unit
    assert r.points_fen % unit_fen == 0 and r.points_used % unit_points == 0


@given(requests, policies, st.data())
def test_refunding_every_unit_returns_exactly_what_was_paid(req, policy, data):
    r = price_order(req, policy)
    refunded_total = 0
    for line in r.totals.lines:
        returned = refunded = 0
        while returned < line.qty:
            qty = data.draw(st.integers(1, line.qty - returned), label="return qty")
            step = refund_for(line.payable_fen, line.qty, returned, refunded, qty)
            assert step >= 0
            returned, refunded = returned + qty, refunded + step
        assert refunded == line.payable_fen
        refunded_total += refunded
    assert refunded_total == r.totals.total_fen - r.totals.delivery_fee_fen


@given(requests, policies)
def test_best_coupons_never_makes_the_customer_pay_more(req, policy):
    choice = best_coupons(req, policy)
    first = {}
    for c in req.coupons:
        first.setdefault(c.id, c)
    best = price_order(replace(req, coupons=tuple(first[cid] for cid in choice)), policy)
    assert best.applied_coupons == choice and best.rejected_coupons == ()
    assert best.totals.total_fen <= price_order(replace(req, coupons=()), policy).totals.total_fen
    assert best.totals.total_fen <= price_order(req, policy).totals.total_fen
    for c in req.coupons:
        assert best.totals.total_fen <= price_order(replace(req, coupons=(c,)), policy).totals.total_fen
