"""Which points campaign (积分活动) multiplies an order's points (``models_campaigns`` says the rules).

:func:`campaign_for_order` picks the campaign, :func:`earn_rule_for` gives the core's ``EarnRule`` with
that campaign's multiplier as an exact fraction, so the outbox handler's earning reads
``floor(paid yuan x channel rate x multiplier)``.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from o2o.core.loyalty import EarnRule
from o2o.members.models_campaigns import PointsCampaign
from o2o.orders.models import Order


def campaign_for_order(order: Order) -> PointsCampaign | None:
    """The active campaign with the highest multiplier whose window holds the order's placing time and
    whose channel and UTM campaign match the order (None: no campaign)."""
    found = (PointsCampaign.objects.filter(active=True, starts_at__lte=order.created_at, ends_at__gt=order.created_at)
             .order_by("-multiplier_percent", "pk"))
    return next((c for c in found if c.applies_to(order.channel, order.utm_campaign or "")), None)


def earn_rule_for(rule: EarnRule, campaign: PointsCampaign | None) -> EarnRule:
    if campaign is None:
        return rule
    return replace(rule, campaign_multipliers={campaign.code: Fraction(campaign.multiplier_percent, 100)})
