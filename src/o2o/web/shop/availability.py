"""A product's availability for this customer, in words.

* Product page: the routing quote for one unit at the customer's point, with the current store
  as the chosen pickup store (``fulfilment.quotes.quote``): pickup at a store (distance, day),
  same-city delivery (minutes) and express (day), as the checkout would offer them. The quote
  keeps to the stores' opening hours: at night a pickup is "明天可自提 · 明天 07:15 前备好" and a
  same-city delivery from a closed store says its day and time ("明天 07:45 前送达"), not minutes.
* Lists: one cheap stock read for the whole page (``inventory.selectors.availability``, one
  aggregate query), giving a short badge per SKU; a quote per list item would cost ~10 ms each.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from o2o.common.errors import ApiError
from o2o.fulfilment.quotes import minutes_away, quote, round_up_quarter
from o2o.inventory.selectors import availability
from o2o.inventory.validation import Line
from o2o.web.shop.labels import day_text
from o2o.web.shop.state import Point, Store


@dataclass(frozen=True)
class Offer:
    kind: str  # pickup | same_city | express
    text: str
    detail: str
    location_id: int | None = None


@dataclass(frozen=True)
class Availability:
    headline: str
    tone: str  # ok | info | bad
    offers: tuple[Offer, ...]


def km(metres: float | int | None) -> str:
    if metres is None:
        return ""
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{int(metres)} m"


def _pickup(opt: dict, now) -> Offer:  # noqa: ANN001
    ship = opt["shipments"][0]
    day = day_text(opt["ready_by"], now)
    text = _("%(store)s 有货 %(km)s，%(day)s可自提") % {"store": ship["location_name"], "km": km(opt["distance_m"]),
                                                  "day": day}
    time = opt["ready_by"].strftime("%H:%M")
    if opt["ready_by"].date() == now.date():
        detail = _("%(time)s 前备好") % {"time": time}
    else:
        detail = _("%(day)s %(time)s 前备好") % {"day": day, "time": time}
    return Offer("pickup", text, detail, opt["location_id"])


def _same_city(opt: dict, now) -> Offer:  # noqa: ANN001
    minutes = minutes_away(opt["eta"]["earliest"], now)
    ship = opt["shipments"][0]
    if minutes is not None:
        text = _("可配送 约 %(min)s 分钟") % {"min": minutes}
    else:  # the store is closed now (or busy): when, not how long
        by = round_up_quarter(opt["eta"]["latest"])
        text = _("可配送 %(day)s %(time)s 前送达") % {"day": day_text(by, now), "time": by.strftime("%H:%M")}
    return Offer("same_city", text, _("由 %(store)s 配送") % {"store": ship["location_name"]})


def _express(opt: dict, now) -> Offer:  # noqa: ANN001
    day = day_text(opt["eta"]["latest"], now)
    return Offer("express", _("%(day)s快递送达") % {"day": day},
                 _("由 %(store)s 发货") % {"store": opt["shipments"][0]["location_name"]})


def for_product(sku_id: int, point: Point, store: Store | None) -> Availability:
    """How this customer can get one unit of the SKU (the quote's options, in words)."""
    try:
        q = quote(lines=[(sku_id, 1)], lat=point.lat, lng=point.lng,
                  pickup_location_id=store.id if store is not None else None)
    except ApiError:
        try:  # the current store may not take pickups: ask without it
            q = quote(lines=[(sku_id, 1)], lat=point.lat, lng=point.lng) if store is not None else None
        except ApiError:
            q = None
    if q is None:
        return Availability(_("附近门店暂时缺货"), "bad", ())
    now = q["now"]
    offers = []
    for opt in q["options"]:
        make = {"pickup": _pickup, "same_city": _same_city, "express": _express}.get(opt["kind"])
        if make is not None:
            offers.append(make(opt, now))
    if not offers:
        return Availability(_("附近门店暂时缺货"), "bad", ())
    first = offers[0]
    at_store = store is not None and first.kind == "pickup" and first.location_id == store.id
    if first.kind == "pickup" and not at_store and store is not None:
        return Availability(_("%(store)s 暂时缺货；%(other)s") % {"store": store.name, "other": first.text}, "info",
                            tuple(offers))
    return Availability(first.text, "ok" if first.kind != "express" else "info", tuple(offers))


def badges(sku_ids: list[int], point: Point, store: Store | None) -> dict[int, tuple[str, str]]:
    """{sku_id: (short text, tone)} for a page of SKUs: at the current store, nearby, by express, or none."""
    if not sku_ids:
        return {}
    try:
        found = availability(lat=point.lat, lng=point.lng, lines=[Line(s, 1) for s in sorted(set(sku_ids))],
                             exact=False, limit=200)
    except ApiError:
        return {}
    out: dict[int, tuple[str, str]] = {}
    for node in found["nodes"]:
        here = store is not None and node["location_id"] == store.id
        for ln in node["lines"]:
            if ln["available"] < 1:
                continue
            if here:
                out[ln["sku_id"]] = (_("门店有货"), "ok")
            elif ln["sku_id"] not in out or out[ln["sku_id"]][1] == "express":
                local = "pickup" in node["modes"] or "same_city" in node["modes"]
                out[ln["sku_id"]] = (_("附近有货"), "info") if local else (_("可快递"), "express")
    for s in sku_ids:
        out.setdefault(s, (_("暂时缺货"), "bad"))
    return {s: (text, "info" if tone == "express" else tone) for s, (text, tone) in out.items()}
