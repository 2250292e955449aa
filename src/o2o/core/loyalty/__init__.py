"""Loyalty: the points ledger (积分) and member tiers (会员等级).

Pure core (standard library only): no Django, no I/O, no clock (``now`` is passed in, always
an aware datetime). Money is integer fen, points are integers. The Django members app wraps
it: it loads a member's :class:`Ledger`, calls an operation, and stores the new lots and
the returned entries in one transaction with the member row locked.

* :mod:`.points` -- earn, spend (oldest expiry first), expire, reverse an earning, restore
  a spend; :mod:`.lots` holds the types, :mod:`.audit` the :func:`check` behind
  ``o2o check-points``.
* :mod:`.earning` -- points per yuan per channel and campaign, points for actions.
* :mod:`.expiry` -- when lots expire (default: end of the year after the year earned).
* :mod:`.deduction` -- points as cash at checkout, capped at a share of the order.
* :mod:`.tiers` -- 普通/白银/黄金/钻石: thresholds, benefits, upgrade at once, monthly review.
* :mod:`.dates` -- local (China) calendar arithmetic.
"""

from o2o.core.loyalty.audit import check
from o2o.core.loyalty.dates import CHINA_TZ, add_months, local_day_start
from o2o.core.loyalty.deduction import Deduction, DeductionRule, max_deductible
from o2o.core.loyalty.earning import Action, ActionRule, EarnRule, earn_for_action, earn_for_order
from o2o.core.loyalty.expiry import DEFAULT_EXPIRY, ExpiryKind, ExpiryPolicy
from o2o.core.loyalty.lots import DuplicateReference, Entry, EntryKind, InsufficientPoints, Ledger, Lot, Spend
from o2o.core.loyalty.points import EXPIRY_REF, earn, expire, refund_spend, reverse_earning, spend
from o2o.core.loyalty.tiers import (
    DEFAULT_TIER_POLICY,
    TIER_ORDER,
    Basis,
    Benefits,
    ChangeReason,
    Tier,
    TierChange,
    TierMetrics,
    TierPolicy,
    monthly_review,
    protected_until,
    spend_12m,
    tier_after_order,
)

__all__ = [
    "CHINA_TZ",
    "DEFAULT_EXPIRY",
    "DEFAULT_TIER_POLICY",
    "EXPIRY_REF",
    "TIER_ORDER",
    "Action",
    "ActionRule",
    "Basis",
    "Benefits",
    "ChangeReason",
    "Deduction",
    "DeductionRule",
    "DuplicateReference",
    "EarnRule",
    "Entry",
    "EntryKind",
    "ExpiryKind",
    "ExpiryPolicy",
    "InsufficientPoints",
    "Ledger",
    "Lot",
    "Spend",
    "Tier",
    "TierChange",
    "TierMetrics",
    "TierPolicy",
    "add_months",
    "check",
    "earn",
    "earn_for_action",
    "earn_for_order",
    "expire",
    "local_day_start",
    "max_deductible",
    "monthly_review",
    "protected_until",
    "refund_spend",
    "reverse_earning",
    "spend",
    "spend_12m",
    "tier_after_order",
]
