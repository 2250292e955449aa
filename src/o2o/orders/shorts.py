"""A POS sale (or a count) shorted an order's hold: re-route the shipment, settle what it implies.

Fulfilment hands order shipments to this module (``fulfilment.ownership``) instead of
re-routing them itself, because only the order center knows what a re-route means for the
order, and the order row must be locked first (the lock order: order -> routed shipment ->
stock -> shipment). In one transaction:

1. lock the order; the shipment must still be open for re-routing (pending, allocated,
   picking) and its hold shorted (fulfilment's ``shipment_reroute_short`` checks and moves
   its lines to other stores; ``reroutes`` adds the new shipments to the order);
2. lines nobody else can fill: an unpaid order is cancelled whole (the customer has paid
   nothing and can order again: charging for what we cannot deliver is worse); a paid one
   has those lines refunded, or is cancelled and refunded whole when nothing is left
   (``pickup.refund_dropped``);
3. the order follows its shipments.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from o2o.core.orders import OrderStatus as S
from o2o.fulfilment.models import RoutingDecision
from o2o.fulfilment.ownership import Owner
from o2o.fulfilment.reroute import shipment_reroute_short
from o2o.orders import history, lifecycle, pickup
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import AlertKind, EventKind, Shipment, ShipmentStatus

log = logging.getLogger("o2o.orders")

OPEN_FOR_REROUTE = (ShipmentStatus.PENDING, ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING)
WHY = "拣货缺货：门店库存已售出 short: the store sold the held stock"


def order_shipment_shorted(routed_shipment_id: int) -> RoutingDecision | None:
    """Re-route the order shipment of a shorted routed shipment; None when there is nothing to do."""
    by = system("pick_short")
    order_id = Shipment.objects.filter(routed_id=routed_shipment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        return None
    with transaction.atomic():
        order = lock_order(order_id)
        shipment = Shipment.objects.get(routed_id=routed_shipment_id)
        if shipment.status not in OPEN_FOR_REROUTE:
            # Packed or waiting at the counter: too late to move it; the store must know at once.
            if shipment.status in (ShipmentStatus.READY_FOR_PICKUP, ShipmentStatus.AWAITING_COURIER):
                _alert_packed(order, shipment, by)
            return None
        decision = shipment_reroute_short(routed_shipment_id)
        if decision is None:
            return None
        now = timezone.now()
        order.refresh_from_db()
        unfilled = pickup.units_of(decision.plan.get("unfilled") or [])
        if unfilled and order.status == S.PENDING_PAYMENT:
            lifecycle.order_cancel(order_id=order.pk, by=by, reason=f"{WHY}；部分商品无货 some lines are sold out",
                                   now=now)
        elif unfilled:
            pickup.refund_dropped(order, unfilled, by=by, reason=WHY, now=now)
        elif order.status != S.PENDING_PAYMENT:
            history.order_follow(order, by=by, reason=WHY, now=now)
        return decision


def _alert_packed(order, shipment: Shipment, by) -> None:  # noqa: ANN001
    """A till sold stock this packed shipment was holding: alert the store once, note it on the order."""
    from o2o.orders.delivery import raise_alert  # noqa: PLC0415 - delivery imports placement, like this module

    message = (f"订单 {order.number} 已打包的商品被门店售出，请核对库存 goods packed for order {order.number} "
               f"were sold at the till; check the shelf")
    if raise_alert(shipment, AlertKind.HOLD_LOST, key=f"hold_lost:{shipment.pk}", message=message, order=order):
        history.log(order, by=by, kind=EventKind.NOTE, shipment=shipment, reason=message[:200])


def owns(routed_shipment_id: int) -> bool:
    return Shipment.objects.filter(routed_id=routed_shipment_id).exists()


def owns_reservation(reservation_id: int) -> bool:
    return Shipment.objects.filter(routed__reservation_id=reservation_id).exists()


OWNER = Owner(name="orders", owns=owns, reroute_short=order_shipment_shorted)
