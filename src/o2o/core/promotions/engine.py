"""``price_order``: one deterministic function from a :class:`PricingRequest` to a :class:`PricingResult`.

The stages run as :mod:`.stages` describes; the result's ``totals`` is a plain
:class:`o2o.core.orders.Totals` with the same invariants as :func:`o2o.core.orders.price`:

* every line: ``payable = subtotal - discount >= 0``;
* every adjustment's ``per_line`` sums to its ``amount_fen``; ``discount`` is their sum;
* ``total = goods - discount + delivery fee``, where the fee is the one still charged after
  any waiver (so a waived fee is 0 in ``Totals.delivery_fee_fen``);
* a total of 0 is allowed on purpose (everything covered, no fee): it still checks out.

Because every discount is allocated to the lines in whole fen, a line's ``payable`` is what
it really cost, and :func:`o2o.core.orders.refund_for` over any sequence of partial returns
gives back exactly what was paid.

The explanation reads like :func:`o2o.core.orders.price`: goods, one line per adjustment,
the delivery fee, the waiver if any, the total.

Determinism: same input, same output. Promotions are sorted by (priority, id), coupons keep
the order chosen, sets are only tested for membership, and :func:`best_coupons` breaks ties
by enumeration order.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations, permutations
from math import perm

from o2o.core.orders.checkout import PricedLine, Totals, format_fen
from o2o.core.promotions.model import CouponOffer, PricingRequest, PricingResult, StackingPolicy
from o2o.core.promotions.stages import COUPONS_OFF, STAGES, Work

__all__ = ["DEFAULT_POLICY", "PERMUTATION_BUDGET", "best_coupons", "price_order"]

DEFAULT_POLICY = StackingPolicy()
PERMUTATION_BUDGET = 720
"""best_coupons tries every order of every subset while that is at most this many pricings."""


def price_order(req: PricingRequest, policy: StackingPolicy = DEFAULT_POLICY) -> PricingResult:
    """Price the order: tier, promotions, coupons, points as ``policy`` stacks them, then the fee."""
    if not isinstance(req, PricingRequest):
        raise ValueError(f"请求无效 req must be a PricingRequest: {req!r}")
    if not isinstance(policy, StackingPolicy):
        raise ValueError(f"叠加规则无效 policy must be a StackingPolicy: {policy!r}")
    w = Work(req, policy)
    for stage in policy.stages:
        STAGES[stage](w)
    if "coupon" not in policy.stages:
        w.rejected.extend((c.id, COUPONS_OFF) for c in req.coupons)
    return _result(w)


def _result(w: Work) -> PricingResult:
    lines = tuple(
        PricedLine(item.sku_id, item.qty, item.unit_price_fen, sub, sub - pay, pay)
        for item, sub, pay in zip(
            w.items, (it.unit_price_fen * it.qty for it in w.items), w.payables, strict=True
        )
    )
    goods = sum(line.subtotal_fen for line in lines)
    adjustments = tuple(w.adjustments)
    discount = sum(a.amount_fen for a in adjustments)
    fee_before = w.req.delivery_fee_fen
    total = goods - discount + w.fee
    explanation = [f"商品金额 Goods: {format_fen(goods)}"]
    explanation.extend(f"{a.label}: -{format_fen(a.amount_fen)}" for a in adjustments)
    explanation.append(f"配送费 Delivery fee: {format_fen(fee_before)}")
    if w.waiver is not None:
        explanation.append(f"免配送费 Delivery fee waived ({w.waiver}): -{format_fen(fee_before)}")
    explanation.append(f"应付 Total: {format_fen(total)}")
    totals = Totals(lines, goods, discount, w.fee, total, adjustments, tuple(explanation))
    return PricingResult(
        totals=totals,
        applied_promotions=tuple(w.applied_promotions),
        applied_coupons=tuple(w.applied_coupons),
        rejected_coupons=tuple(w.rejected),
        points_used=w.points_used,
        points_fen=w.points_fen,
        gifts=tuple(w.gifts),
        free_delivery=w.waiver is not None,
    )


def _key(result: PricingResult, count: int) -> tuple[int, int, int]:
    """Lower is better: pay least, then more gift units, then fewer coupons used."""
    return (result.totals.total_fen, -sum(g.qty for g in result.gifts), count)


def best_coupons(req: PricingRequest, policy: StackingPolicy = DEFAULT_POLICY) -> tuple[str, ...]:
    """Which of ``req.coupons`` (ids, in the order to apply them) make the customer pay least.

    Brute force (coupons held are few): a coupon rejected on its own is rejected in any
    company too (thresholds and what is left only shrink), so only those that apply alone
    are combined. Every ordered subset up to ``max_coupons`` is priced while that is at most
    :data:`PERMUTATION_BUDGET` pricings, else every subset in the order held. A subset where
    any coupon is rejected is skipped (it equals a smaller one). Ties: more gift units, then
    fewer coupons, then the first found. () when no coupon helps.
    """
    if not isinstance(req, PricingRequest):
        raise ValueError(f"请求无效 req must be a PricingRequest: {req!r}")
    if "coupon" not in policy.stages or policy.max_coupons == 0 or not req.coupons:
        return ()
    best: tuple[CouponOffer, ...] = ()
    best_key = _key(price_order(replace(req, coupons=()), policy), 0)
    usable: list[CouponOffer] = []
    seen: set[str] = set()
    for coupon in req.coupons:
        if coupon.id in seen:
            continue
        seen.add(coupon.id)
        result = price_order(replace(req, coupons=(coupon,)), policy)
        if result.applied_coupons:
            usable.append(coupon)
            key = _key(result, 1)
            if key < best_key:
                best, best_key = (coupon,), key
    m, k = len(usable), min(policy.max_coupons, len(usable))
    ordered = sum(perm(m, r) for r in range(2, k + 1)) <= PERMUTATION_BUDGET
    for r in range(2, k + 1):
        chosen = permutations(usable, r) if ordered else combinations(usable, r)
        for combo in chosen:
            result = price_order(replace(req, coupons=combo), policy)
            if len(result.applied_coupons) != r:
                continue
            key = _key(result, r)
            if key < best_key:
                best, best_key = combo, key
    return tuple(c.id for c in best)
