"""The HQ dashboard's figures: one ORM aggregate query per chart, no per-row queries.

What counts (shown on the page under each chart as well):

* Orders: created in the period, paid or past payment (not "pending payment", not "expired"
  unpaid); with a location filter, the orders with a shipment at one of those locations.
* Fulfilment mode: orders per mode of their shipments (re-routed shipments left out; an order
  split across modes counts once in each); ``counter`` is a till sale.
* Pickup share: orders with a pickup shipment among the online orders (pickup, same city or express).
* On time: a pickup is on time when it was ready (``ready_at``) by its promised ``eta_latest``;
  a same-city or express shipment when it was completed by its ``eta_latest``. Only shipments that
  got there count (the late ones still open are the stores' alerts, not yet a rate).
* Routing cost per order: the routing engine's planned cost (``RoutingDecision.cost_fen``, every
  decision of the order, re-routes included) averaged over the orders that were routed, per day.
* Stock-outs: routed shipments the store could not fill in the period -- rejected by the store or
  short at picking (``RoutedShipment`` status ``rejected`` / ``short``), per location. This is what
  customers felt; a snapshot of empty shelves would ignore the dates and the demand.
* Member tiers: every active member by their current tier (``members.TierState``; a member
  without a state row is 普通, normal), today's figure; members belong to no region, so this
  chart ignores the filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from o2o.accounts.models import Member
from o2o.catalog.models import Channel
from o2o.core.loyalty import TIER_ORDER
from o2o.fulfilment.models import RoutedShipment, RoutingDecision
from o2o.fulfilment.models import ShipmentStatus as RoutedStatus
from o2o.orders.models import Order, OrderStatus, Shipment, ShipmentMode, ShipmentStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNPAID = (OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED)
ONLINE_MODES = (ShipmentMode.PICKUP, ShipmentMode.SAME_CITY, ShipmentMode.EXPRESS)
DELIVERY_MODES = (ShipmentMode.SAME_CITY, ShipmentMode.EXPRESS)


def mode_labels() -> dict[str, str]:
    return {ShipmentMode.PICKUP: _("门店自提"), ShipmentMode.SAME_CITY: _("同城配送"),
            ShipmentMode.EXPRESS: _("快递"), ShipmentMode.COUNTER: _("门店现场")}


@dataclass(frozen=True)
class Scope:
    """The period [first, last] (local dates, both included) and the locations (None: all)."""

    first: date
    last: date
    location_ids: tuple[int, ...] | None = None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), tzinfo=SHANGHAI)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def orders_in(scope: Scope) -> QuerySet[Order]:
    qs = Order.objects.filter(created_at__gte=scope.start, created_at__lt=scope.end).exclude(status__in=UNPAID)
    if scope.location_ids is not None:
        qs = qs.filter(pk__in=Shipment.objects.filter(location_id__in=scope.location_ids).values("order_id"))
    return qs


def shipments_in(scope: Scope) -> QuerySet[Shipment]:
    qs = Shipment.objects.filter(order__created_at__gte=scope.start, order__created_at__lt=scope.end).exclude(
        order__status__in=UNPAID)
    if scope.location_ids is not None:
        qs = qs.filter(location_id__in=scope.location_ids)
    return qs


def channel_labels() -> dict[str, str]:
    """The catalog's channel names (Chinese only in the model), as page text the English pass translates."""
    return {Channel.MINI_PROGRAM: _("微信小程序"), Channel.APP: "App", Channel.H5: "H5", Channel.PC: "PC",
            Channel.DOUYIN: _("抖音"), Channel.POS: _("门店 POS")}


def by_channel(scope: Scope) -> dict[str, Any]:
    labels = channel_labels()
    rows = [{"key": r["channel"], "label": str(labels.get(r["channel"], r["channel"])), "value": r["n"]}
            for r in orders_in(scope).values("channel").annotate(n=Count("id")).order_by("-n", "channel")]
    return {"rows": rows, "total": sum(r["value"] for r in rows)}


def by_mode(scope: Scope) -> dict[str, Any]:
    labels = mode_labels()
    qs = (shipments_in(scope).exclude(status=ShipmentStatus.REROUTED).values("mode")
          .annotate(n=Count("order_id", distinct=True)).order_by("-n", "mode"))
    rows = [{"key": r["mode"], "label": str(labels.get(r["mode"], r["mode"])), "value": r["n"]} for r in qs]
    return {"rows": rows}


def pickup_share(scope: Scope) -> dict[str, Any]:
    agg = (shipments_in(scope).exclude(status=ShipmentStatus.REROUTED).filter(mode__in=ONLINE_MODES)
           .aggregate(pickup=Count("order_id", distinct=True, filter=Q(mode=ShipmentMode.PICKUP)),
                      online=Count("order_id", distinct=True)))
    pickup, online = agg["pickup"] or 0, agg["online"] or 0
    return {"pickup": pickup, "online": online, "other": online - pickup, "share": _ratio(pickup, online)}


def on_time(scope: Scope) -> dict[str, Any]:
    ready = Q(mode=ShipmentMode.PICKUP, ready_at__isnull=False)
    ready_on_time = Q(mode=ShipmentMode.PICKUP, ready_at__lte=F("eta_latest"))
    delivered = Q(mode__in=DELIVERY_MODES, status=ShipmentStatus.COMPLETED, completed_at__isnull=False)
    delivered_on_time = delivered & Q(completed_at__lte=F("eta_latest"))
    labels = mode_labels()
    qs = (shipments_in(scope).filter(mode__in=ONLINE_MODES, eta_latest__isnull=False).values("mode")
          .annotate(done=Count("id", filter=ready | delivered),
                    on_time=Count("id", filter=ready_on_time | delivered_on_time))
          .order_by("mode"))
    rows = [{"key": r["mode"], "label": str(labels.get(r["mode"], r["mode"])), "done": r["done"],
             "on_time": r["on_time"], "rate": _ratio(r["on_time"], r["done"])} for r in qs if r["done"]]
    done, ok = sum(r["done"] for r in rows), sum(r["on_time"] for r in rows)
    return {"rows": rows, "done": done, "on_time": ok, "rate": _ratio(ok, done)}


def routing_cost(scope: Scope) -> dict[str, Any]:
    decisions = (RoutingDecision.objects.filter(order_ref=OuterRef("number")).order_by().values("order_ref")
                 .annotate(total=Sum("cost_fen")).values("total"))
    qs = (orders_in(scope).filter(routing_decision__isnull=False)
          .annotate(day=TruncDate("created_at", tzinfo=SHANGHAI), cost=Subquery(decisions))
          .values("day").annotate(orders=Count("id"), cost_fen=Sum("cost")).order_by("day"))
    found = {r["day"]: r for r in qs}
    rows = []
    for day in scope.days():
        r = found.get(day)
        orders, cost = (r["orders"], int(r["cost_fen"] or 0)) if r else (0, 0)
        rows.append({"day": day.isoformat(), "orders": orders, "cost_fen": cost,
                     "avg_fen": round(cost / orders) if orders else None})
    orders, cost = sum(r["orders"] for r in rows), sum(r["cost_fen"] for r in rows)
    return {"rows": rows, "orders": orders, "cost_fen": cost, "avg_fen": round(cost / orders) if orders else None}


def stockouts(scope: Scope) -> dict[str, Any]:
    qs = (RoutedShipment.objects.filter(status__in=(RoutedStatus.SHORT, RoutedStatus.REJECTED))
          .annotate(at=Coalesce("status_changed_at", "created_at"))
          .filter(at__gte=scope.start, at__lt=scope.end))
    if scope.location_ids is not None:
        qs = qs.filter(location_id__in=scope.location_ids)
    qs = (qs.values("location_id", "location__code", "location__name")
          .annotate(short=Count("id", filter=Q(status=RoutedStatus.SHORT)),
                    rejected=Count("id", filter=Q(status=RoutedStatus.REJECTED)), total=Count("id"))
          .order_by("-total", "location__code"))
    rows = [{"code": r["location__code"], "name": r["location__name"], "short": r["short"],
             "rejected": r["rejected"], "total": r["total"]} for r in qs]
    return {"rows": rows, "total": sum(r["total"] for r in rows)}


def tier_labels() -> dict[str, str]:
    return {"normal": _("普通会员"), "silver": _("白银会员"), "gold": _("黄金会员"), "diamond": _("钻石会员")}


def member_tiers() -> dict[str, Any]:
    """Active members per current tier, lowest tier first (one query; no state row = normal)."""
    counts = dict(Member.objects.filter(is_active=True)
                  .annotate(t=Coalesce("tier_state__tier", Value(TIER_ORDER[0].value)))
                  .values("t").annotate(n=Count("id")).values_list("t", "n"))
    labels = tier_labels()
    rows = [{"key": t.value, "label": labels[t.value], "value": counts[t.value]} for t in TIER_ORDER
            if counts.get(t.value)]
    return {"rows": rows, "total": sum(r["value"] for r in rows)}


def dashboard_figures(scope: Scope) -> dict[str, Any]:
    """Every chart's data, JSON-ready (money in fen, shares as fractions 0..1 or None)."""
    return {
        "channel": by_channel(scope),
        "mode": by_mode(scope),
        "pickup": pickup_share(scope),
        "on_time": on_time(scope),
        "cost": routing_cost(scope),
        "stockouts": stockouts(scope),
        "tiers": member_tiers(),
    }
