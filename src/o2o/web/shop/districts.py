"""Where a customer may say they are: the 16 districts of Shanghai, and named places to search for.

* ``DISTRICTS``: the districts and their centre points (GCJ-02, as AMap's district centres). A customer
  without geolocation picks one; its centre is their point. Checked for plausibility by
  ``tests/e2e/web/test_shop_catalog.py`` (inside Shanghai; 徐汇 between 黄浦 and 闵行...).
* ``places()`` / ``search()``: the place names a customer can type ("输入小区/地址"), from the public data
  under ``settings.DATA_DIR`` (read ../shared/data/README.md), all BD-09 converted to GCJ-02 with the core's
  ``bd09_to_gcj02``: the business districts of ``geo/shanghai_pois_bd09.csv`` (the POIs carry no names of
  their own: each 商圈 is the count-weighted centre of its 11k POIs), the 18 districts of
  ``geo/shanghai_districts_bd09.json`` (闸北 and 卢湾 included, as people still say them) and the 1,293 named
  shops and malls of ``stores/shanghai_brand_stores_bd09.csv`` ("家乐福(古北店)", "星巴克(徐家汇店)"...), the
  landmarks a customer names. Loaded once per process (module cache); without the data directory the
  list is empty and the location page hides its search box.
"""

from __future__ import annotations

import csv
import json
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext, gettext_noop

from o2o.core.geo import LatLng, bd09_to_gcj02


@dataclass(frozen=True)
class District:
    code: str
    name: str
    lat: float
    lng: float

    @property
    def label(self) -> str:
        """The name in the current language (``name`` stays the Chinese msgid; it is what the session keeps)."""
        return gettext(self.name)


DISTRICTS: tuple[District, ...] = (
    District("huangpu", gettext_noop("黄浦区"), 31.231763, 121.484443),
    District("xuhui", gettext_noop("徐汇区"), 31.188464, 121.436128),
    District("changning", gettext_noop("长宁区"), 31.220367, 121.424026),
    District("jingan", gettext_noop("静安区"), 31.227906, 121.447348),
    District("putuo", gettext_noop("普陀区"), 31.249603, 121.395555),
    District("hongkou", gettext_noop("虹口区"), 31.264582, 121.504994),
    District("yangpu", gettext_noop("杨浦区"), 31.259588, 121.525409),
    District("minhang", gettext_noop("闵行区"), 31.112834, 121.380857),
    District("baoshan", gettext_noop("宝山区"), 31.405242, 121.489431),
    District("jiading", gettext_noop("嘉定区"), 31.375566, 121.265276),
    District("pudong", gettext_noop("浦东新区"), 31.221461, 121.544346),
    District("jinshan", gettext_noop("金山区"), 30.741798, 121.342455),
    District("songjiang", gettext_noop("松江区"), 31.032570, 121.227676),
    District("qingpu", gettext_noop("青浦区"), 31.150980, 121.124249),
    District("fengxian", gettext_noop("奉贤区"), 30.917766, 121.474055),
    District("chongming", gettext_noop("崇明区"), 31.623728, 121.397662),
)

BY_CODE = {d.code: d for d in DISTRICTS}
DEFAULT = BY_CODE["xuhui"]


POIS_FILE = "geo/shanghai_pois_bd09.csv"
DISTRICTS_FILE = "geo/shanghai_districts_bd09.json"
SHOPS_FILE = "stores/shanghai_brand_stores_bd09.csv"
SEARCH_LIMIT = 8
QUERY_MAX = 40
# Shanghai's extent (GCJ-02, with a margin): a data point outside it (one 欧尚 is) is not offered.
_SH_LAT, _SH_LNG = (30.6, 31.95), (120.8, 122.2)
# What a place is, shown beside its name (Chinese msgids; shown translated by ``Place.kind_label``).
KIND_DISTRICT, KIND_AREA, KIND_SHOP = gettext_noop("行政区"), gettext_noop("商圈"), gettext_noop("商场/商户")
_KIND_ORDER = {KIND_DISTRICT: 0, KIND_AREA: 1, KIND_SHOP: 2}


@dataclass(frozen=True)
class Place:
    key: str  # stable for a given data set: "d3" (district), "a1" (business district), "s120" (shop row)
    name: str
    kind: str
    lat: float  # GCJ-02
    lng: float
    weight: int = 1  # POIs behind a business district; 1 otherwise
    folded: str = ""  # the name as searched (NFKC, case-folded)

    @property
    def kind_label(self) -> str:
        return gettext(self.kind)


def fold(text: str) -> str:
    """For matching: full-width letters and digits made ASCII (NFKC), case folded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _in_shanghai(p: LatLng) -> bool:
    return _SH_LAT[0] < p.lat < _SH_LAT[1] and _SH_LNG[0] < p.lng < _SH_LNG[1]


def _place(key: str, name: str, kind: str, p: LatLng, weight: int = 1) -> Place:
    return Place(key, name, kind, round(p.lat, 6), round(p.lng, 6), weight, fold(name))


def _district_name(raw: str) -> str:
    return "浦东新区" if raw == "浦东" else raw if raw.endswith("区") else f"{raw}区"


def _load(base: Path) -> tuple[Place, ...]:
    places: list[Place] = []
    areas: dict[str, list[float]] = {}  # name -> [sum lat*w, sum lng*w, sum w]
    with (base / POIS_FILE).open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            name, w = row["business_district"].strip(), max(1, int(row.get("count") or 1))
            acc = areas.setdefault(name, [0.0, 0.0, 0])
            acc[0] += float(row["lat"]) * w
            acc[1] += float(row["lng"]) * w
            acc[2] += w
    for i, (name, (lat, lng, w)) in enumerate(areas.items(), 1):
        places.append(_place(f"a{i}", name, KIND_AREA, bd09_to_gcj02(LatLng(lat / w, lng / w)), int(w)))
    for i, d in enumerate(json.loads((base / DISTRICTS_FILE).read_text(encoding="utf-8")), 1):
        pt = d.get("point") or {}
        if pt.get("lat") is not None and pt.get("lng") is not None:
            places.append(_place(f"d{i}", _district_name(d["district"].strip()), KIND_DISTRICT,
                                 bd09_to_gcj02(LatLng(float(pt["lat"]), float(pt["lng"])))))
    with (base / SHOPS_FILE).open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.DictReader(f), 1):
            p = bd09_to_gcj02(LatLng(float(row["lat"]), float(row["lng"])))
            if row["store_name"].strip() and _in_shanghai(p):
                places.append(_place(f"s{i}", row["store_name"].strip(), KIND_SHOP, p))
    return tuple(places)


_cache: dict[str, tuple[tuple[Place, ...], dict[str, Place]]] = {}
_lock = threading.Lock()


def _loaded() -> tuple[tuple[Place, ...], dict[str, Place]]:
    base = Path(settings.DATA_DIR)
    key = str(base)
    found = _cache.get(key)
    if found is None:
        with _lock:
            found = _cache.get(key)
            if found is None:
                try:
                    places = _load(base)
                except (OSError, ValueError, KeyError, TypeError, csv.Error):  # no data directory, or unknown files
                    places = ()
                found = (places, {p.key: p for p in places})
                _cache[key] = found
    return found


def places() -> tuple[Place, ...]:
    """Every searchable place (empty without the data directory)."""
    return _loaded()[0]


def place(key: str) -> Place | None:
    return _loaded()[1].get(key) if isinstance(key, str) else None


def search(query: str, limit: int = SEARCH_LIMIT) -> list[Place]:
    """Places whose name holds every word of ``query`` (substring, case- and width-insensitive): exact names
    first, then names starting with it, districts before 商圈 before shops, shorter names first."""
    words = fold(query).split()
    if not words:
        return []
    whole = "".join(words)
    found = [p for p in places() if all(w in p.folded for w in words)]
    found.sort(key=lambda p: (p.folded != whole, not p.folded.startswith(words[0]), _KIND_ORDER[p.kind],
                              len(p.name), -p.weight, p.key))
    return found[:limit]
