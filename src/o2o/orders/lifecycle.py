"""An order's payment-side life: paid (then allocated to its stores), cancelled, expired.

* ``order_paid``: the payment service calls it once the gateway confirmed the money; the
  shipments go from ``pending`` to ``allocated`` and their holds are extended until picked.
* ``order_cancel``: the customer (before picking) or staff (before anything left a store):
  every open shipment's reservation goes back to stock, and paid money is refunded.
* ``orders_expire``: unpaid orders past their payment deadline (the periodic job).

Every function takes the order row lock first (``locks``), then routed shipments and stock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict
from o2o.core.orders import TERMINAL_ORDER
from o2o.core.orders import OrderStatus as S
from o2o.core.orders import ShipmentStatus as SS
from o2o.fulfilment.handover import routed_shipment_release
from o2o.fulfilment.models import RoutedShipment
from o2o.inventory.reservations import reservation_extend
from o2o.orders import history
from o2o.orders.actors import By, system
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    CodeStatus,
    EventKind,
    Order,
    Payment,
    PaymentStatus,
    PickupCode,
    Shipment,
    ShipmentStatus,
)

log = logging.getLogger("o2o.orders")

PAID_HOLD_S = 7 * 24 * 3600
# Shipment statuses whose goods are still in the store (a cancel can put them back).
CANCELLABLE_SHIPMENTS = {SS.PENDING, SS.ALLOCATED, SS.PICKING, SS.READY_FOR_PICKUP, SS.AWAITING_COURIER}
# What a member may cancel themselves: before the store starts picking.
MEMBER_CANCELLABLE = {S.PENDING_PAYMENT, S.PAID, S.ALLOCATED}

# The refund hook, set by the payments module at start-up (``OrdersConfig.ready``; it needs the
# gateways): refunder(order, amount_fen, reason, by, order_return) in the caller's transaction,
# order row locked.
Refunder = Callable[..., object]
_refunder: list[Refunder] = []


def set_refunder(fn: Refunder) -> None:
    _refunder[:] = [fn]


def refund(order: Order, amount_fen: int, reason: str, by: By, *, order_return: object = None) -> None:
    """Return ``amount_fen`` of what the order paid (caller's transaction, order row locked)."""
    if amount_fen <= 0:
        return
    if not _refunder:
        raise Conflict("退款服务未配置 No refund service configured", code="refunds_unavailable")
    _refunder[0](order, amount_fen, reason, by, order_return=order_return)


def paid_hold_s() -> int:
    return int(settings.O2O.get("ORDER_PAID_HOLD_S", PAID_HOLD_S))


def order_paid(order: Order, *, amount_fen: int, by: By, now: datetime | None = None) -> Order:
    """The money arrived (caller's transaction, order row locked): paid, then allocated."""
    now = now or timezone.now()
    history.order_move(order, S.PAID, by=by, reason="支付成功 payment received", now=now, paid_at=now,
                       paid_fen=amount_fen)
    hold = now + timedelta(seconds=paid_hold_s())
    if order.hold and order.hold_until is not None:  # held (a group deal not yet full): keep it until then
        hold = max(hold, order.hold_until)
    for shipment in Shipment.objects.filter(order=order, status=ShipmentStatus.PENDING).order_by("pk"):
        if shipment.routed_id is not None:
            reservation_id = RoutedShipment.objects.filter(pk=shipment.routed_id).values_list(
                "reservation_id", flat=True).first()
            if reservation_id is not None and not reservation_extend(reservation_id=reservation_id, expires_at=hold):
                # The hold was lost (a POS sale shorted it: the short handler re-routes it). Say so.
                history.log(order, by=by, kind=EventKind.NOTE, shipment=shipment, at=now,
                            reason="支付时该发货单的库存预占已失效 the hold had lapsed when the payment arrived")
        history.shipment_move(shipment, SS.ALLOCATED, by=by, reason="已支付，待门店拣货 paid; waiting for the store",
                              now=now, follow=False, order=order)
    return history.order_follow(order, by=by, reason="门店已分配 allocated to its stores", now=now)


def release_shipment(shipment: Shipment, target: SS, *, by: By, reason: str, now: datetime) -> None:
    """Put an open shipment's goods back (its reservation) and close it as ``target``."""
    if shipment.routed_id is not None:
        routed_shipment_release(routed_id=shipment.routed_id, who=by.who, reason=reason)
    history.shipment_move(shipment, target, by=by, reason=reason, now=now, follow=False)


def order_cancel(*, order_id: int, by: By, reason: str, member_id: int | None = None,
                 now: datetime | None = None) -> Order:
    """Cancel an order whose goods are all still in the stores; refund what was paid.

    ``member_id``: a member cancelling their own order (only before picking). 409
    ``illegal_transition`` otherwise; cancelling a cancelled order is a 409 too (the API's
    idempotency key makes a retried cancel answer the first response).
    """
    now = now or timezone.now()
    with transaction.atomic():
        order = lock_order(order_id)
        status = S(order.status)
        shipments = list(Shipment.objects.filter(order=order).order_by("location_id", "pk"))
        open_ = [s for s in shipments if SS(s.status) not in (SS.CANCELLED, SS.REROUTED)]
        # A member may cancel only while no store has started on any shipment (the order's status
        # shows the least advanced one, so look at every shipment).
        started = [s.pk for s in open_ if SS(s.status) not in (SS.PENDING, SS.ALLOCATED)]
        if member_id is not None and status not in TERMINAL_ORDER and (status not in MEMBER_CANCELLABLE or started):
            raise Conflict("门店已开始备货，请联系客服 The store is already preparing this order; ask customer service",
                           code="too_late_to_cancel", details={"order_id": order.pk, "status": status.value})
        gone = [s.pk for s in open_ if SS(s.status) not in CANCELLABLE_SHIPMENTS]
        if gone:
            raise Conflict("部分商品已离店，请走退货 Some goods already left the store; use a return instead",
                           code="goods_left_store", details={"order_id": order.pk, "shipment_ids": gone})
        history.order_move(order, S.CANCELLED, by=by, reason=reason, now=now, cancelled_at=now,
                           cancel_reason=reason[:200])
        from o2o.orders.delivery import tasks_cancel  # noqa: PLC0415 - delivery imports this module

        for s in open_:
            if s.status == SS.AWAITING_COURIER:  # call the rider off (after the commit)
                tasks_cancel(s, by=by, reason=f"订单取消 order cancelled: {reason}", now=now)
            # The stock ledger is append-only: it gets a fixed reason, never text a person typed (PIPL
            # erasure could not scrub it); the typed reason stays on the order and its history.
            release_shipment(s, SS.CANCELLED, by=by, reason="订单取消 order cancelled", now=now)
        PickupCode.objects.filter(shipment__order=order, status=CodeStatus.LIVE).update(status=CodeStatus.VOID)
        # An open trade is closed here; one the customer pays anyway is refunded as a late payment.
        Payment.objects.filter(order=order, status=PaymentStatus.CREATED).update(status=PaymentStatus.CLOSED)
        refund(order, order.paid_fen - order.refunded_fen, f"订单取消 order cancelled: {reason}", by)
        return order


def order_expire(order_id: int, *, now: datetime | None = None) -> bool:
    """Expire one unpaid order past its deadline (its own transaction); False when it is no longer due."""
    now = now or timezone.now()
    by = system("expire")
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status != S.PENDING_PAYMENT or order.payment_deadline is None or order.payment_deadline > now:
            return False
        history.order_move(order, S.EXPIRED, by=by, reason="超时未支付 not paid in time", now=now, cancelled_at=now,
                           cancel_reason="超时未支付 not paid in time")
        # Released in location order: stock rows are locked in (location, SKU) order across shipments.
        for s in Shipment.objects.filter(order=order, status=ShipmentStatus.PENDING).order_by("location_id", "pk"):
            release_shipment(s, SS.CANCELLED, by=by, reason="订单超时未支付 order not paid in time", now=now)
        Payment.objects.filter(order=order, status=PaymentStatus.CREATED).update(status=PaymentStatus.CLOSED)
        return True


def orders_expire(*, now: datetime | None = None, limit: int = 500) -> int:
    """Expire every due unpaid order, one transaction each; safe to run in several processes."""
    now = now or timezone.now()
    due = (Order.objects.filter(status=S.PENDING_PAYMENT, payment_deadline__lte=now)
           .order_by("payment_deadline").values_list("pk", flat=True)[:limit])
    done = 0
    for pk in list(due):
        try:
            done += order_expire(pk, now=now)
        except (ApiError, DatabaseError):
            log.exception("could not expire order %s", pk)
    return done
