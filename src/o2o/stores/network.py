"""The Shanghai demo network, loaded from public data (``settings.DATA_DIR``).

* Regions: the 18 district polygons of ``geo/shanghai_districts_bd09.json`` (BD-09, converted
  to GCJ-02), under HQ.
* Stores: the 139 世纪华联 points of ``stores/shanghai_brand_stores_bd09.csv`` (BD-09 ->
  GCJ-02), codes SH001.. in file order; each goes to the district polygon containing it
  (ray casting), else to the district with the nearest centroid.
* Two central warehouses on the city's edge (嘉定, 奉贤) for express delivery and one dark
  store (前置仓) downtown for same-city delivery.

Nothing here writes to the database; ``o2o.demo.seed`` does, through ``stores.services``.
"""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from o2o.core.geo import LatLng, bd09_to_gcj02, haversine_m
from o2o.stores.models import LocationKind

DISTRICTS_FILE = "geo/shanghai_districts_bd09.json"
STORES_FILE = "stores/shanghai_brand_stores_bd09.csv"
DEMO_BRAND = "世纪华联"

# District name in the data -> (region code suffix, region name).
DISTRICT_NAMES = {
    "浦东": ("PUDONG", "浦东新区"), "徐汇": ("XUHUI", "徐汇区"), "静安": ("JINGAN", "静安区"),
    "黄浦": ("HUANGPU", "黄浦区"), "闵行": ("MINHANG", "闵行区"), "宝山": ("BAOSHAN", "宝山区"),
    "松江": ("SONGJIANG", "松江区"), "普陀": ("PUTUO", "普陀区"), "嘉定": ("JIADING", "嘉定区"),
    "杨浦": ("YANGPU", "杨浦区"), "长宁": ("CHANGNING", "长宁区"), "闸北": ("ZHABEI", "闸北区"),
    "卢湾": ("LUWAN", "卢湾区"), "奉贤": ("FENGXIAN", "奉贤区"), "青浦": ("QINGPU", "青浦区"),
    "金山": ("JINSHAN", "金山区"), "崇明": ("CHONGMING", "崇明区"), "虹口": ("HONGKOU", "虹口区"),
}

HQ_CODE = "HQ"
HQ_NAME = "总部 HQ"
STORE_HOURS = {day: [["07:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ALL_DAY = {day: [["00:00", "24:00"]] for day in STORE_HOURS}


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    polygon: tuple[LatLng, ...]  # GCJ-02
    centroid: LatLng  # GCJ-02


@dataclass(frozen=True, slots=True)
class LocationSpec:
    """Everything a demo location row holds, coordinates in GCJ-02."""

    code: str
    name: str
    kind: str
    region_code: str
    lat: float
    lng: float
    address: str
    opening_hours: dict
    can_pickup: bool
    can_same_city: bool
    can_express: bool
    delivery_radius_m: int
    pick_capacity_per_hour: int


@dataclass(frozen=True, slots=True)
class DemoNetwork:
    districts: list[District]
    locations: list[LocationSpec]


def _gcj(lat: float, lng: float) -> LatLng:
    return bd09_to_gcj02(LatLng(lat, lng))


def load_districts(data_dir: Path | None = None) -> list[District]:
    raw = json.loads((Path(data_dir or settings.DATA_DIR) / DISTRICTS_FILE).read_text(encoding="utf-8"))
    districts = []
    for d in raw:
        suffix, name = DISTRICT_NAMES.get(d["district"], (f"D{len(districts) + 1:02d}", d["district"]))
        polygon = tuple(_gcj(float(p["lat"]), float(p["lng"])) for p in d["boundary"])
        if d.get("point"):
            centroid = _gcj(float(d["point"]["lat"]), float(d["point"]["lng"]))
        else:
            centroid = LatLng(sum(p.lat for p in polygon) / len(polygon), sum(p.lng for p in polygon) / len(polygon))
        districts.append(District(code=f"SH-{suffix}", name=name, polygon=polygon, centroid=centroid))
    return districts


def point_in_polygon(p: LatLng, polygon: tuple[LatLng, ...] | list[LatLng]) -> bool:
    """Ray casting (even-odd rule) in plain lat/lng: fine for city-sized polygons."""
    inside = False
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[i - 1]
        if (a.lat > p.lat) != (b.lat > p.lat):
            cross_lng = a.lng + (p.lat - a.lat) * (b.lng - a.lng) / (b.lat - a.lat)
            if p.lng < cross_lng:
                inside = not inside
    return inside


def district_of(p: LatLng, districts: list[District]) -> District:
    """The district whose polygon contains ``p``, else the one with the nearest centroid."""
    for d in districts:
        if point_in_polygon(p, d.polygon):
            return d
    return min(districts, key=lambda d: haversine_m(p, d.centroid))


def load_brand_stores(data_dir: Path | None = None, brand: str = DEMO_BRAND) -> list[tuple[str, LatLng]]:
    """(store name, GCJ-02 point) of every store of ``brand``, in file order."""
    path = Path(data_dir or settings.DATA_DIR) / STORES_FILE
    with path.open(encoding="utf-8", newline="") as f:
        return [(row["store_name"].strip(), _gcj(float(row["lat"]), float(row["lng"])))
                for row in csv.DictReader(f) if row["brand"].strip() == brand]


def pick_capacity(code: str) -> int:
    """A store's picking capacity per hour: a deterministic 20..40 from its code."""
    return 20 + zlib.crc32(code.encode()) % 21


# Central warehouses on the city's edge and a downtown dark store, GCJ-02.
_WAREHOUSES = [
    ("WH001", "世纪华联嘉定中心仓 Jiading DC", 31.35, 121.25),
    ("WH002", "世纪华联奉贤中心仓 Fengxian DC", 30.92, 121.55),
]
_DARK_STORES = [("DS001", "世纪华联静安前置仓 Jing'an dark store", 31.2286, 121.4581)]


def demo_network(data_dir: Path | None = None) -> DemoNetwork:
    districts = load_districts(data_dir)
    locations: list[LocationSpec] = []
    for n, (name, p) in enumerate(load_brand_stores(data_dir), start=1):
        d = district_of(p, districts)
        code = f"SH{n:03d}"
        locations.append(LocationSpec(
            code=code, name=name, kind=LocationKind.STORE.value, region_code=d.code, lat=p.lat, lng=p.lng,
            address=f"上海市{d.name}", opening_hours=STORE_HOURS, can_pickup=True, can_same_city=True,
            can_express=False, delivery_radius_m=3000, pick_capacity_per_hour=pick_capacity(code)))
    for code, name, lat, lng in _WAREHOUSES:
        d = district_of(LatLng(lat, lng), districts)
        locations.append(LocationSpec(
            code=code, name=name, kind=LocationKind.WAREHOUSE.value, region_code=d.code, lat=lat, lng=lng,
            address=f"上海市{d.name}", opening_hours=ALL_DAY, can_pickup=False, can_same_city=False,
            can_express=True, delivery_radius_m=150_000, pick_capacity_per_hour=400))
    for code, name, lat, lng in _DARK_STORES:
        d = district_of(LatLng(lat, lng), districts)
        locations.append(LocationSpec(
            code=code, name=name, kind=LocationKind.DARK_STORE.value, region_code=d.code, lat=lat, lng=lng,
            address=f"上海市{d.name}", opening_hours={day: [["07:00", "23:00"]] for day in STORE_HOURS},
            can_pickup=False, can_same_city=True, can_express=False, delivery_radius_m=5000,
            pick_capacity_per_hour=120))
    return DemoNetwork(districts=districts, locations=locations)
