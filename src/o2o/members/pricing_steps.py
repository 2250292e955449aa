"""Tier benefits at checkout: a pricing step (``O2O["PRICING_STEPS"]``) for the tier discount and free delivery.

List it first (a tier discount applies to the shelf price, before coupons and points)::

    "PRICING_STEPS": ["o2o.members.pricing_steps.TierBenefits"],

* ``discount``: ``discount_percent`` % off what the lines still have to pay, rounded down and
  split over the lines in proportion (the core's :class:`~o2o.core.orders.PercentOff`: largest
  remainder, exact in fen), labelled e.g. ``黄金会员95折 Gold member 5% off``. None for a
  visitor (no ``member_id`` in the context) or a tier without a discount.
* ``free_delivery(context)``: True when the member's tier waives the delivery fee. Steps only
  discount goods, so the checkout asks every step that has this method before it adds the fee
  (``o2o.orders.pricing``).

The member's tier is read once per step object (one small query; ``price_basket`` makes new
step objects for each basket it prices).
"""

from __future__ import annotations

from collections.abc import Mapping

from o2o.core.loyalty import Benefits, Tier
from o2o.core.orders import Adjustment, PercentOff, PricedLine
from o2o.members.tiers import LABEL_EN, current_tier, tier_policy


def zhe(percent: int) -> str:
    """Chinese discount wording: 5 % off -> "95折", 10 % off -> "9折", 15 % off -> "85折"."""
    rest = 100 - percent
    return f"{rest // 10}折" if rest % 10 == 0 else f"{rest}折"


class TierBenefits:
    name = "tier"

    def __init__(self) -> None:
        self._seen: dict[object, tuple[Tier, Benefits] | None] = {}

    def _tier(self, context: Mapping[str, object]) -> tuple[Tier, Benefits] | None:
        member_id = context.get("member_id")
        if not isinstance(member_id, int) or isinstance(member_id, bool):
            return None
        if member_id not in self._seen:
            tier = current_tier(member_id)
            self._seen[member_id] = (tier, tier_policy().benefits[tier])
        return self._seen[member_id]

    def discount(self, lines: tuple[PricedLine, ...], context: Mapping[str, object]) -> Adjustment | None:
        found = self._tier(context)
        if found is None or found[1].discount_percent == 0:
            return None
        tier, benefits = found
        p = benefits.discount_percent
        label = f"{tier.label}{zhe(p)} {LABEL_EN[tier]} {p}% off"
        return PercentOff(self.name, p, label).discount(lines, context)

    def free_delivery(self, context: Mapping[str, object]) -> bool:
        found = self._tier(context)
        return found is not None and found[1].free_delivery


def tier_terms(member_id: object) -> tuple[str, str, int, bool] | None:
    """(tier code, label, discount percent, free delivery) of a member's tier, for pricing engines; None
    for a visitor. The label reads like the step's: ``黄金会员95折 Gold member 5% off``."""
    found = TierBenefits()._tier({"member_id": member_id})
    if found is None:
        return None
    tier, benefits = found
    p = benefits.discount_percent
    label = f"{tier.label}{zhe(p)} {LABEL_EN[tier]} {p}% off" if p else f"{tier.label} {LABEL_EN[tier]}"
    return tier.value, label, p, benefits.free_delivery
