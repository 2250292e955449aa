"""Reading orders: the order center list, one order, and who may see what.

* a member sees their own orders, every channel (POS included);
* store and region staff see orders with a shipment at (or a POS sale in) one of their
  locations, and of such an order only the shipments at their locations
  (``hidden_shipments`` counts the rest);
* HQ staff (and HQ-scope customer service) see everything.

An order that is not visible answers 404 to members (their ids say nothing about others)
and 403 to staff of another store (they know order numbers from the counter).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from o2o.accounts import pii
from o2o.common.errors import Forbidden, NotFound
from o2o.orders.models import Order, OrderEvent, OrderLine, PickupCode, Shipment, ShipmentStatus

STORE_VISIBLE = [st.value for st in ShipmentStatus if st != ShipmentStatus.REROUTED]


def _local(at: datetime | None) -> datetime | None:
    return timezone.localtime(at) if at is not None else None


def visible_orders(*, member_id: int | None = None, locations: Collection[int] | None = None) -> QuerySet[Order]:
    qs = Order.objects.all()
    if member_id is not None:
        return qs.filter(member_id=member_id)
    if locations is None:
        return qs
    ids = list(locations)
    # A shipment re-routed away no longer makes its store one of the order's stores.
    return qs.filter(Q(store_id__in=ids) | Q(shipments__location_id__in=ids,
                                             shipments__status__in=STORE_VISIBLE)).distinct()


def order_list(*, member_id: int | None = None, locations: Collection[int] | None = None, status: str | None = None,
               channel: str | None = None, store_id: int | None = None, since: datetime | None = None,
               until: datetime | None = None) -> QuerySet[Order]:
    qs = visible_orders(member_id=member_id, locations=locations)
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if store_id is not None:
        qs = qs.filter(Q(store_id=store_id) | Q(shipments__location_id=store_id,
                                                shipments__status__in=STORE_VISIBLE)).distinct()
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    if until is not None:
        qs = qs.filter(created_at__lt=until)
    return qs.order_by("-created_at", "-pk")


def order_get(order_id: int, *, member_id: int | None = None, locations: Collection[int] | None = None,
              prefetch: bool = True) -> Order:
    qs = Order.objects.filter(pk=order_id)
    if prefetch:
        qs = qs.prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("sku_id")),
            Prefetch("shipments", queryset=Shipment.objects.select_related("location").order_by("pk")))
    order = qs.first()
    if order is None or (member_id is not None and order.member_id != member_id):
        raise NotFound("订单不存在 Unknown order", code="unknown_order", details={"order_id": order_id})
    if locations is not None and not visible_orders(locations=locations).filter(pk=order_id).exists():
        raise Forbidden("无权查看此订单 Not your store's order", details={"order_id": order_id})
    return order


def _codes(shipment_ids: list[int]) -> dict[int, PickupCode]:
    return {c.shipment_id: c for c in PickupCode.objects.filter(shipment_id__in=shipment_ids, status="live")}


def shipment_dict(s: Shipment, code: PickupCode | None = None, qr: str | None = None) -> dict[str, Any]:
    out = {"id": s.pk, "location_id": s.location_id, "location_name": s.location.name, "mode": s.mode,
           "status": s.status, "lines": s.lines, "courier": s.courier, "tracking_no": s.tracking_no,
           "eta": ({"earliest": _local(s.eta_earliest), "latest": _local(s.eta_latest)} if s.eta_earliest else None),
           "pickup_deadline": _local(s.pickup_deadline), "ready_at": _local(s.ready_at),
           "completed_at": _local(s.completed_at), "pickup_code": None, "pickup_qr": None}
    if code is not None:
        out["pickup_code"] = code.code
        out["pickup_qr"] = qr
    return out


def order_dict(order: Order, *, locations: Collection[int] | None = None, owner: bool = False,
               qr_for=None) -> dict[str, Any]:  # noqa: ANN001 - qr_for(code) -> payload
    """An order as its viewer may see it. Pickup codes only for the member who owns the order."""
    shipments = list(order.shipments.all())
    shown = shipments if locations is None else [s for s in shipments if s.location_id in set(locations)]
    codes = _codes([s.pk for s in shown]) if owner else {}
    return {
        "id": order.pk, "number": order.number, "status": order.status, "channel": order.channel,
        "choice": order.choice, "member_id": order.member_id, "store_id": order.store_id,
        "utm": {"source": order.utm_source, "medium": order.utm_medium, "campaign": order.utm_campaign},
        "address": order.address, "contact_name": order.contact_name,
        "contact_phone": order.contact_phone_masked,
        "goods_fen": order.goods_fen, "discount_fen": order.discount_fen, "delivery_fee_fen": order.delivery_fee_fen,
        "total_fen": order.total_fen, "paid_fen": order.paid_fen, "refunded_fen": order.refunded_fen,
        "lines": [{"id": ln.pk, "sku_id": ln.sku_id, "name": ln.name, "qty": ln.qty,
                   "unit_price_fen": ln.unit_price_fen, "discount_fen": ln.discount_fen,
                   "payable_fen": ln.payable_fen, "returned_qty": ln.returned_qty, "refunded_fen": ln.refunded_fen}
                  for ln in order.lines.all()],
        "shipments": [shipment_dict(s, codes.get(s.pk), qr_for(codes[s.pk]) if s.pk in codes and qr_for else None)
                      for s in shown],
        "hidden_shipments": len(shipments) - len(shown),
        "created_at": _local(order.created_at), "paid_at": _local(order.paid_at),
        "payment_deadline": _local(order.payment_deadline), "completed_at": _local(order.completed_at),
        "cancelled_at": _local(order.cancelled_at), "cancel_reason": order.cancel_reason,
        "routing_decision_id": order.routing_decision_id,
    }


def mask_phone(phone: str) -> str:
    """138****5678: personal data is shown masked (``accounts.pii``)."""
    return pii.mask_phone(phone)


def order_history(order: Order) -> list[dict[str, Any]]:
    return [{"at": _local(e.at), "kind": e.kind, "from_status": e.from_status, "to_status": e.to_status,
             "shipment_id": e.shipment_id, "reason": e.reason, "actor": e.actor_label}
            for e in OrderEvent.objects.filter(order=order).order_by("at", "pk")]
