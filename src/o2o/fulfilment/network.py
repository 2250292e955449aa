"""The fulfilment network for one cart, read from the database into a core routing ``Network``.

* **Nodes**: active locations; kind -> ``NodeKind``; ``can_pickup`` / ``can_same_city`` /
  ``can_express`` -> capabilities; ``delivery_radius_m``; GCJ-02 point. Only locations that
  could serve the destination get a node: express-capable ones, same-city ones whose radius
  reaches it, pickup stores within ``O2O["PICKUP_REACH_M"]`` and the chosen pickup store.
* **Stock**: ``sum(on_hand - reserved)`` over the bucket rows of the cart's SKUs at those
  nodes, one aggregate query; a delisted (inactive) SKU has none, so re-routing an order
  that holds one reports that line unfilled (``no_stock``) instead of failing.
* **Capacity**: ``pick_capacity_per_hour`` minus the shipments routed to the node since the
  start of the current clock hour (rejected ones do not count: no pick happened).
* **Queue**: the node's routed shipments still waiting (status ``reserved`` and reservation
  still active), an approximation of picks not yet done; the pick rate is the capacity.
* **Opening hours**: ``Location.opening_hours`` as the node's (``stores.hours.routing_hours``):
  the engine picks, hands to riders and has pickups ready only while the location is open; none
  given: always open.

A snapshot costs a fixed number of queries whatever the network's size: SKUs, locations,
stock, routed shipments.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from o2o.catalog.models import Sku
from o2o.common.errors import InvalidInput
from o2o.core.geo import LatLng, haversine_m
from o2o.core.routing import Mode, Network, Node, NodeKind, OrderLine, RoutingConfig
from o2o.core.routing.eta import open_spans, week_pattern
from o2o.fulfilment.models import RoutedShipment, ShipmentStatus
from o2o.inventory.models import ReservationStatus, Stock
from o2o.inventory.validation import MAX_QTY
from o2o.stores.hours import routing_hours
from o2o.stores.models import Location

_CONFIG = RoutingConfig()
_SLACK_M = 50.0  # a node just outside a radius gets a node anyway; the engine decides reach exactly


def routing_config() -> RoutingConfig:
    """The routing engine's parameters (the core defaults; see docs/routing.md)."""
    return _CONFIG


def pickup_reach_m() -> float:
    return float(settings.O2O.get("PICKUP_REACH_M", 10_000))


# --- the basket ---------------------------------------------------------------------------

def load_basket(lines: Iterable[tuple[int, int]]) -> tuple[OrderLine, ...]:
    """Merge same-SKU lines, check them and attach each SKU's unit weight (one query).

    422 ``empty_basket``, ``too_many_lines``, ``invalid_quantity`` or ``unknown_sku`` (ids in
    ``details.sku_ids``; inactive SKUs count as unknown).
    """
    merged: dict[int, int] = {}
    for sku_id, qty in lines:
        merged[sku_id] = merged.get(sku_id, 0) + qty
    if not merged:
        raise InvalidInput("购物车为空 The basket is empty", code="empty_basket", details={"lines": []})
    most = settings.O2O["MAX_BASKET_LINES"]
    if len(merged) > most:
        raise InvalidInput("行数过多 Too many lines", code="too_many_lines", details={"max": most, "got": len(merged)})
    bad = [{"sku_id": s, "qty": q} for s, q in merged.items() if not 0 < q <= MAX_QTY]
    if bad:
        raise InvalidInput("数量必须为 1 到 1,000,000 的整数 Quantities must be 1..1,000,000", code="invalid_quantity",
                           details={"lines": bad, "max": MAX_QTY})
    weights = dict(Sku.objects.filter(pk__in=list(merged), active=True).values_list("pk", "weight_g"))
    unknown = sorted(s for s in merged if s not in weights)
    if unknown:
        raise InvalidInput("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": unknown})
    return tuple(OrderLine(s, q, weights[s]) for s, q in sorted(merged.items()))


# --- the network --------------------------------------------------------------------------

@dataclass(frozen=True)
class Site:
    """An active location as the fulfilment app shows it."""

    id: int
    code: str
    name: str
    kind: str
    point: LatLng
    distance_m: float  # straight line to the destination
    can_pickup: bool
    can_same_city: bool
    can_express: bool
    delivery_radius_m: int
    pick_capacity_per_hour: int
    hours: tuple | None = None  # the engine's ``Node.opening_hours``; None: always open


@dataclass(frozen=True)
class Snapshot:
    """The network for one cart at one instant, and the locations behind its nodes."""

    network: Network
    sites: dict[int, Site]  # every active location (nodes are the relevant ones)
    point: LatLng
    now: datetime

    def only(self, modes: frozenset[Mode]) -> Network:
        """The same nodes offering only ``modes`` (a node left with none is dropped)."""
        nodes = [replace(n, capabilities=n.capabilities & modes) for n in self.network.nodes
                 if n.capabilities & modes]
        return Network(nodes, self.network.config)

    def summary(self) -> dict:
        """For the decision's record: what the engine saw, node by node (stock left out)."""
        nodes = self.network.nodes
        return {
            "nodes": len(nodes),
            "with_stock": sum(1 for n in nodes if any(q > 0 for q in n.stock.values())),
            "no_capacity": sorted(int(n.node_id) for n in nodes if n.capacity <= 0),
            "by_kind": {k.value: sum(1 for n in nodes if n.kind is k) for k in NodeKind},
            "queues": {str(n.node_id): n.queue for n in nodes if n.queue},
            "closed_now": sorted(int(n.node_id) for n in nodes if not is_open(n.opening_hours, self.now)),
        }


def _relevant(site: Site, reach_m: float, pickup_id: int | None) -> bool:
    return (site.can_express or site.id == pickup_id
            or (site.can_same_city and site.distance_m <= site.delivery_radius_m + _SLACK_M)
            or (site.can_pickup and site.distance_m <= reach_m + _SLACK_M))


def _capabilities(site: Site) -> frozenset[Mode]:
    return frozenset(m for m, ok in ((Mode.PICKUP, site.can_pickup), (Mode.SAME_CITY, site.can_same_city),
                                     (Mode.EXPRESS, site.can_express)) if ok)


def is_open(hours: tuple | None, now: datetime) -> bool:
    """Whether a node with these (engine) opening hours is open at ``now`` (local wall clock)."""
    pattern = week_pattern(hours)
    if pattern is None:
        return True
    return next(open_spans(pattern, now), (1, 1))[0] == 0


def hour_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def load_network(*, lines: tuple[OrderLine, ...], point: LatLng, now: datetime,
                 pickup_location_id: int | None = None, config: RoutingConfig | None = None) -> Snapshot:
    """The routing network around ``point`` for ``lines`` at ``now`` (module docstring)."""
    reach = pickup_reach_m()
    sites: dict[int, Site] = {}
    for row in Location.objects.filter(active=True).order_by("pk").values(
            "pk", "code", "name", "kind", "lat", "lng", "can_pickup", "can_same_city", "can_express",
            "delivery_radius_m", "pick_capacity_per_hour", "opening_hours"):
        where = LatLng(row["lat"], row["lng"])
        sites[row["pk"]] = Site(row["pk"], row["code"], row["name"], row["kind"], where, haversine_m(point, where),
                                row["can_pickup"], row["can_same_city"], row["can_express"],
                                row["delivery_radius_m"], row["pick_capacity_per_hour"],
                                routing_hours(row["opening_hours"]))
    ids = [s.id for s in sites.values() if _relevant(s, reach, pickup_location_id)]
    skus = [ln.sku_id for ln in lines]
    stock: dict[int, dict[int, int]] = {i: {} for i in ids}
    if ids and skus:
        # A delisted SKU has no stock to route (a re-route then reports its line unfilled).
        for r in (Stock.objects.filter(location_id__in=ids, sku_id__in=skus, sku__active=True)
                  .values("location_id", "sku_id")
                  .annotate(available=Sum(F("on_hand") - F("reserved")))):
            stock[r["location_id"]][r["sku_id"]] = max(0, r["available"] or 0)
    start = hour_start(now)
    waiting = Q(status=ShipmentStatus.RESERVED, reservation__status=ReservationStatus.ACTIVE)
    this_hour = Q(created_at__gte=start) & ~Q(status=ShipmentStatus.REJECTED)
    load: dict[int, tuple[int, int]] = {}
    if ids:
        for r in (RoutedShipment.objects.filter(location_id__in=ids).filter(this_hour | waiting)
                  .values("location_id").annotate(hour=Count("id", filter=this_hour), queue=Count("id", filter=waiting))):
            load[r["location_id"]] = (r["hour"], r["queue"])
    nodes = []
    for i in ids:
        site = sites[i]
        used, queue = load.get(i, (0, 0))
        nodes.append(Node(node_id=i, name=site.name, kind=NodeKind(site.kind), location=site.point,
                          capabilities=_capabilities(site), stock=stock[i],
                          delivery_radius_m=float(site.delivery_radius_m),
                          capacity=max(0, site.pick_capacity_per_hour - used), queue=queue,
                          pick_rate_per_hour=float(site.pick_capacity_per_hour), opening_hours=site.hours))
    return Snapshot(Network(nodes, config or routing_config()), sites, point, now)
