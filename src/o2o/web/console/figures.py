"""Today's figures of one store (今日数据), from the order tables with plain ORM aggregates.

"Today" is the local (Asia/Shanghai) calendar day. A shipment counts for the store when it is
at the store; sales are the money of orders paid today that the store serves (its POS sales,
its pickups, or a shipment of it), net of refunds; an order split over several stores counts
whole for each of them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from o2o.orders.models import Order, Shipment, ShipmentMode, ShipmentStatus

NOT_COUNTED = (ShipmentStatus.PENDING, ShipmentStatus.CANCELLED, ShipmentStatus.REROUTED)


def today_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    start = timezone.localtime(now or timezone.now()).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def store_figures(location_id: int, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    start, end = today_bounds(now)
    today = Shipment.objects.filter(location_id=location_id, created_at__gte=start, created_at__lt=end)
    by_mode_status = list(today.values("mode", "status").annotate(n=Count("id")).order_by("mode", "status"))
    live = today.exclude(status__in=NOT_COUNTED)
    online = live.exclude(mode=ShipmentMode.COUNTER)
    counts = online.aggregate(
        online=Count("id"), pickup=Count("id", filter=Q(mode=ShipmentMode.PICKUP)),
        late=Count("id", filter=Q(eta_latest__lt=F("ready_at")) | Q(ready_at__isnull=True, eta_latest__lt=now)))
    picked = Shipment.objects.filter(location_id=location_id, ready_at__gte=start, ready_at__lt=end).count()
    served = Shipment.objects.filter(location_id=location_id).exclude(status__in=NOT_COUNTED).values("order_id")
    money = (Order.objects.filter(paid_at__gte=start, paid_at__lt=end)
             .filter(Q(store_id=location_id) | Q(pk__in=served))
             .aggregate(orders=Count("id"), paid=Sum("paid_fen"), refunded=Sum("refunded_fen")))
    paid, refunded = money["paid"] or 0, money["refunded"] or 0
    return {
        "start": start, "now": timezone.localtime(now), "by_mode_status": by_mode_status,
        "shipments": sum(r["n"] for r in by_mode_status), "online": counts["online"], "pickup": counts["pickup"],
        "pickup_share": (counts["pickup"] / counts["online"]) if counts["online"] else None,
        "late": counts["late"], "picked": picked, "paid_orders": money["orders"],
        "sales_fen": paid - refunded, "paid_fen": paid, "refunded_fen": refunded,
    }
