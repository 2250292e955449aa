"""Read-only queries on inventory: stock, transit, the ledger, and availability near a customer.

An item's figures are the sums over its bucket rows; ``available = on_hand - reserved``.
Availability answers "which nodes can serve this SKU / basket here, and how": a store
delivers same-city within its own ``delivery_radius_m`` and serves pickup within
``O2O["PICKUP_REACH_M"]`` of the customer; a warehouse (``can_express``) ships anywhere.
Nodes come from a :class:`~o2o.core.geo.SpatialIndex` over the active locations, built once
per process and rebuilt when the locations change (a cheap version query per call).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Q, Sum

from o2o.catalog.models import Sku
from o2o.common.errors import InvalidInput, NotFound
from o2o.core.geo import LatLng, SpatialIndex, bd09_to_gcj02, haversine_m, in_china_bbox, wgs84_to_gcj02
from o2o.inventory.models import Movement, Stock, TransferLine, TransferStatus
from o2o.inventory.validation import Line, check_lines
from o2o.stores.models import Location

COORD_SYSTEMS = ("gcj02", "wgs84", "bd09")


# --- stock ----------------------------------------------------------------------------------

def check_sku(sku_id: int) -> None:
    if not Sku.objects.filter(pk=sku_id).exists():
        raise NotFound("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": [sku_id]})


def item_stock(*, location_id: int, sku_id: int) -> dict:
    """One item's figures (zeros when it has no rows) and its bucket count."""
    agg = Stock.objects.filter(location_id=location_id, sku_id=sku_id).aggregate(
        on_hand=Sum("on_hand"), reserved=Sum("reserved"), buckets=Count("id"))
    on_hand, reserved = agg["on_hand"] or 0, agg["reserved"] or 0
    return {"location_id": location_id, "sku_id": sku_id, "on_hand": on_hand, "reserved": reserved,
            "available": on_hand - reserved, "buckets": agg["buckets"]}


def stock_list(*, location_id: int, limit: int = 50, offset: int = 0, in_stock_only: bool = False) -> dict:
    """The location's items by SKU id, a page at a time."""
    qs = (Stock.objects.filter(location_id=location_id).values("sku_id")
          .annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved")).order_by("sku_id"))
    if in_stock_only:
        qs = qs.filter(on_hand__gt=0)
    total = qs.count()
    items = [{"location_id": location_id, "sku_id": r["sku_id"], "on_hand": r["on_hand"], "reserved": r["reserved"],
              "available": r["on_hand"] - r["reserved"]} for r in qs[offset:offset + limit]]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def in_transit(*, location_id: int) -> dict:
    """Shipped, not yet received transfer lines into and out of the location."""
    rows = (TransferLine.objects.filter(transfer__status=TransferStatus.SHIPPED)
            .select_related("transfer").order_by("transfer_id", "sku_id"))

    def lines(qs) -> list[dict]:  # noqa: ANN001
        return [{"transfer_id": ln.transfer_id, "source_id": ln.transfer.source_id,
                 "destination_id": ln.transfer.destination_id, "sku_id": ln.sku_id, "qty": ln.qty,
                 "shipped_at": ln.transfer.shipped_at} for ln in qs]

    incoming = lines(rows.filter(transfer__destination_id=location_id))
    outgoing = lines(rows.filter(transfer__source_id=location_id))
    totals: dict[int, int] = {}
    for ln in incoming:
        totals[ln["sku_id"]] = totals.get(ln["sku_id"], 0) + ln["qty"]
    return {"location_id": location_id, "incoming": incoming, "outgoing": outgoing,
            "incoming_by_sku": [{"sku_id": s, "qty": q} for s, q in sorted(totals.items())]}


def in_transit_qty(*, sku_id: int | None = None) -> int:
    """Units in transit over the whole network (optionally of one SKU)."""
    qs = TransferLine.objects.filter(transfer__status=TransferStatus.SHIPPED)
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    return qs.aggregate(n=Sum("qty"))["n"] or 0


def ledger(*, location_id: int, sku_id: int | None = None, limit: int = 50, before_id: int | None = None) -> dict:
    """Movements at a location (of one SKU), newest first; page on with ``before_id``."""
    qs = Movement.objects.filter(location_id=location_id).order_by("-id")
    if sku_id is not None:
        qs = qs.filter(sku_id=sku_id)
    if before_id is not None:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs[:limit + 1])
    items = [{"id": m.id, "sku_id": m.sku_id, "kind": m.kind, "qty": m.qty, "delta_on_hand": m.delta_on_hand,
              "delta_reserved": m.delta_reserved, "reason": m.reason, "reference": m.reference,
              "actor_id": m.actor_id, "actor_label": m.actor_label, "reservation_id": m.reservation_id,
              "transfer_id": m.transfer_id, "details": m.details, "occurred_at": m.occurred_at,
              "created_at": m.created_at} for m in rows[:limit]]
    return {"items": items, "next_before_id": items[-1]["id"] if len(rows) > limit else None}


# --- availability -------------------------------------------------------------------------

def to_gcj02(lat: float, lng: float, coord: str) -> LatLng:
    """The customer's point in GCJ-02 (the datum of stored locations); 422 outside China."""
    if coord not in COORD_SYSTEMS:
        raise InvalidInput("坐标系无效 coord must be gcj02, wgs84 or bd09", code="invalid_coord",
                           details={"coord": coord})
    if not in_china_bbox(lat, lng):
        raise InvalidInput("坐标不在中国境内 Coordinates are outside China", code="coords_outside_china",
                           details={"lat": lat, "lng": lng})
    p = LatLng(lat, lng)
    if coord == "wgs84":
        return wgs84_to_gcj02(p)
    if coord == "bd09":
        return bd09_to_gcj02(p)
    return p


@dataclass(frozen=True)
class _Node:
    id: int
    code: str
    name: str
    kind: str
    point: LatLng
    can_pickup: bool
    can_same_city: bool
    can_express: bool
    delivery_radius_m: int


@dataclass
class _Network:
    version: tuple
    index: SpatialIndex[int]
    nodes: dict[int, _Node]
    express: list[int]
    max_radius_m: float


_cache: dict[str, _Network] = {}
_lock = threading.Lock()


def _version() -> tuple:
    """Cheap: changes when a location is added, edited (``updated_at``) or (de)activated."""
    v = Location.objects.aggregate(n=Count("id"), active=Count("id", filter=Q(active=True)), changed=Max("updated_at"))
    changed: datetime | None = v["changed"]
    return (v["n"], v["active"], changed.isoformat() if changed else "")


def network() -> _Network:
    """The active locations and their spatial index, rebuilt only when the locations changed."""
    version = _version()
    net = _cache.get("net")
    if net is not None and net.version == version:
        return net
    with _lock:
        nodes = {
            loc.pk: _Node(loc.pk, loc.code, loc.name, loc.kind, LatLng(loc.lat, loc.lng), loc.can_pickup,
                          loc.can_same_city, loc.can_express, loc.delivery_radius_m)
            for loc in Location.objects.filter(active=True).order_by("pk")
        }
        radii = [n.delivery_radius_m for n in nodes.values() if n.can_same_city]
        net = _Network(version, SpatialIndex((n.id, n.point) for n in nodes.values()), nodes,
                       [n.id for n in nodes.values() if n.can_express], float(max(radii, default=0)))
        _cache["net"] = net
        return net


def clear_network_cache() -> None:
    _cache.clear()


def _check_basket(lines: list[Line]) -> list[Line]:
    """A basket may name a SKU twice (two cart rows): merge them, then check like any lines."""
    merged: dict[int, int] = {}
    for ln in lines:
        merged[ln.sku_id] = merged.get(ln.sku_id, 0) + ln.qty
    return check_lines([Line(s, q) for s, q in merged.items()])


def availability(*, lat: float, lng: float, lines: list[Line], coord: str = "gcj02", limit: int = 50,
                 complete_only: bool = False, exact: bool = True) -> dict:
    """Nodes that can serve the basket at the customer's point, nearest first.

    ``exact=False`` (what customers get) caps each line's available quantity at the quantity
    asked for: enough to decide, without showing a store's stock depth.

    Each node lists its modes (``same_city`` within its delivery radius, ``pickup`` within
    the pickup reach, ``express`` for warehouses at any distance), the available quantity
    per line, and ``has_all`` (every line fully available there).
    """
    point = to_gcj02(lat, lng, coord)
    lines = _check_basket(lines)
    net = network()
    reach = float(settings.O2O["PICKUP_REACH_M"])
    found: dict[int, float] = dict(net.index.within(point, max(reach, net.max_radius_m)))
    for node_id in net.express:
        if node_id not in found:
            found[node_id] = haversine_m(point, net.nodes[node_id].point)
    offers: list[tuple[float, int, list[str]]] = []
    for node_id, dist in found.items():
        n = net.nodes[node_id]
        modes = [m for m, ok in (("same_city", n.can_same_city and dist <= n.delivery_radius_m),
                                 ("pickup", n.can_pickup and dist <= reach), ("express", n.can_express)) if ok]
        if modes:
            offers.append((dist, node_id, modes))
    offers.sort()
    skus = [ln.sku_id for ln in lines]
    avail: dict[tuple[int, int], int] = {}
    if offers:
        for r in (Stock.objects.filter(location_id__in=[o[1] for o in offers], sku_id__in=skus)
                  .values("location_id", "sku_id").annotate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))):
            avail[(r["location_id"], r["sku_id"])] = max(0, r["on_hand"] - r["reserved"])
    nodes = []
    for dist, node_id, modes in offers:
        n = net.nodes[node_id]
        per_line = [{"sku_id": ln.sku_id, "qty": ln.qty,
                     "available": avail.get((node_id, ln.sku_id), 0) if exact
                     else min(ln.qty, avail.get((node_id, ln.sku_id), 0))}
                    for ln in lines]
        has_all = all(pl["available"] >= pl["qty"] for pl in per_line)
        if complete_only and not has_all:
            continue
        nodes.append({"location_id": n.id, "code": n.code, "name": n.name, "kind": n.kind,
                      "distance_m": round(dist), "modes": modes, "lines": per_line, "has_all": has_all})
        if len(nodes) >= limit:
            break
    return {"point": {"lat": point.lat, "lng": point.lng, "coord": "gcj02"},
            "lines": [{"sku_id": ln.sku_id, "qty": ln.qty} for ln in lines], "nodes": nodes}
