"""Promotions: the pure pricing and promotion engine (tier, promotions, coupons, points, delivery).

One deterministic function, :func:`price_order`, takes the cart (:class:`Item` lines at the
resolved shelf price), the member's tier benefit, the channel and store, the promotions in
force, the coupons the member chose and the points they want to use, and returns a
:class:`PricingResult`: an :class:`o2o.core.orders.Totals` (the same class the checkout
stores) with every line's final price, plus what was applied, which coupons were rejected
and why, the points used, gifts and whether the delivery fee was waived.

Pure core (standard library plus :mod:`o2o.core.orders` and :mod:`o2o.core.loyalty`): no
Django, no I/O, no clock, no randomness.

The rules, in one place (details in the modules):

* **Stacking is configuration** (:class:`StackingPolicy`, :mod:`.stages`): which stages run
  and in what order (default tier -> promotion -> coupon -> points), all promotions by
  priority or only the best one, exclusive promotions, how many coupons, whether coupons and
  the tier discount reach lines already on promotion, the points rule and its cap.
* **Each stage sees what the previous ones left**: thresholds (满减), percentages and the
  points cap are taken over what the covered lines still have to pay.
* **Allocation** (:mod:`.offers`): every discount is split over the lines in whole fen
  (largest remainder by what each line pays; unit offers on the units' own lines), so each
  line's ``payable`` is what it really cost and partial refunds with
  :func:`o2o.core.orders.refund_for` return exactly what was paid.
* **Rounding**: integer fen throughout; a percentage is rounded down (never a fen more than
  the rule grants); parts always sum exactly; no line ever goes below 0.
* **Zero-yuan orders** are allowed on purpose: a fully covered order totals ¥0.00.
* **Scope** (:mod:`.scope`): channel, store and tier gate the order; SKUs and categories
  (with ancestors) pick the lines; exclusions always win.

:func:`best_coupons` pre-selects the coupons that make the customer pay least.

Note: :class:`PercentOff` here is an *offer* (``percent``, ``cap_fen``, ``threshold_fen``),
not the pricing step of the same name in :mod:`o2o.core.orders`.
"""

from o2o.core.promotions.engine import DEFAULT_POLICY, PERMUTATION_BUDGET, best_coupons, price_order
from o2o.core.promotions.model import (
    STAGE_NAMES,
    CouponOffer,
    Gift,
    PricingRequest,
    PricingResult,
    Promotion,
    StackingPolicy,
    TierDiscount,
)
from o2o.core.promotions.offers import (
    AmountOff,
    BuyXGetY,
    Effect,
    FixedPrice,
    FreeDelivery,
    FreeGift,
    Offer,
    PercentOff,
    ServiceVoucher,
    TieredAmountOff,
)
from o2o.core.promotions.scope import Item, Scope

__all__ = [
    "DEFAULT_POLICY",
    "PERMUTATION_BUDGET",
    "STAGE_NAMES",
    "AmountOff",
    "BuyXGetY",
    "CouponOffer",
    "Effect",
    "FixedPrice",
    "FreeDelivery",
    "FreeGift",
    "Gift",
    "Item",
    "Offer",
    "PercentOff",
    "PricingRequest",
    "PricingResult",
    "Promotion",
    "Scope",
    "ServiceVoucher",
    "StackingPolicy",
    "TierDiscount",
    "TieredAmountOff",
    "best_coupons",
    "price_order",
]
