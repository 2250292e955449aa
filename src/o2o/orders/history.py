"""Every status change of an order or a shipment goes through here: checked against the core's
state machine, applied with a conditional UPDATE (so two racing requests cannot both move it),
recorded in the order's history and announced in the outbox, all in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.core.orders import IllegalTransition, check_order, check_shipment, order_status_for
from o2o.core.orders import OrderStatus as S
from o2o.core.orders import ShipmentMode as M
from o2o.core.orders import ShipmentStatus as SS
from o2o.orders.actors import By
from o2o.orders.models import EventKind, Order, OrderEvent, Shipment
from o2o.outbox.services import event_emit

# Order statuses announced in the outbox (notifications, webhooks, later analytics).
TOPICS = {S.PAID: "order.paid", S.ALLOCATED: "order.allocated", S.READY_FOR_PICKUP: "order.ready_for_pickup",
          S.OUT_FOR_DELIVERY: "order.out_for_delivery", S.SHIPPED: "order.shipped", S.COMPLETED: "order.completed",
          S.CANCELLED: "order.cancelled", S.EXPIRED: "order.expired", S.REFUNDED: "order.refunded"}


def illegal(exc: IllegalTransition, **details: Any) -> Conflict:
    return Conflict(str(exc), code="illegal_transition",
                    details={"kind": exc.kind, "from": str(exc.current), "to": str(exc.target), **details})


def log(order: Order, *, by: By, kind: str, from_status: str = "", to_status: str = "", reason: str = "",
        shipment: Shipment | None = None, at: datetime | None = None) -> OrderEvent:
    return OrderEvent.objects.create(order=order, shipment=shipment, kind=kind, from_status=from_status,
                                     to_status=to_status, reason=reason[:200], actor_label=by.label[:100],
                                     user_id=by.user_id, member_id=by.member_id, at=at or timezone.now())


def emit(order: Order, topic: str, *, key: str | None = None, **payload: Any) -> None:
    event_emit(topic=topic, aggregate="order", aggregate_id=order.pk, key=key,
               payload={"order_id": order.pk, "number": order.number, "status": order.status,
                        "member_id": order.member_id, "channel": order.channel, **payload})


def order_move(order: Order, target: S, *, by: By, reason: str = "", now: datetime | None = None,
               **fields: Any) -> Order:
    """Move ``order`` to ``target`` (checked, conditional, recorded, announced). 409 when illegal or
    when another request moved it first; ``fields`` are written in the same UPDATE."""
    assert transaction.get_connection().in_atomic_block, "order_move needs the caller's transaction"
    now = now or timezone.now()
    current = S(order.status)
    try:
        check_order(current, target)
    except IllegalTransition as exc:
        raise illegal(exc, order_id=order.pk, number=order.number) from None
    won = Order.objects.filter(pk=order.pk, status=current).update(status=target.value, updated_at=now, **fields)
    if not won:
        fresh = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
        raise Conflict("订单状态已变化，请刷新 The order changed meanwhile; reload it", code="order_changed",
                       details={"order_id": order.pk, "status": fresh, "expected": current.value})
    order.status = target.value
    order.updated_at = now
    for k, v in fields.items():
        setattr(order, k, v)
    log(order, by=by, kind=EventKind.ORDER, from_status=current.value, to_status=target.value, reason=reason, at=now)
    if target in TOPICS:
        emit(order, TOPICS[target], key=f"order:{order.pk}:{target.value}", previous=current.value, reason=reason)
    return order


def shipment_move(shipment: Shipment, target: SS, *, by: By, reason: str = "", now: datetime | None = None,
                  follow: bool = True, order: Order | None = None, **fields: Any) -> Shipment:
    """Move a shipment (checked against its mode's table, conditional, recorded); then the order
    follows its shipments (``follow``)."""
    now = now or timezone.now()
    current = SS(shipment.status)
    try:
        check_shipment(M(shipment.mode), current, target)
    except IllegalTransition as exc:
        raise illegal(exc, shipment_id=shipment.pk, mode=shipment.mode) from None
    won = Shipment.objects.filter(pk=shipment.pk, status=current).update(status=target.value, status_changed_at=now,
                                                                         **fields)
    if not won:
        fresh = Shipment.objects.filter(pk=shipment.pk).values_list("status", flat=True).first()
        raise Conflict("发货单状态已变化，请刷新 The shipment changed meanwhile; reload it", code="shipment_changed",
                       details={"shipment_id": shipment.pk, "status": fresh, "expected": current.value})
    shipment.status = target.value
    shipment.status_changed_at = now
    for k, v in fields.items():
        setattr(shipment, k, v)
    if order is None or order.pk != shipment.order_id:  # the caller's (locked, current) order saves a read
        order = Order.objects.get(pk=shipment.order_id)
    log(order, by=by, kind=EventKind.SHIPMENT, from_status=current.value, to_status=target.value, reason=reason,
        shipment=shipment, at=now)
    if follow:  # the order's own event names no shipment detail (other stores see order events)
        order_follow(order, by=by, reason=f"发货单 #{shipment.pk} {target.value} shipment #{shipment.pk} {target.value}",
                     now=now)
    return shipment


def order_follow(order: Order, *, by: By, reason: str = "", now: datetime | None = None) -> Order:
    """Set the order's status from its shipments (core ``order_status_for``), if that changes it."""
    now = now or timezone.now()
    pairs = [(M(m), SS(s)) for m, s in Shipment.objects.filter(order=order).values_list("mode", "status")]
    target = order_status_for(S(order.status), pairs)
    if target.value == order.status:
        return order
    extra: dict[str, Any] = {}
    if target is S.COMPLETED:
        extra["completed_at"] = now
    return order_move(order, target, by=by, reason=reason or "跟随发货状态 follows its shipments", now=now, **extra)
