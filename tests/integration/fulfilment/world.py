"""A small fulfilment network for the fulfilment tests, and the fees the routing config implies.

Customer P in central Shanghai (GCJ-02). Store A about 1.0 km north of P, store B about
1.9 km east (both pickup + same city, 3 km radius), warehouse W about 29 km away (express
only), store C about 22 km away (out of every reach: its staff see nothing of these orders).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from types import SimpleNamespace

from django.utils import timezone

from o2o.core.geo import LatLng, haversine_m
from o2o.core.routing import NodeKind
from o2o.fulfilment import clock
from o2o.fulfilment.network import routing_config
from o2o.stores.models import LocationKind
from tests.factories import auth, location, member, region, sku, staff, stock_in

P = LatLng(31.2304, 121.4737)


def fixed_now() -> datetime:
    """Today 10:00 local: daytime (no night surcharge), before the express cut-off."""
    return timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0)


def build(monkeypatch, *, a_stock: int = 10, b_stock: int = 10, w_stock: int = 100) -> SimpleNamespace:
    now = fixed_now()
    monkeypatch.setattr(clock, "now", lambda: now)
    east, west = region("东区"), region("西区")
    a = location(east, lat=31.2394, lng=121.4737, name="徐汇店")
    b = location(east, lat=31.2304, lng=121.4937, name="静安店")
    w = location(west, kind=LocationKind.WAREHOUSE, lat=31.05, lng=121.25, name="嘉定仓", can_pickup=False,
                 can_same_city=False, can_express=True, delivery_radius_m=150_000, pick_capacity_per_hour=400)
    c = location(west, lat=31.40, lng=121.60, name="浦东店")
    s1, s2 = sku(weight_g=500), sku(weight_g=1200)
    for loc, qty in ((a, a_stock), (b, b_stock), (w, w_stock)):
        if qty:
            stock_in(loc, s1, qty)
            stock_in(loc, s2, qty)
    world = World(now=now, a=a, b=b, w=w, c=c, s1=s1, s2=s2, east=east, west=west)
    world._makers = {
        "admin": lambda: staff("hq_admin")[1], "clerk_a": lambda: staff("clerk", loc=a)[1],
        "clerk_b": lambda: staff("clerk", loc=b)[1], "clerk_c": lambda: staff("clerk", loc=c)[1],
        "mgr_east": lambda: staff("region_manager", reg=east)[1],
        "mgr_west": lambda: staff("region_manager", reg=west)[1], "member": lambda: member()[1],
    }
    return world


class World(SimpleNamespace):
    """The network; tokens are made on first use (each staff user costs a password hash)."""

    def __getattr__(self, name: str):  # noqa: ANN204
        makers = self.__dict__.get("_makers", {})
        if name not in makers:
            raise AttributeError(name)
        value = makers[name]()
        setattr(self, name, value)
        return value


# --- fees from the config (what the engine must charge) -----------------------------------

def build_with_hours(monkeypatch) -> SimpleNamespace:  # noqa: ANN001
    """:func:`build` with the demo chain's hours: stores 07:00-22:00, the warehouse round the clock."""
    from o2o.stores.network import ALL_DAY, STORE_HOURS

    world = build(monkeypatch)
    for loc, hours in ((world.a, STORE_HOURS), (world.b, STORE_HOURS), (world.w, ALL_DAY)):
        loc.opening_hours = hours
        loc.save()
    world.monkeypatch = monkeypatch
    return world


def at(world: SimpleNamespace, hour: int, minute: int) -> datetime:
    """The world's day at ``hour:minute`` local time, as the clock everyone reads."""
    now = world.now.replace(hour=hour, minute=minute)
    world.monkeypatch.setattr(clock, "now", lambda: now)
    return now


def weight_fee(per_kg_fen: int, grams: int) -> int:
    return -(-per_kg_fen * grams // 1000)


def pick_fee(kind: NodeKind, lines: int) -> int:
    pick = routing_config().pick_cost[kind]
    return pick.per_order_fen + pick.per_line_fen * lines


def same_city_fee(src, grams: list[int]) -> int:  # noqa: ANN001 - a Location
    """The cheapest courier's fee from ``src`` to P (daytime) plus the store's pick fee."""
    cfg = routing_config()
    road = haversine_m(P, LatLng(src.lat, src.lng)) * cfg.circuity
    fees = []
    for c in cfg.couriers:
        km_over = math.ceil((road - c.base_distance_m) / 1000) if road > c.base_distance_m else 0
        fees.append(c.base_fee_fen + c.per_km_fen * km_over + sum(weight_fee(c.per_kg_fen, g) for g in grams))
    return pick_fee(NodeKind.STORE, len(grams)) + min(fees)


def express_fee(grams: list[int]) -> int:
    cfg = routing_config()
    return (pick_fee(NodeKind.WAREHOUSE, len(grams)) + cfg.express.base_fee_fen
            + sum(weight_fee(cfg.express.per_kg_fen, g) for g in grams))


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


# --- HTTP ---------------------------------------------------------------------------------

def post(client, url: str, body, token: str | None, key: str | None = None):  # noqa: ANN001
    headers = auth(token) if token else {}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **headers)


def lines(*pairs) -> list[dict]:  # noqa: ANN002
    return [{"sku_id": s.pk, "qty": q} for s, q in pairs]
