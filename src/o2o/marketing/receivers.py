"""Taking what an order's price relied on, in the order's own transaction (``orders.signals.order_priced``):
the coupons it used (``available -> used``) and the points it deducted (a spend with ref
``order:<id>:deduct``). The order's destination becomes the member's latest place seen (for the
3 km campaigns, ``nearby``). If either is gone by now (used at a counter a moment ago, points spent on
another order), the receiver raises 409 and the whole order rolls back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver

from o2o.marketing.nearby import reach_set
from o2o.marketing.redemption import coupons_use_for_order
from o2o.members.points import points_spend
from o2o.orders.models import Order
from o2o.orders.signals import order_priced


def deduct_ref(order_id: int) -> str:
    return f"order:{order_id}:deduct"


@receiver(order_priced, dispatch_uid="marketing.take_coupons_and_points")
def take_coupons_and_points(sender: type, order: Order, extras: dict[str, Any], now: datetime,
                            **_: Any) -> None:
    if order.member_id is None:
        return
    if order.dest_lat is not None and order.dest_lng is not None:
        reach_set(order.member_id, lat=order.dest_lat, lng=order.dest_lng, kind="recent", now=now)
    coupon_ids = extras.get("coupon_ids") or []
    if coupon_ids:
        coupons_use_for_order(order, list(coupon_ids), now)
    points = extras.get("points_used") or 0
    if points > 0:
        points_spend(order.member_id, points, deduct_ref(order.pk), now)
