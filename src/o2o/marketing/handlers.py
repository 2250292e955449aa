"""Giving back coupons and points when an order does not stand, or not all of it (an outbox handler: list
``"o2o.marketing.handlers.on_order_event"`` in ``O2O["OUTBOX_HANDLERS"]``).

* ``order.cancelled``, ``order.expired``, ``order.refunded`` (a pickup past its deadline that is
  cancelled arrives as one of these; one the store keeps changes nothing): the order's coupons come back
  to the member if still valid (``redemption.coupons_return_for_order``), and every point it deducted is
  restored.
* Any partial refund of goods (``order.refunded_lines``: a return; ``order.refund_created`` /
  ``order.pickup_expired``: units a store could not fill, a pickup shipment never collected): the points
  come back in proportion to the goods refunded, read from the order's lines (the delivery fee and
  refunds of duplicate payments do not count), cumulatively: ``floor(points_used x refunded goods / paid
  goods)`` minus what was already restored, so the last refund makes the deduction exact. When every
  unit has come back, the coupons are returned too (the order no longer stands, even if the delivery
  fee was kept); until then they stay used (the order stands, its discount stays on the kept lines).

Delivery is at least once: every step is idempotent (a returned coupon is no longer the order's; each
restore has its own ref and only makes up what is missing).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Sum

from o2o.marketing.receivers import deduct_ref
from o2o.marketing.redemption import coupons_return_for_order
from o2o.members.models import PointsEntry
from o2o.members.points import points_restore
from o2o.orders.models import Order, OrderLine
from o2o.outbox.models import OutboxEvent

UNDONE = {"order.cancelled", "order.expired", "order.refunded"}
PARTIAL = {"order.refunded_lines", "order.refund_created", "order.pickup_expired"}


def restored_points(member_id: int, order_id: int) -> int:
    got = PointsEntry.objects.filter(account__member_id=member_id, kind="restore",
                                     ref=deduct_ref(order_id)).aggregate(s=Sum("points"))["s"]
    return got or 0


def goods_refunded(order: Order) -> tuple[int, int, bool]:
    """(goods paid, goods refunded, every unit back) from the order's lines."""
    rows = list(OrderLine.objects.filter(order=order).values_list("payable_fen", "refunded_fen", "qty",
                                                                     "returned_qty"))
    paid = sum(r[0] for r in rows)
    back = sum(min(r[1], r[0]) for r in rows)
    return paid, back, bool(rows) and all(r[3] >= r[2] for r in rows)


def restore_points(order: Order, *, whole: bool, ref: str, now: datetime) -> int:
    used = int((order.pricing or {}).get("points_used") or 0)
    if used <= 0 or order.member_id is None:
        return 0
    paid, back, _ = goods_refunded(order)
    target = used if whole else (used * back // paid if paid > 0 else 0)
    todo = target - restored_points(order.member_id, order.pk)
    if todo <= 0:
        return 0
    points_restore(order.member_id, deduct_ref(order.pk), now, points=todo, ref=ref)
    return todo


def on_order_event(event: OutboxEvent) -> None:
    if event.aggregate != "order" or (event.topic not in UNDONE and event.topic not in PARTIAL):
        return
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=int(event.aggregate_id)).first()
        if order is None:  # an anonymous till sale may carry a member's coupon: it goes back all the same
            return
        now = event.created_at
        if event.topic in UNDONE:
            coupons_return_for_order(order.pk, now, reason=event.topic)
            restore_points(order, whole=True, ref=f"{deduct_ref(order.pk)}:{event.topic}", now=now)
        else:
            _, _, all_back = goods_refunded(order)
            if all_back:
                coupons_return_for_order(order.pk, now, reason="every unit refunded")
            restore_points(order, whole=all_back, ref=f"{deduct_ref(order.pk)}:{event.topic}:{event.pk}", now=now)
