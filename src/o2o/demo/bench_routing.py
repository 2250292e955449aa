"""The routing benchmark: nearest, priority, myopic and wave on the same real orders, with a bound.

``o2o bench routing [--stores CSV] [--crs bd09] [--orders 5000] [--scarcity medium] [--seed 7] [--json]``

The scenario (same defaults for every store file; nothing here knows the demo chain):

* **Nodes**: the stores (pickup and same-city within 3 km), two central warehouses
  (express only) and a dark store (same-city within 5 km); see :mod:`.bench_data`.
  Pick capacity per hour: stores 20-40 (from the name), dark store 120, warehouses 400.
* **Orders**: ``--orders`` over one day. Baskets are drawn whole from the real Complete
  Journey baskets and each order arrives at its basket's real time of day (so the day has
  the real grocery peaks). Customer points from the POIs weighted by count (or around the
  stores). Choices: 25 % pickup, 40 % any, 25 % fastest, 10 %
  cheapest. A pickup customer accepts the 3 nearest stores within 3 km (else the nearest
  within 10 km); the checkout offers those with pick capacity left this hour, and the
  customer takes the first that has the whole basket (else the first offered), or
  delivery ("any") when no store is offered.
* **Stock**: planned on the expected demand of the basket population, not on the drawn
  orders. A store carries a SKU with the demo seed's probability by sales rank (the head
  10 % almost always, the tail ever more rarely; a dark store the head 30 %); it holds
  ``max(shelf_min, store_ratio x its share of the expected online demand)`` usable units
  (its share: customer points within its radius, split between the nodes reaching a
  point, and pickup points it is nearest to), with +-40 % noise and random rounding. Each
  warehouse carries every SKU: ``max(warehouse_min, warehouse_ratio x expected demand /
  warehouses)``. Store shelves are what is thin; a central warehouse holds days of the
  online demand (:data:`LEVELS_STOCK`).
* A customer orders only what the storefront shows at the start (some node in reach has
  usable stock; pickup: one of the chosen stores), capped at the largest usable quantity
  in reach. Lines then go unfilled only when earlier orders took the stock.

Every policy decides at the close of each 60 s window with the same clock
(:mod:`o2o.core.routing.simulate`). **Total cost** of an order is the routing objective,
the trade-off every policy is judged by: money spent (pick/pack, courier or express) +
lateness against the promise + ¥3 per extra parcel + the customer's time, valued at the
rate of their choice (fastest ¥0.30/min, any ¥0.03/min, cheapest and pickup 0) + ¥1,000
per unfilled line. The figures also give money and penalties without the time value. The
clairvoyant bound is the LP relaxation of the whole day, with rounding and cover cuts, by cut-and-price over the
same objective (:mod:`o2o.core.routing.bound`). The wave prices stock and capacity with
claim prices from 24 sampled forecast days (``--forecast-days``; other seeds' orders on the
same stock, never the actual orders; :func:`price_hook`, :mod:`o2o.core.routing.claims`).
Myopic and the wave also choose what the checkout offers a pickup customer (another store
of their list, or delivery; :func:`o2o.core.routing.simulate.offers`); nearest and priority
keep the nearest.
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from o2o.core.geo import LatLng, SpatialIndex
from o2o.core.routing import Choice, Mode, Network, Node, NodeKind, Order, OrderLine, RoutingConfig
from o2o.core.routing.bound import clairvoyant_bound, plan_cost
from o2o.core.routing.claims import ClaimBook, ForecastOrder
from o2o.core.routing.network import Usage
from o2o.core.routing.simulate import POLICIES, Arrival, PriceHook, Replay, Scenario, replay
from o2o.core.routing.surcharges import Surcharges
from o2o.demo import bench_data

__all__ = ["FORECAST_SAMPLES", "LEVELS", "LEVELS_STOCK", "build_scenario", "run"]

LEVELS = ("low", "medium", "high")
FORECAST_SEED_OFFSET = 1_000_003
FORECAST_SAMPLES = 24  # sampled forecast days whose claims price stock and pick tasks (docs/routing.md: 6, 12, 24, 48)


@dataclass(frozen=True)
class StockLevel:
    """How thin stock is: shelf minimum and demand multiple at stores, the same at warehouses."""

    shelf_min: int
    store_ratio: float
    warehouse_min: int
    warehouse_ratio: float


LEVELS_STOCK = {  # store shelves are what is thin; a central warehouse holds days of the online demand
    "low": StockLevel(shelf_min=6, store_ratio=3.0, warehouse_min=24, warehouse_ratio=10.0),
    "medium": StockLevel(shelf_min=3, store_ratio=1.5, warehouse_min=12, warehouse_ratio=5.0),
    "high": StockLevel(shelf_min=2, store_ratio=0.75, warehouse_min=6, warehouse_ratio=2.0),
}
CHOICES = ((Choice.PICKUP, 0.25), (Choice.ANY, 0.40), (Choice.FASTEST, 0.25), (Choice.CHEAPEST, 0.10))
SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2026, 12, 7, 0, 0, tzinfo=SHANGHAI)  # a Monday; orders come at their baskets' times of day
PICKUP_REACH_M = 10_000.0  # a customer with no store within PICKUP_NEAR_M collects at the nearest within this
PICKUP_NEAR_M = 3_000.0  # pickup customers accept the PICKUP_CHOICES nearest stores within this, nearest first
PICKUP_CHOICES = 3
SHARE_SAMPLE = 20_000


@dataclass(frozen=True)
class Inputs:
    """Everything read from files: nodes without stock, customer points, baskets, unit weights."""

    nodes: list[Node]
    pois: list[tuple[LatLng, int]] | None
    baskets: list[bench_data.Basket]
    weight_g: dict[int, int]
    source: str


def load_inputs(stores_csv: Path | None, crs: str) -> Inputs:
    if stores_csv is None:
        nodes, source = bench_data.demo_nodes(), "demo chain (世纪华联, 139 stores)"
    else:
        nodes, source = bench_data.derived_network(bench_data.load_store_file(stores_csv, crs)), str(stores_csv)
    catalog = bench_data.load_catalog()
    baskets = bench_data.load_baskets(catalog)
    pois = bench_data.load_pois()
    stores = [n for n in nodes if n.kind is NodeKind.STORE]
    index = SpatialIndex((n.node_id, n.location) for n in stores)
    near = sum(w for p, w in pois if index.within(p, PICKUP_REACH_M, limit=1))
    use_pois = near >= 0.5 * sum(w for _, w in pois)
    return Inputs(nodes, pois if use_pois else None, baskets, catalog.weight_g, source)


def _customer_sampler(inputs: Inputs, rng: random.Random) -> Callable[[], LatLng]:
    def jitter(p: LatLng, radius_m: float) -> LatLng:
        r, a = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        return LatLng(p.lat + r * math.cos(a) / 111_320, p.lng + r * math.sin(a) / (111_320 * math.cos(math.radians(p.lat))))

    if inputs.pois is not None:
        points = [p for p, _ in inputs.pois]
        cum = list(itertools.accumulate(w for _, w in inputs.pois))
        return lambda: jitter(rng.choices(points, cum_weights=cum)[0], 150.0)
    stores = [n.location for n in inputs.nodes if n.kind is NodeKind.STORE]
    return lambda: jitter(rng.choice(stores), 3000.0)


def carry_probability(rank: int, n_skus: int, head_share: float) -> float:
    """Chance that a store carries the SKU of sales rank ``rank`` (0 = best seller): the demo seed's rule."""
    head = max(1, round(n_skus * head_share))
    return 0.97 if rank < head else max(0.02, 0.97 * head / (rank + 1))


def _shares(inputs: Inputs, rng: random.Random) -> dict[object, float]:
    """Each node's share of the online orders: delivery points it reaches (split between the nodes
    reaching a point) and pickup points it is the nearest store to, mixed as the order choices are."""
    same_city = [n for n in inputs.nodes if Mode.SAME_CITY in n.capabilities]
    index = SpatialIndex((n.node_id, n.location) for n in same_city)
    pickup_index = SpatialIndex((n.node_id, n.location) for n in inputs.nodes if Mode.PICKUP in n.capabilities)
    radius = {n.node_id: n.delivery_radius_m for n in same_city}
    max_r = max(radius.values(), default=0.0)
    pickup_w = dict(CHOICES)[Choice.PICKUP]
    share: dict[object, float] = {}
    sample = _customer_sampler(inputs, rng)
    for _ in range(SHARE_SAMPLE):
        p = sample()
        covering = [k for k, _ in index.covering(p, lambda k: radius[k], max_radius_m=max_r)]
        for k in covering:
            share[k] = share.get(k, 0.0) + (1 - pickup_w) / len(covering) / SHARE_SAMPLE
        for k, _ in pickup_index.within(p, PICKUP_REACH_M, limit=1):
            share[k] = share.get(k, 0.0) + pickup_w / SHARE_SAMPLE
    return share


def _stock(inputs: Inputs, level: str, n_orders: int, rng: random.Random, config: RoutingConfig) -> dict[object, dict[int, int]]:
    """Stock per node (module doc): assortment by sales rank, quantities from the expected online demand."""
    lv = LEVELS_STOCK[level]
    per_basket: dict[int, float] = {}
    for basket in inputs.baskets:
        for pid, qty in basket.lines:
            per_basket[pid] = per_basket.get(pid, 0.0) + qty
    expected = {pid: n_orders * q / len(inputs.baskets) for pid, q in per_basket.items()}
    ranked = sorted(expected, key=lambda pid: (-expected[pid], pid))
    share = _shares(inputs, random.Random(rng.random()))
    n_wh = max(1, sum(1 for n in inputs.nodes if Mode.EXPRESS in n.capabilities))

    def draw(mean: float) -> int:
        x = mean * rng.uniform(0.6, 1.4)
        return int(x) + (rng.random() < x - int(x))

    stock: dict[object, dict[int, int]] = {}
    for node in inputs.nodes:
        keep = 1.0 - (config.walkin_share.get(node.kind, 0.0) if node.walkin_share is None else node.walkin_share)
        held: dict[int, int] = {}
        if Mode.EXPRESS in node.capabilities:
            for pid in ranked:
                held[pid] = max(lv.warehouse_min, draw(lv.warehouse_ratio * expected[pid] / n_wh))
        else:
            s = share.get(node.node_id, 0.0)
            head = 0.30 if node.kind is NodeKind.DARK_STORE else 0.10
            for rank, pid in enumerate(ranked):
                if rng.random() < carry_probability(rank, len(ranked), head):
                    held[pid] = max(lv.shelf_min, draw(lv.store_ratio * expected[pid] * s / max(keep, 0.05)))
        stock[node.node_id] = {pid: q for pid, q in held.items() if q > 0}
    return stock


def build_scenario(inputs: Inputs, level: str, n_orders: int, seed: int,
                   config: RoutingConfig | None = None, stock_seed: int | None = None) -> Scenario:
    """The scenario of one scarcity level; the same seed gives the same customers and baskets at every level.

    ``stock_seed`` (default ``seed``) draws the stock: a forecast is another seed's orders on
    the same stock.
    """
    config = config or RoutingConfig()
    rng_orders = random.Random(seed)
    rng_stock = random.Random(f"{seed if stock_seed is None else stock_seed}/{level}")
    stock = _stock(inputs, level, n_orders, rng_stock, config)
    nodes = tuple(replace(n, stock=stock[n.node_id]) for n in inputs.nodes)
    network = Network(nodes, config)
    pickup_index = SpatialIndex((n.node_id, n.location) for n in nodes if Mode.PICKUP in n.capabilities)
    sample = _customer_sampler(inputs, rng_orders)
    drawn = sorted(((b.minute_of_day + rng_orders.random(), b) for b in rng_orders.choices(inputs.baskets, k=n_orders)),
                   key=lambda mb: mb[0])
    arrivals = []
    for i, (minute, basket) in enumerate(drawn):
        dest = sample()
        choice = rng_orders.choices([c for c, _ in CHOICES], weights=[w for _, w in CHOICES])[0]
        options: tuple[object, ...] = ()
        if choice is Choice.PICKUP:
            options = tuple(k for k, _ in pickup_index.within(dest, PICKUP_NEAR_M, limit=PICKUP_CHOICES))
            options = options or tuple(k for k, _ in pickup_index.within(dest, PICKUP_REACH_M, limit=1))
            if not options:
                choice = Choice.ANY
        reach = list(options) if options else _reach(network, dest)
        lines = []
        for pid, qty in basket.lines:
            most = max((network.usable(n, pid) for n in reach), default=0)  # type: ignore[arg-type]
            if most > 0:
                lines.append(OrderLine(pid, min(qty, most), inputs.weight_g[pid]))
        if lines:
            order = Order(f"B{i:05d}", tuple(lines), dest, choice, options[0] if options else None)
            arrivals.append(Arrival(minute, order, options, Choice.ANY if options else None))  # type: ignore[arg-type]
    return Scenario(nodes=nodes, arrivals=tuple(arrivals), start=START, window_s=60, config=config)


def _reach(network: Network, dest: LatLng) -> list[object]:
    out = [n.node_id for n in network.express_nodes]
    out += [k for k, _ in network.same_city_index.covering(
        dest, lambda k: float(network.by_id[k].delivery_radius_m), max_radius_m=network.max_radius_m)]
    return out


def _pct(values: list[int], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return float(s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))])


def figures(result: Replay, scenario: Scenario) -> dict[str, float | int]:
    """The reported figures of one policy's replay."""
    config = scenario.config
    plans = result.plans
    n = max(1, len(plans))
    etas = [p.latest_min for p in plans if p.shipments]
    same_day = 0
    for plan, arrival in zip(plans, scenario.arrivals, strict=True):
        day = scenario.decided_at(arrival).date()
        if plan.shipments and not plan.unfilled and all(s.eta.latest.astimezone(SHANGHAI).date() == day
                                                         for s in plan.shipments):
            same_day += 1
    total = sum(p.objective_fen for p in plans)
    cost = sum(plan_cost(p, config) for p in plans)
    return {
        "orders": len(plans),
        "total_cost_fen": total,
        "cost_per_order_fen": round(total / n, 1),
        "money_and_penalties_fen": cost,
        "time_value_fen": total - cost,
        "shipping_cost_fen": sum(p.cost_fen for p in plans),
        "cash_fen": sum(p.cash_fen for p in plans),
        "parcels_per_order": round(sum(p.parcels for p in plans) / n, 4),
        "same_day_share": round(same_day / n, 4),
        "eta_mean_min": round(statistics.fmean(etas), 1) if etas else 0.0,
        "eta_p95_min": _pct(etas, 0.95),
        "unfilled_lines": sum(len(p.unfilled) for p in plans),
        "unfilled_by_reason": dict(Counter(u.reason.value for p in plans for u in p.unfilled).most_common()),
        "decisions_per_s": round(len(plans) / result.seconds, 1) if result.seconds > 0 else 0.0,
        "violations": len(result.violations),
        **({"mip_windows": result.mip_windows, "windows": result.windows} if result.policy == "wave" else {}),
    }


def _below(a: float, b: float) -> float:
    """How far ``a`` is below ``b``, in percent of ``b``."""
    return round(100.0 * (b - a) / b, 2) if b else 0.0


def goals(level: dict) -> dict[str, float | bool]:
    wave, near, myo, bound = level["wave"], level["nearest"], level["myopic"], level["bound"]
    out: dict[str, float | bool] = {
        "wave_cost_below_nearest_pct": _below(wave["total_cost_fen"], near["total_cost_fen"]),
        "wave_cost_below_myopic_pct": _below(wave["total_cost_fen"], myo["total_cost_fen"]),
        "wave_parcels_below_nearest_pct": _below(wave["parcels_per_order"], near["parcels_per_order"]),
        "wave_above_bound_pct": round(100.0 * (wave["total_cost_fen"] - bound["lower_bound_fen"])
                                      / max(1.0, bound["lower_bound_fen"]), 2),
        "violations": sum(level[p]["violations"] for p in POLICIES),
    }
    out["met"] = (out["wave_cost_below_nearest_pct"] >= 15 and out["wave_cost_below_myopic_pct"] >= 3
                  and out["wave_parcels_below_nearest_pct"] >= 20 and out["wave_above_bound_pct"] <= 5
                  and out["violations"] == 0)
    return out


def run_level(inputs: Inputs, level: str, n_orders: int, seed: int,
              log: Callable[[str], None], bound_time_s: float, forecast_days: int = FORECAST_SAMPLES) -> dict:
    started = time.perf_counter()
    scenario = build_scenario(inputs, level, n_orders, seed)
    log(f"[{level}] {len(scenario.arrivals)} orders, {sum(len(a.order.lines) for a in scenario.arrivals)} lines, "
        f"{sum(len(n.stock) for n in scenario.nodes)} stock rows (built in {time.perf_counter() - started:.1f} s)")
    out: dict = {}
    replays: dict[str, Replay] = {}
    for policy in POLICIES:
        hook = price_hook(inputs, level, n_orders, seed, scenario, log, forecast_days) if policy == "wave" else None
        replays[policy] = replay(scenario, policy, prices=hook, steer=True)
        out[policy] = figures(replays[policy], scenario)
        log(f"[{level}] {policy:9s} {_line(out[policy])}")
    bound = clairvoyant_bound(
        [a.variants() for a in scenario.arrivals], [scenario.decided_at(a) for a in scenario.arrivals],
        [scenario.hour_of(a) for a in scenario.arrivals], scenario.nodes, scenario.config,
        [replays[p].plans for p in POLICIES], time_limit_s=bound_time_s)
    out["bound"] = {"lower_bound_fen": round(bound.lower_bound_fen), "lp_value_fen": round(bound.lp_value_fen),
                    "integer_clairvoyant_fen": round(bound.integer_fen) if bound.integer_fen is not None else None,
                    "method": "LP relaxation with rounding and cover cuts, by cut-and-price (Lagrangian bound)", "rounds": bound.rounds,
                    "columns": bound.columns, "status": bound.status, "seconds": round(bound.seconds, 1)}
    log(f"[{level}] bound     {out['bound']}")
    out["goals"] = goals(out)
    log(f"[{level}] goals     {out['goals']}")
    return out


def price_hook(inputs: Inputs, level: str, n_orders: int, seed: int, scenario: Scenario,
               log: Callable[[str], None], forecast_days: int = FORECAST_SAMPLES) -> PriceHook:
    """Claim prices for the wave from a forecast: other seeds' days of orders on the same stock.

    The forecast knows the demand model (customer points, basket mix, time of day, volume),
    never the actual orders. Each of ``forecast_days`` sampled days states its orders'
    wishes once; every window then prices the units and pick tasks its orders could take
    against the stock and capacity left at that moment (:mod:`o2o.core.routing.claims`).
    """
    started = time.perf_counter()
    forecasts = [build_scenario(inputs, level, n_orders, seed + FORECAST_SEED_OFFSET * (k + 1), scenario.config,
                                stock_seed=seed) for k in range(forecast_days)]
    network = Network([replace(n, queue=0) for n in scenario.nodes], scenario.config)
    book = ClaimBook([[ForecastOrder(f.decided_at(a), f.hour_of(a), a.variants()) for a in f.arrivals]
                      for f in forecasts], network)
    log(f"[{level}]   claim book: {forecast_days} forecast days, {sum(len(f.arrivals) for f in forecasts)} orders "
        f"({time.perf_counter() - started:.0f} s)")

    def hook(now: datetime, hour: int, usage: Usage, orders: list[Order]) -> Surcharges | None:
        return book.surcharges(orders, now, hour, usage)

    return hook


def _line(f: dict) -> str:
    return (f"total/order ¥{f['cost_per_order_fen'] / 100:.2f} (money ¥{f['money_and_penalties_fen'] / 100 / f['orders']:.2f})  parcels {f['parcels_per_order']:.3f}  "
            f"same-day {f['same_day_share']:.1%}  eta {f['eta_mean_min']:.0f}/{f['eta_p95_min']:.0f} min  "
            f"unfilled {f['unfilled_lines']} {f['unfilled_by_reason']}  {f['decisions_per_s']:.0f}/s  "
            f"violations {f['violations']}")


def run(*, stores_csv: Path | None, crs: str, n_orders: int, levels: list[str], seed: int,
        log: Callable[[str], None], bound_time_s: float = 600.0, forecast_days: int = FORECAST_SAMPLES) -> dict:
    if forecast_days < 1:
        raise ValueError("--forecast-days must be at least 1")
    inputs = load_inputs(stores_csv, crs)
    log(f"network: {inputs.source}: {len(inputs.nodes)} nodes; customers: "
        f"{'POIs by count' if inputs.pois is not None else 'around the stores'}; {len(inputs.baskets)} real baskets")
    result: dict = {"orders": n_orders, "seed": seed, "stores": inputs.source, "forecast_days": forecast_days}
    for level in levels:
        result[level] = run_level(inputs, level, n_orders, seed, log, bound_time_s, forecast_days)
    return result

