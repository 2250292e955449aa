"""Checkout quotes: the fulfilment options a cart has at the customer's point. Stores nothing.

Three kinds of option, each offered only when it fills **every** line:

* ``pickup``: up to 3 pickup stores nearest the customer within ``O2O["PICKUP_REACH_M"]``
  (the chosen ``pickup_location_id`` first, whatever its distance) that fill the cart alone;
* ``same_city``: the engine's best plan with ``Choice.FASTEST`` over same-city sources only;
* ``express``: the engine's best plan with ``Choice.CHEAPEST`` over express sources only.

Each kind is also a placement choice (``models.ChoiceKind``) routed by the same definition
(``models.routing_of``), so an order placed with an option's kind gets the plan it was quoted.

``now`` may be any aware time: it is read in local time (``clock.local``), as the engine's
hours (night surcharge, express cut-off, this hour's capacity, the locations' opening hours)
and the labels' days are.

Opening hours: a location picks, has pickups ready and hands parcels to riders only while
open (``core.routing.eta``), so at night a pickup reads "明天 07:15 前可取" and a same-city
delivery that cannot leave within ``MINUTES_TEXT_MAX`` minutes (its store is closed, or its
queue is long) reads as a day and a time ("同城配送 明天 07:45 前送达"), never "约 400 分钟".

``fee_fen`` is what the customer pays: the plan's cash cost (pick/pack plus courier or
carrier), no margin and no free-delivery threshold yet. When no option fills the cart the
answer is 422 ``cannot_fill`` naming each line and the engine's reason codes per option.

Queries: SKUs, locations, stock, routed shipments (``network.load_network``); then pure
routing, so the cost does not grow with the number of nodes in queries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from o2o.common.errors import InvalidInput
from o2o.core.geo import LatLng
from o2o.core.routing import Choice, Mode, Network, Order, OrderLine, Plan, Reason, route
from o2o.fulfilment import clock
from o2o.fulfilment.models import ChoiceKind, routing_of
from o2o.fulfilment.network import Site, Snapshot, load_basket, load_network, pickup_reach_m
from o2o.inventory.selectors import to_gcj02

MAX_PICKUP_OPTIONS = 3
MINUTES_TEXT_MAX = 120  # a same-city ETA further off is shown as a day and a time, not minutes
_QUARTER = 15


class CannotFill(InvalidInput):
    code = "cannot_fill"

    def __init__(self, lines: list[dict]) -> None:
        super().__init__("无法满足购物车中的全部商品 No fulfilment option fills every line", details={"lines": lines})


def yuan(fen: int) -> str:
    """Fen as price text with two decimals: 600 -> "¥6.00"."""
    return f"¥{fen // 100}.{fen % 100:02d}"


def day_word(at: datetime, now: datetime) -> tuple[str, str]:
    """(Chinese, English) day of ``at`` relative to ``now``: 今天, 明天, 后天 or the date."""
    days = (at.date() - now.date()).days
    if days == 0:
        return "今天", "today"
    if days == 1:
        return "明天", "tomorrow"
    if days == 2:
        return "后天", "the day after tomorrow"
    return f"{at.month}月{at.day}日", at.strftime("%b %d").replace(" 0", " ")


def round_up_quarter(at: datetime) -> datetime:
    """The next quarter hour at or after ``at`` (what a pickup promise shows)."""
    base = at.replace(second=0, microsecond=0)
    if base < at:
        base += timedelta(minutes=1)
    return base + timedelta(minutes=(-base.minute) % _QUARTER)


def minutes_away(at: datetime, now: datetime) -> int | None:
    """Whole minutes from ``now`` to ``at`` (at least 1) when at most ``MINUTES_TEXT_MAX``; else None:
    say the day and time (``round_up_quarter`` of the window's end) instead."""
    minutes = max(1, math.ceil((at - now).total_seconds() / 60 - 1e-9))
    return minutes if minutes <= MINUTES_TEXT_MAX else None


def _shipments(plan: Plan, sites: dict[int, Site]) -> list[dict]:
    return [{"location_id": s.node_id, "location_name": s.node_name, "location_code": sites[s.node_id].code,
             "mode": s.mode.value, "courier": s.courier,
             "lines": [{"sku_id": ln.sku_id, "qty": ln.qty} for ln in s.lines],
             "distance_m": s.distance_m, "fee_fen": s.cost.cash_fen,
             "eta": {"earliest": s.eta.earliest, "latest": s.eta.latest}} for s in plan.shipments]


def _option(kind: str, plan: Plan, sites: dict[int, Site], label: str, label_en: str, **extra) -> dict:
    return {"kind": kind, "label": label, "label_en": label_en, "fee_fen": plan.cash_fen,
            "eta": {"earliest": max(s.eta.earliest for s in plan.shipments),
                    "latest": max(s.eta.latest for s in plan.shipments)},
            "shipments": _shipments(plan, sites), "explanation": plan.explanation, "distance_m": None, **extra}


def complete(plan: Plan) -> bool:
    return bool(plan.shipments) and not plan.unfilled


@dataclass
class _Quote:
    lines: tuple[OrderLine, ...]
    snap: Snapshot
    now: datetime
    reasons: dict[str, dict[int, str]]  # option kind -> sku -> reason code

    def order(self, choice: Choice, pickup_id: int | None = None) -> Order:
        return Order(order_id="quote", lines=self.lines, destination=self.snap.point, choice=choice,
                     pickup_node_id=pickup_id)

    def note(self, kind: str, plan: Plan) -> None:
        self.reasons[kind] = {u.sku_id: u.reason.value for u in plan.unfilled}  # type: ignore[misc]

    def fills_alone(self, node_id: int) -> bool:
        net = self.snap.network
        return all(net.usable(node_id, ln.sku_id) >= ln.qty for ln in self.lines) and net.capacity_left(node_id) > 0


def _pickup_options(q: _Quote, chosen: int | None) -> list[dict]:
    sites, net = q.snap.sites, q.snap.network
    reach = pickup_reach_m()
    near = sorted((s.distance_m, s.id) for s in sites.values()
                  if s.can_pickup and s.distance_m <= reach and s.id in net.by_id and s.id != chosen)
    ids = ([chosen] if chosen is not None else []) + [i for _, i in near]
    if not ids:
        q.reasons["pickup"] = {ln.sku_id: Reason.OUT_OF_REACH.value for ln in q.lines}  # type: ignore[misc]
        return []
    out: list[dict] = []
    choice, _modes = routing_of(ChoiceKind.PICKUP)  # every mode: the engine keeps to the chosen store
    for n, i in enumerate(ids):
        if len(out) >= MAX_PICKUP_OPTIONS:
            break
        if n > 0 and not q.fills_alone(i):  # cheap pre-check; the first store is routed for its reasons
            continue
        plan = route(q.order(choice, i), net, q.now)
        if n == 0:
            q.note("pickup", plan)  # the reasons of the chosen (else nearest) store
        if not complete(plan):
            continue
        site = sites[i]
        ready = round_up_quarter(plan.shipments[0].eta.latest)
        day, day_en = day_word(ready, q.now)
        km = f"{site.distance_m / 1000:.1f}"
        out.append(_option(
            "pickup", plan, sites,
            f"门店自提 {site.name} {km} km {day} {ready:%H:%M} 前可取",
            f"Pickup at {site.name}, {km} km, ready by {ready:%H:%M} {day_en}",
            distance_m=round(site.distance_m), location_id=i, ready_by=ready))
    if out:
        q.reasons["pickup"] = {}
    return out


def _delivery_option(q: _Quote, kind: str, net: Network, choice: Choice) -> dict | None:
    plan = route(q.order(choice), net, q.now)
    q.note(kind, plan)
    if not complete(plan):
        return None
    fee = yuan(plan.cash_fen)
    if kind == "same_city":
        minutes = max(s.eta.earliest_min for s in plan.shipments)
        if minutes <= MINUTES_TEXT_MAX:
            return _option(kind, plan, q.snap.sites, f"同城配送 约 {minutes} 分钟 {fee}",
                           f"Same-city delivery, about {minutes} min, {fee}")
        by = round_up_quarter(max(s.eta.latest for s in plan.shipments))
        day, day_en = day_word(by, q.now)
        return _option(kind, plan, q.snap.sites, f"同城配送 {day} {by:%H:%M} 前送达 {fee}",
                       f"Same-city delivery by {by:%H:%M} {day_en}, {fee}")
    arrives = max(s.eta.latest for s in plan.shipments)
    day, day_en = day_word(arrives, q.now)
    return _option(kind, plan, q.snap.sites, f"快递 {day}送达 {fee}", f"Express, delivered {day_en}, {fee}")


def _cannot_fill(q: _Quote) -> CannotFill:
    kinds = ("pickup", "same_city", "express")
    lines = []
    for ln in q.lines:
        by_option = {k: q.reasons.get(k, {}).get(ln.sku_id) for k in kinds}  # type: ignore[call-overload]
        lines.append({"sku_id": ln.sku_id, "qty": ln.qty,
                      "reasons": sorted({r for r in by_option.values() if r}), "by_option": by_option})
    return CannotFill(lines)


def network_for(snap: Snapshot, modes: frozenset[Mode] | None) -> Network:
    """The snapshot's network restricted to ``modes`` (``routing_of``); None: the whole network."""
    return snap.network if modes is None else snap.only(modes)


def destination(lat: float, lng: float, coord: str) -> LatLng:
    """The customer's point in GCJ-02; 422 ``coords_outside_china`` / ``invalid_coord``."""
    if not (math.isfinite(lat) and math.isfinite(lng)):
        lat, lng = 0.0, 0.0  # to_gcj02 answers outside China for it
    return to_gcj02(lat, lng, coord)


def check_pickup_location(snap: Snapshot, pickup_location_id: int | None) -> None:
    if pickup_location_id is None:
        return
    site = snap.sites.get(pickup_location_id)
    if site is None or not site.can_pickup:
        raise InvalidInput("自提门店不存在或不支持自提 Unknown pickup store", code="unknown_pickup_location",
                           details={"pickup_location_id": pickup_location_id})


def quote(*, lines: list[tuple[int, int]], lat: float, lng: float, coord: str = "gcj02",
          pickup_location_id: int | None = None, now: datetime | None = None) -> dict:
    """The options for a cart at a point (module docstring); 422 when none fills every line."""
    basket = load_basket(lines)
    point = destination(lat, lng, coord)
    now = clock.local(now)  # the engine and the labels read local hours and days
    snap = load_network(lines=basket, point=point, now=now, pickup_location_id=pickup_location_id)
    check_pickup_location(snap, pickup_location_id)
    q = _Quote(basket, snap, now, {})
    options = _pickup_options(q, pickup_location_id)
    for kind in (ChoiceKind.SAME_CITY, ChoiceKind.EXPRESS):
        choice, modes = routing_of(kind)
        opt = _delivery_option(q, kind.value, network_for(snap, modes), choice)
        if opt is not None:
            options.append(opt)
    if not options:
        raise _cannot_fill(q)
    return {"destination": {"lat": point.lat, "lng": point.lng, "coord": "gcj02"}, "now": now,
            "lines": [{"sku_id": ln.sku_id, "qty": ln.qty} for ln in basket], "options": options}
