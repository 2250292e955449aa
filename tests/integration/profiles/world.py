"""A small world for the profile tests: two stores, a few SKUs in categories, members with orders of
every kind (POS sales, online pickups, same-city deliveries), made directly (no test here)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from o2o.core.loyalty import CHINA_TZ
from o2o.orders.models import Order, OrderLine, Shipment
from tests.factories import category, location, member, region, sku_in

AS_OF = datetime(2024, 6, 30, 23, 0, tzinfo=CHINA_TZ)
_seq = itertools.count(1)


def order(m, at: datetime, lines: list[tuple], *, channel: str = "pos", choice: str = "counter",  # noqa: ANN001
          store=None, ship_from=None, refunded: int = 0):  # noqa: ANN001
    """``lines``: (sku, qty, unit_fen, discount_fen). A shipment from ``ship_from`` for online orders."""
    n = next(_seq)
    goods = sum(q * u for _, q, u, _ in lines)
    disc = sum(d for *_, d in lines)
    o = Order.objects.create(number=f"PF{n:08d}", member=m, channel=channel, choice=choice, status="completed",
                             store=store, goods_fen=goods, discount_fen=disc, total_fen=goods - disc,
                             paid_fen=goods - disc, refunded_fen=refunded, created_at=at, paid_at=at,
                             completed_at=at, updated_at=at, external_ref=f"PF-{n}" if channel == "pos" else "")
    for s, q, u, d in lines:
        OrderLine.objects.create(order=o, sku=s, name=s.name, qty=q, unit_price_fen=u, list_price_fen=u,
                                 subtotal_fen=q * u, discount_fen=d, payable_fen=q * u - d)
    if ship_from is not None:
        mode = "pickup" if choice == "pickup" else "same_city"
        Shipment.objects.create(order=o, location=ship_from, mode=mode, status="completed")
    return o


def build() -> dict:
    reg = region()
    s1, s2 = location(reg), location(reg)
    food = category("FOOD", "食品")
    milk, wine = category("MILK", "牛奶", food), category("WINE", "葡萄酒", food)
    milk_sku, wine_sku = sku_in(milk, price_fen=1500), sku_in(wine, price_fen=20000)
    (gold, gold_tok), (casual, casual_tok), (idle, _) = member("金卡"), member("偶尔"), member("未购")
    # gold: online pickups at s1 every two weeks (big wine baskets), last 40 days before as-of
    for k in range(10):
        order(gold, AS_OF - timedelta(days=40 + 14 * k), [(wine_sku, 4, 20000, 5000), (milk_sku, 2, 1500, 0)],
              channel="mini_program", choice="pickup", store=s1, ship_from=s1)
    # casual: two POS sales at s2 and a same-city delivery from s2, lately
    order(casual, AS_OF - timedelta(days=20), [(milk_sku, 2, 1500, 0)], store=s2)
    order(casual, AS_OF - timedelta(days=10), [(milk_sku, 1, 1500, 0)], store=s2)
    order(casual, AS_OF - timedelta(days=2), [(milk_sku, 3, 1500, 300)], channel="app", choice="fastest",
          ship_from=s2)
    return {"s1": s1, "s2": s2, "gold": gold, "gold_tok": gold_tok, "casual": casual, "casual_tok": casual_tok,
            "idle": idle}
