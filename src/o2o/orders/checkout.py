"""The checkout quote: priced lines and, for each fulfilment option the routing quote offers
(pickup at a nearby store, same-city, express), the delivery fee and the total to pay.

Prices at a pickup option are that store's (线上线下同价: the shelf price of the store the
goods come from); delivery options use the customer's current store, else chain prices.

An option's ``kind`` is also the ``choice`` that places it (``POST /orders``): ``same_city`` and
``express`` route exactly as quoted (``fulfilment.models.routing_of``), so the order's total is
the option's ``total_fen``.

Time: the routing quote reads the routing clock (``fulfilment.clock``: local time, which tests
move) unless a ``now`` is given; any aware ``now`` is read in local time by the fulfilment app.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from o2o.core.orders import Totals
from o2o.fulfilment import quotes
from o2o.orders.pricing import price_basket, totals_json


def _lines(totals: Totals, names: dict[int, str], list_prices: dict[int, int]) -> list[dict[str, Any]]:
    return [{"sku_id": ln.sku_id, "name": names[ln.sku_id], "qty": ln.qty, "unit_price_fen": ln.unit_price_fen,
             "list_price_fen": list_prices[ln.sku_id], "subtotal_fen": ln.subtotal_fen,
             "discount_fen": ln.discount_fen, "payable_fen": ln.payable_fen} for ln in totals.lines]


def checkout_quote(*, lines: list[tuple[int, int]], channel: str, lat: float, lng: float, coord: str = "gcj02",
                   price_location_id: int | None = None, pickup_location_id: int | None = None,
                   member_id: int | None = None, now: datetime | None = None, coupon_ids: tuple[int, ...] = (),
                   points: int = 0) -> dict[str, Any]:
    # Routing reads ``now``, else the routing clock (``fulfilment.clock``), in local time (labels, cut-offs,
    # surcharges); prices are read at ``now``, else the wall clock, as placing the order prices them.
    at = now or timezone.now()
    context = {"member_id": member_id, "channel": channel, "coupon_ids": coupon_ids, "points": points}
    base = price_basket(lines, location_id=price_location_id, channel=channel, at=at, context=context)
    names = {k: s.name for k, s in base.skus.items()}
    list_prices = {k: s.list_price_fen for k, s in base.skus.items()}
    q = quotes.quote(lines=lines, lat=lat, lng=lng, coord=coord, pickup_location_id=pickup_location_id, now=now)
    options = []
    for opt in q["options"]:
        kind = opt["kind"]
        at_store = opt.get("location_id") if kind == "pickup" else price_location_id
        ctx = context if kind == "pickup" else {**context, "fulfil_location_ids": tuple(sorted({
            sh["location_id"] for sh in opt.get("shipments", [])}))}
        priced = price_basket(lines, location_id=at_store, channel=channel, at=at, modes=[kind], context=ctx)
        options.append({"kind": kind, "label": opt["label"], "label_en": opt["label_en"],
                        "delivery_fee_fen": priced.totals.delivery_fee_fen, "total_fen": priced.totals.total_fen,
                        "detail": {**opt, "lines": _lines(priced.totals, names, list_prices),
                                   "goods_fen": priced.totals.goods_fen,
                                   "discount_fen": priced.totals.discount_fen,
                                   "adjustments": totals_json(priced.totals)["adjustments"],
                                   "marketing": priced.extras}})
    t = totals_json(base.totals)
    return {"lines": _lines(base.totals, names, list_prices), "goods_fen": t["goods_fen"],
            "discount_fen": t["discount_fen"], "adjustments": t["adjustments"], "explanation": t["explanation"],
            "options": options, "marketing": base.extras}
