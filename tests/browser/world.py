"""What the browser scenarios need from the served demo, read through Django in the test process.

The customer's point comes from real data: the 徐汇 district boundary in
``../shared/data/geo/shanghai_districts_bd09.json`` (BD-09, converted to GCJ-02) and the seeded
世纪华联 stores; the scenarios look for a point inside 徐汇 whose nearest pickup store is 1-2 km away.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from o2o.core.geo import LatLng
from o2o.core.geo.coords import bd09_to_gcj02, gcj02_to_wgs84
from o2o.core.geo.distance import haversine_m

DISTRICTS = Path(__file__).resolve().parents[3] / "shared" / "data" / "geo" / "shanghai_districts_bd09.json"
CLERK_PASSWORD = "o2o-browser-2026"  # noqa: S105 - a throwaway account in a throwaway database


@dataclass(frozen=True)
class Spot:
    point: LatLng  # GCJ-02, as stored
    wgs: LatLng  # what a phone's GPS reports
    location_id: int
    location_name: str
    distance_m: float


def _inside(poly: list[LatLng], p: LatLng) -> bool:
    inside = False
    for i in range(len(poly)):
        a, b = poly[i], poly[i - 1]
        if (a.lat > p.lat) != (b.lat > p.lat) and p.lng < (b.lng - a.lng) * (p.lat - a.lat) / (b.lat - a.lat) + a.lng:
            inside = not inside
    return inside


@cache
def xuhui_spot(lo_m: float = 1000, hi_m: float = 2000) -> Spot:
    """A point in 徐汇 whose nearest pickup store is lo-hi m away (closest to the middle of the band)."""
    from o2o.stores.models import Location

    [district] = [d for d in json.loads(DISTRICTS.read_text()) if d["district"] == "徐汇"]
    poly = [bd09_to_gcj02(LatLng(p["lat"], p["lng"])) for p in district["boundary"]]
    stores = list(Location.objects.filter(kind="store", active=True, can_pickup=True).values_list("pk", "name", "lat", "lng"))
    lat0, lat1 = min(p.lat for p in poly), max(p.lat for p in poly)
    lng0, lng1 = min(p.lng for p in poly), max(p.lng for p in poly)
    best: Spot | None = None
    steps = 60
    for i in range(steps + 1):
        for j in range(steps + 1):
            p = LatLng(lat0 + (lat1 - lat0) * i / steps, lng0 + (lng1 - lng0) * j / steps)
            if not _inside(poly, p):
                continue
            d, pk, name = min((haversine_m(p, LatLng(la, ln)), pk, name) for pk, name, la, ln in stores)
            if lo_m <= d <= hi_m and (best is None or abs(d - 1500) < abs(best.distance_m - 1500)):
                best = Spot(point=p, wgs=gcj02_to_wgs84(p), location_id=pk, location_name=name, distance_m=d)
    assert best is not None, "no point in 徐汇 has a store 1-2 km away in the seeded network"
    return best


def make_clerk(location_id: int, username: str, role: str = "clerk"):  # noqa: ANN201 - accounts.User
    from o2o.accounts.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, password=CLERK_PASSWORD, role=role, scope="store",
                                        location_id=location_id)
    return user


def stock_of(location_id: int, sku_id: int) -> tuple[int, int]:
    """(on hand, reserved) of a SKU at a location, over all its buckets."""
    from django.db.models import Sum

    from o2o.inventory.models import Stock

    got = Stock.objects.filter(location_id=location_id, sku_id=sku_id).aggregate(h=Sum("on_hand"), r=Sum("reserved"))
    return got["h"] or 0, got["r"] or 0


def sku_on_shelf(location_id: int, *, at_least: int = 5, skip: int = 0):  # noqa: ANN201 - catalog.Sku
    """An active SKU with plenty available at the store (and a searchable name)."""
    from django.db.models import F

    from o2o.catalog.models import Sku
    from o2o.inventory.models import Stock

    ids = (Stock.objects.filter(location_id=location_id, sku__active=True)
           .annotate(avail=F("on_hand") - F("reserved")).filter(avail__gte=at_least)
           .order_by("sku_id").values_list("sku_id", flat=True))
    return Sku.objects.get(pk=list(ids[: skip + 1])[skip])


def api(site_url: str, method: str, path: str, token: str, body: dict | None = None,
        key: str | None = None) -> tuple[int, dict]:
    """One call to the served API (for what a scenario does not click: the courier sandbox's clock)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    req = urllib.request.Request(site_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310 - our own localhost server
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def coupon_campaign(code: str, *, store_ids: list[int] = (), amount_fen: int = 1000, threshold_fen: int = 0,  # noqa: ANN201
                    name: str = "浏览器测试立减券"):
    """An active campaign members may claim online (marketing.CouponTemplate), valid 30 days from the claim."""
    from o2o.marketing.models import CouponTemplate, TemplateStatus

    t, _ = CouponTemplate.objects.get_or_create(code=code, defaults={
        "name": name, "name_en": "Browser test coupon", "kind": "amount_off", "amount_fen": amount_fen,
        "threshold_fen": threshold_fen, "status": TemplateStatus.ACTIVE, "claimable": True, "valid_days": 30,
        "member_limit": 1, "redeem_online": True, "redeem_offline": True})
    if store_ids:
        t.stores.set(store_ids)
    return t
