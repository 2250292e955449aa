"""The four stages and how they stack: configuration (:class:`StackingPolicy`), not code order.

The stages run in ``policy.stages`` order (default tier -> promotion -> coupon -> points);
a stage left out does not run at all. Each stage sees the lines **as the earlier stages left
them**: its thresholds, percentages and caps are taken over what is still to pay.

tier
    ``TierDiscount.percent`` % off all lines (rounded down over the whole base, split by
    what each line pays), adjustment kind ``"tier"``. With ``tier_on_promoted_lines=False``
    the lines a promotion already discounted are left out (so this matters only when
    "promotion" runs before "tier"). ``free_delivery`` waives the fee.
promotion
    Promotions whose scope admits the order (channel, store, tier), by ``priority`` (high
    first), ties by ``id``. One adjustment ``"promotion:<id>"`` each.

    * ``promotions="all"``: each applies in turn on its covered lines. An **exclusive**
      promotion works only on covered lines no earlier promotion discounted, and once it
      applies, the lines it worked on are taken: later promotions skip them. So priority
      decides between an exclusive promotion and the others.
    * ``promotions="best"``: each is evaluated alone on the current lines and only the one
      worth most (discount + waived fee) applies; ties go to the higher priority, then id. A
      gift-only promotion wins only when nothing gives money.
coupon
    The chosen coupons in the order chosen; one adjustment ``"coupon:<id>"`` each. Checks, in
    order, each failure a rejection with a bilingual reason: the same coupon twice,
    ``max_coupons`` already applied, a coupon of the same (non-empty) ``template_id`` already
    applied, the scope refusing the order, no covered line (or, with
    ``coupon_on_promoted_lines=False``, only lines a promotion discounted), then the offer's
    own reason (threshold not reached over what is left, too few units, nothing left, no fee).
    When the stage is not in the policy every coupon is rejected.
points
    ``max_deductible(min(balance, requested), base, policy.points)`` where ``base`` is what
    the goods still cost (plus the fee still charged if ``points_on_delivery``);
    ``requested=-1`` means as many as allowed. Points never pay the fee itself: the fen are
    cut to whole units within the goods left. Split over the lines by what each pays,
    adjustment kind ``"points"``.

Free delivery (tier, promotion or coupon) sets the fee to 0 once; later waivers find no fee.
A line that got any promotion discount counts as "promoted" for the two ``*_on_promoted_lines``
switches; a gift or a waiver does not discount a line.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from o2o.core.loyalty.deduction import max_deductible
from o2o.core.orders.checkout import Adjustment, allocate
from o2o.core.promotions.model import CouponOffer, Gift, PricingRequest, Promotion, StackingPolicy
from o2o.core.promotions.offers import Effect, FreeGift, spread
from o2o.core.promotions.scope import Scope

__all__ = [
    "COUPONS_OFF",
    "DUPLICATE",
    "NO_ITEMS",
    "ONLY_PROMOTED",
    "SAME_TEMPLATE",
    "STAGES",
    "Work",
    "too_many",
]

NO_ITEMS = "购物车中没有适用商品 No item in the cart qualifies"
ONLY_PROMOTED = "促销商品不可用券 Not valid on items already on promotion"
DUPLICATE = "同一张券不能重复使用 The same coupon was chosen twice"
SAME_TEMPLATE = "同类券不可叠加 Coupons of the same kind do not stack"
COUPONS_OFF = "本单不可用券 Coupons cannot be used on this order"


def too_many(limit: int) -> str:
    return f"每单最多用{limit}张券 At most {limit} coupon(s) per order"


class Work:
    """The cart while it is being priced: what each line still pays, what was applied so far."""

    __slots__ = (
        "adjustments",
        "applied_coupons",
        "applied_promotions",
        "fee",
        "gifts",
        "items",
        "payables",
        "points_fen",
        "points_used",
        "policy",
        "promoted",
        "qtys",
        "rejected",
        "req",
        "skus",
        "taken",
        "waiver",
    )

    def __init__(self, req: PricingRequest, policy: StackingPolicy) -> None:
        items = req.items
        n = len(items)
        self.req = req
        self.policy = policy
        self.items = items
        self.payables = [it.unit_price_fen * it.qty for it in items]
        self.qtys = tuple(it.qty for it in items)
        self.skus = tuple(it.sku_id for it in items)
        self.promoted = [False] * n  # a promotion discounted the line
        self.taken = [False] * n  # an exclusive promotion holds the line
        self.fee = req.delivery_fee_fen
        self.waiver: str | None = None  # the label of what waived the fee
        self.adjustments: list[Adjustment] = []
        self.applied_promotions: list[str] = []
        self.applied_coupons: list[str] = []
        self.rejected: list[tuple[str, str]] = []
        self.gifts: list[Gift] = []
        self.points_used = 0
        self.points_fen = 0

    def covered(self, scope: Scope) -> list[int]:
        covers = scope.covers
        return [i for i, item in enumerate(self.items) if covers(item)]

    def discount(self, kind: str, label: str, parts: Sequence[int]) -> tuple[int, ...]:
        """Take ``parts`` off the lines (each cut to what the line still pays); record the adjustment."""
        pay = self.payables
        given = tuple(min(part, pay[i]) for i, part in enumerate(parts))
        amount = sum(given)
        if amount:
            for i, part in enumerate(given):
                pay[i] -= part
            self.adjustments.append(Adjustment(kind, label, amount, given))
        return given

    def waive(self, label: str) -> None:
        if self.fee > 0:
            self.fee = 0
            self.waiver = label

    def take_effect(
        self, kind: str, label: str, source: str, offer: object, effect: Effect
    ) -> tuple[int, ...]:
        given: tuple[int, ...] = ()
        if effect.parts is not None:
            given = self.discount(kind, label, effect.parts)
        if effect.waive:
            self.waive(label)
        if effect.gift and isinstance(offer, FreeGift):
            self.gifts.append(Gift(offer.sku_id, offer.qty, source))
        return given


def _tier_label(percent: int) -> str:
    return f"会员{100 - percent}折 Member {percent}% off"


def tier_stage(w: Work) -> None:
    tier = w.req.tier
    if tier.percent:
        n = len(w.items)
        if w.policy.tier_on_promoted_lines:
            idxs: Sequence[int] = range(n)
        else:
            idxs = [i for i in range(n) if not w.promoted[i]]
        base = sum(w.payables[i] for i in idxs)
        effect = spread(base * tier.percent // 100, w, idxs)
        if effect.parts is not None:
            w.discount("tier", tier.label or _tier_label(tier.percent), effect.parts)
    if tier.free_delivery:
        w.waive(tier.label or "会员免配送费 Member free delivery")


def _order_ok(w: Work, scope: Scope) -> str | None:
    req = w.req
    return scope.order_ok(channel=req.channel, store_id=req.store_id, tier=req.tier.tier)


def _apply_promotion(w: Work, promo: Promotion, effect: Effect) -> None:
    given = w.take_effect(f"promotion:{promo.id}", promo.label, promo.id, promo.offer, effect)
    for i, part in enumerate(given):
        if part:
            w.promoted[i] = True
    w.applied_promotions.append(promo.id)


def promotion_stage(w: Work) -> None:
    candidates = sorted(
        (p for p in w.req.promotions if _order_ok(w, p.scope) is None), key=lambda p: (-p.priority, p.id)
    )
    if w.policy.promotions == "best":
        best: tuple[Promotion, Effect] | None = None
        best_value = -1
        for promo in candidates:
            idxs = w.covered(promo.scope)
            if not idxs:
                continue
            effect = promo.offer.evaluate(w, idxs)
            if effect.reason is not None:
                continue
            value = effect.amount + (w.fee if effect.waive else 0)
            if value > best_value:
                best, best_value = (promo, effect), value
        if best is not None:
            _apply_promotion(w, *best)
        return
    taken, promoted = w.taken, w.promoted
    for promo in candidates:
        exclusive = promo.exclusive
        idxs = [i for i in w.covered(promo.scope) if not taken[i] and not (exclusive and promoted[i])]
        if not idxs:
            continue
        effect = promo.offer.evaluate(w, idxs)
        if effect.reason is not None:
            continue
        _apply_promotion(w, promo, effect)
        if exclusive:
            for i in idxs:
                taken[i] = True


def _coupon_reason(w: Work, coupon: CouponOffer, seen: set[str], templates: set[str]) -> str | Effect:
    """Why ``coupon`` is rejected, or the effect it has."""
    policy = w.policy
    if coupon.id in seen:
        return DUPLICATE
    seen.add(coupon.id)
    if len(w.applied_coupons) >= policy.max_coupons:
        return too_many(policy.max_coupons)
    if coupon.template_id and coupon.template_id in templates:
        return SAME_TEMPLATE
    reason = _order_ok(w, coupon.scope)
    if reason is not None:
        return reason
    idxs = w.covered(coupon.scope)
    if not idxs:
        return NO_ITEMS
    if not policy.coupon_on_promoted_lines:
        idxs = [i for i in idxs if not w.promoted[i]]
        if not idxs:
            return ONLY_PROMOTED
    effect = coupon.offer.evaluate(w, idxs)
    return effect if effect.reason is None else effect.reason


def coupon_stage(w: Work) -> None:
    seen: set[str] = set()
    templates: set[str] = set()
    for coupon in w.req.coupons:
        outcome = _coupon_reason(w, coupon, seen, templates)
        if isinstance(outcome, str):
            w.rejected.append((coupon.id, outcome))
            continue
        w.take_effect(f"coupon:{coupon.id}", coupon.label, coupon.id, coupon.offer, outcome)
        w.applied_coupons.append(coupon.id)
        if coupon.template_id:
            templates.add(coupon.template_id)


def points_stage(w: Work) -> None:
    req, policy = w.req, w.policy
    rule = policy.points
    wanted = (
        req.points_balance if req.points_requested == -1 else min(req.points_balance, req.points_requested)
    )
    if wanted <= 0:
        return
    goods_left = sum(w.payables)
    base = goods_left + (w.fee if policy.points_on_delivery else 0)
    points, fen = max_deductible(wanted, base, rule)
    if fen > goods_left:  # the fee raised the cap, but points pay goods only: whole units within them
        unit_points, unit_fen = rule.unit
        units = goods_left // unit_fen
        points, fen = units * unit_points, units * unit_fen
    if fen == 0:
        return
    w.discount("points", f"积分抵扣 Points: {points}", allocate(fen, w.payables))
    w.points_used, w.points_fen = points, fen


STAGES: dict[str, Callable[[Work], None]] = {
    "tier": tier_stage,
    "promotion": promotion_stage,
    "coupon": coupon_stage,
    "points": points_stage,
}
