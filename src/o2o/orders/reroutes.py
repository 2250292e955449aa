"""The order follows a re-route: the old shipment becomes ``rerouted`` and the new decision's
shipments join the order. Runs inside the re-route's transaction (``fulfilment.signals``), so
both commit together; it never locks the order row (the re-route already holds routed
shipment and stock locks, which come after the order's in the lock order).
"""

from __future__ import annotations

from datetime import timedelta

from o2o.core.orders import ShipmentStatus as SS
from o2o.fulfilment.models import RoutedShipment, RoutingDecision
from o2o.inventory.reservations import reservation_extend
from o2o.orders import history
from o2o.orders.actors import By
from o2o.orders.lifecycle import paid_hold_s
from o2o.orders.models import EventKind, Order, OrderStatus, Shipment, ShipmentStatus
from o2o.orders.placement import shipments_from_decision

TRIGGER_WORDS = {"store_rejected": "门店拒单 store rejected", "pick_short": "拣货缺货 short at picking",
                 "manual": "人工改派 manual"}


def on_shipment_rerouted(sender, decision: RoutingDecision, source_shipment: RoutedShipment,  # noqa: ANN001
                         **kwargs) -> None:
    shipment = Shipment.objects.filter(routed=source_shipment).first()
    if shipment is None:
        return  # a decision made through the routing API, not for an order
    order = Order.objects.get(pk=shipment.order_id)
    now = decision.created_at
    by = By(user_id=decision.created_by_id, label=decision.actor_label or "system:reroute")
    why = TRIGGER_WORDS.get(decision.trigger, decision.trigger)
    history.shipment_move(shipment, SS.REROUTED, by=by, now=now, follow=False,
                          reason=f"{why}; 改派见决策 #{decision.pk} re-routed, decision #{decision.pk}")
    paid = order.status != OrderStatus.PENDING_PAYMENT
    new = shipments_from_decision(order, decision, ShipmentStatus.ALLOCATED if paid else ShipmentStatus.PENDING, now)
    if paid:
        hold = now + timedelta(seconds=paid_hold_s())
        for s in new:
            reservation_id = s.routed.reservation_id if s.routed_id else None
            if reservation_id is not None:
                reservation_extend(reservation_id=reservation_id, expires_at=hold)
    for s in new:
        history.log(order, by=by, kind=EventKind.SHIPMENT, to_status=s.status, shipment=s, at=now,
                    reason=f"改派新发货 new shipment from {s.location_id} ({s.mode})")
    unfilled = decision.plan.get("unfilled") or []
    if unfilled:
        history.log(order, by=by, kind=EventKind.NOTE, at=now,
                    reason=f"无法改派的商品 lines no store can fill: {[(u['sku_id'], u['qty']) for u in unfilled]}")
        history.emit(order, "order.lines_unfilled", key=f"order:{order.pk}:unfilled:{decision.pk}",
                     decision_id=decision.pk, lines=unfilled)
