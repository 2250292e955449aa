"""Real data for the routing benchmark: store networks, customer points, baskets.

* **Stores**: a CSV with columns ``store_name, lat, lng`` in the datum given by ``--crs``
  (converted to GCJ-02). Without a file, the demo chain: the 139 世纪华联 stores with the
  demo's two central warehouses and its dark store (:func:`o2o.stores.network.demo_network`).
  For any other file the same rule places the extra nodes: two warehouses at the centres
  of a 2-means split of the stores, and a dark store at the store with most neighbours
  within 3 km (:func:`derived_network`).
* **Customers**: the Shanghai POIs weighted by their ``count`` when most of them lie near
  the stores; otherwise (another city) points uniform within 3 km of a uniformly chosen
  store.
* **Baskets**: whole real baskets from the first rows of the Complete Journey transactions,
  restricted to the demo catalog (the top 3,000 products by sales value, the catalog the
  demo seeds), with the catalog's estimated unit weights.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from o2o.catalog.importer import read_cj_catalog
from o2o.core.geo import LatLng, bd09_to_gcj02, haversine_m, wgs84_to_gcj02
from o2o.core.routing import Mode, Node, NodeKind
from o2o.stores.network import demo_network, pick_capacity

__all__ = ["Basket", "Catalog", "crs_to_gcj02", "derived_network", "demo_nodes", "load_baskets", "load_catalog",
           "load_pois", "load_store_file"]

# The Complete Journey timestamps are UTC: their peak at 22:00-01:00 is the 16:00-19:00
# evening peak of the stores' US Central time (UTC-6); baskets keep their local time of day.
LOCAL_OFFSET_MIN = -6 * 60
POIS_FILE = "geo/shanghai_pois_bd09.csv"
TRANSACTIONS_FILE = "transactions/cj_transactions_w01_40.csv.gz"
STORE_MODES = frozenset({Mode.PICKUP, Mode.SAME_CITY})
WAREHOUSE_MODES = frozenset({Mode.EXPRESS})
DARK_STORE_MODES = frozenset({Mode.SAME_CITY})


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir or settings.DATA_DIR)


def crs_to_gcj02(lat: float, lng: float, crs: str) -> LatLng:
    """A point in ``crs`` (wgs84, gcj02 or bd09) as GCJ-02."""
    p = LatLng(lat, lng)
    if crs == "bd09":
        return bd09_to_gcj02(p)
    if crs == "wgs84":
        return wgs84_to_gcj02(p)
    if crs == "gcj02":
        return p
    raise ValueError(f"unknown --crs {crs!r}: use wgs84, gcj02 or bd09")


def load_store_file(path: Path, crs: str) -> list[tuple[str, LatLng]]:
    """(name, GCJ-02 point) of every row of a ``store_name, lat, lng`` CSV."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"store_name", "lat", "lng"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        stores = [(row["store_name"].strip(), crs_to_gcj02(float(row["lat"]), float(row["lng"]), crs))
                  for row in reader if row.get("lat") and row.get("lng")]
    if not stores:
        raise ValueError(f"{path}: no stores")
    return stores


def _store_node(node_id: str, name: str, p: LatLng, capacity: int, radius_m: float = 3000.0) -> Node:
    return Node(node_id=node_id, name=name, kind=NodeKind.STORE, location=p, capabilities=STORE_MODES,
                delivery_radius_m=radius_m, capacity=capacity, pick_rate_per_hour=float(capacity))


def _warehouse(node_id: str, name: str, p: LatLng) -> Node:
    return Node(node_id=node_id, name=name, kind=NodeKind.WAREHOUSE, location=p, capabilities=WAREHOUSE_MODES,
                delivery_radius_m=0.0, capacity=400, pick_rate_per_hour=400.0)


def _dark_store(node_id: str, name: str, p: LatLng) -> Node:
    return Node(node_id=node_id, name=name, kind=NodeKind.DARK_STORE, location=p, capabilities=DARK_STORE_MODES,
                delivery_radius_m=5000.0, capacity=120, pick_rate_per_hour=120.0)


def demo_nodes(data_dir: Path | None = None) -> list[Node]:
    """The demo network (stock-less): its stores, warehouses and dark store as routing nodes."""
    nodes: list[Node] = []
    for spec in demo_network(data_dir).locations:
        p = LatLng(spec.lat, spec.lng)
        if spec.kind == NodeKind.WAREHOUSE.value:
            nodes.append(_warehouse(spec.code, spec.name, p))
        elif spec.kind == NodeKind.DARK_STORE.value:
            nodes.append(_dark_store(spec.code, spec.name, p))
        else:
            nodes.append(_store_node(spec.code, spec.name, p, spec.pick_capacity_per_hour,
                                     float(spec.delivery_radius_m)))
    return nodes


def _two_means(points: list[LatLng]) -> list[LatLng]:
    """Centres of a deterministic 2-means split (start: the two extreme points by longitude)."""
    centres = [min(points, key=lambda p: (p.lng, p.lat)), max(points, key=lambda p: (p.lng, p.lat))]
    for _ in range(50):
        groups: list[list[LatLng]] = [[], []]
        for p in points:
            groups[0 if haversine_m(p, centres[0]) <= haversine_m(p, centres[1]) else 1].append(p)
        new = [LatLng(sum(p.lat for p in g) / len(g), sum(p.lng for p in g) / len(g)) if g else c
               for g, c in zip(groups, centres, strict=True)]
        if new == centres:
            break
        centres = new
    return centres


def derived_network(stores: list[tuple[str, LatLng]]) -> list[Node]:
    """Stores of a file plus two warehouses (2-means centres) and a dark store (densest store)."""
    # Pick capacity: the demo seed's deterministic 20..40 an hour, keyed by the store's name.
    nodes = [_store_node(f"S{i:04d}", name, p, pick_capacity(name)) for i, (name, p) in enumerate(stores, start=1)]
    points = [p for _, p in stores]
    for k, centre in enumerate(_two_means(points), start=1):
        nodes.append(_warehouse(f"WH{k:03d}", f"中心仓 {k} warehouse {k}", centre))
    densest = max(points, key=lambda p: (sum(haversine_m(p, q) <= 3000 for q in points), p.lat, p.lng))
    nodes.append(_dark_store("DS001", "前置仓 dark store", densest))
    return nodes


def load_pois(data_dir: Path | None = None) -> list[tuple[LatLng, int]]:
    """The Shanghai POIs (GCJ-02) with their ``count`` weights."""
    with (_data_dir(data_dir) / POIS_FILE).open(encoding="utf-8", newline="") as fh:
        return [(bd09_to_gcj02(LatLng(float(r["lat"]), float(r["lng"]))), max(1, int(float(r["count"] or 1))))
                for r in csv.DictReader(fh)]


@dataclass(frozen=True)
class Catalog:
    """The demo catalog: unit weight (g) per CJ product id, best seller first."""

    weight_g: dict[int, int]


def load_catalog(top_n: int = 3000, data_dir: Path | None = None) -> Catalog:
    """The top ``top_n`` CJ products by sales value (the demo catalog) with estimated unit weights."""
    items = read_cj_catalog(top_n=top_n, data_dir=data_dir)
    return Catalog(weight_g={item.product_id: item.row.weight_g for item in items})


@dataclass(frozen=True)
class Basket:
    """A real basket: its lines ((product id, qty), ...) and its minute of the day (0..1439)."""

    lines: tuple[tuple[int, int], ...]
    minute_of_day: int


def load_baskets(catalog: Catalog, *, rows: int = 400_000, max_qty: int = 12,
                 data_dir: Path | None = None) -> list[Basket]:
    """Real baskets from the first ``rows`` transaction lines, catalog lines only, with their time of day.

    Quantities are clamped to ``1..max_qty`` (a few CJ lines count fuel or loose produce in
    tens of units); lines of one product are merged; baskets with no catalog line are dropped.
    """
    baskets: dict[str, Counter[int]] = {}
    minute: dict[str, int] = {}
    with gzip.open(_data_dir(data_dir) / TRANSACTIONS_FILE, "rt", newline="") as fh:
        reader = csv.reader(fh)
        head = next(reader)
        i_basket, i_pid, i_qty, i_ts = (head.index(c) for c in ("basket_id", "product_id", "quantity",
                                                                  "transaction_timestamp"))
        for n, row in enumerate(reader):
            if n >= rows:
                break
            pid, qty = int(row[i_pid]), int(row[i_qty])
            if pid in catalog.weight_g and qty > 0:
                basket = row[i_basket]
                baskets.setdefault(basket, Counter())[pid] += qty
                if basket not in minute:  # "2017-01-01 11:53:26", UTC
                    utc = int(row[i_ts][11:13]) * 60 + int(row[i_ts][14:16])
                    minute[basket] = (utc + LOCAL_OFFSET_MIN) % 1440
    return [Basket(tuple((pid, min(qty, max_qty)) for pid, qty in sorted(b.items())), minute[k])
            for k, b in baskets.items() if b]
