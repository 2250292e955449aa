"""Row locks for orders, always taken first (before routed shipments, stock rows and shipments).

The lock order across the apps: order -> routed shipment -> stock (location, SKU) -> order
shipment. A re-route (which starts at a routed shipment) never locks the order row.
"""

from __future__ import annotations

from django.db import connection

from o2o.common.errors import NotFound
from o2o.orders.models import Order


def lock_order(order_id: int) -> Order:
    qs = Order.objects.filter(pk=order_id)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",), no_key=True)
    order = qs.first()
    if order is None:
        raise NotFound("订单不存在 Unknown order", code="unknown_order", details={"order_id": order_id})
    return order
