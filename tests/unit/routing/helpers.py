"""Builders, a brute-force reference optimiser and independent recounts for the routing tests."""

from __future__ import annotations

import itertools
import math
import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone

from o2o.core.geo import LatLng
from o2o.core.routing import (
    Choice,
    Mode,
    Network,
    Node,
    NodeKind,
    Order,
    OrderLine,
    Plan,
    RoutingConfig,
    Usage,
)
from o2o.core.routing.basket import make_basket
from o2o.core.routing.candidates import gather
from o2o.core.routing.surcharges import Surcharges

SHANGHAI_TZ = timezone(timedelta(hours=8))
NOW = datetime(2024, 6, 1, 14, 0, tzinfo=SHANGHAI_TZ)
CENTRE = LatLng(31.2000, 121.4500)

STORE_MODES = frozenset({Mode.SAME_CITY, Mode.PICKUP})
WAREHOUSE_MODES = frozenset({Mode.EXPRESS})


def offset(point: LatLng, north_m: float, east_m: float) -> LatLng:
    """A point ``north_m``/``east_m`` metres from ``point`` (small distances)."""
    dlat = north_m / 111_195.0
    dlng = east_m / (111_195.0 * math.cos(math.radians(point.lat)))
    return LatLng(point.lat + dlat, point.lng + dlng)


def store(node_id: str, north_m: float, east_m: float, stock: dict, **kw: object) -> Node:
    kw.setdefault("walkin_share", 0.0)
    return Node(
        node_id=node_id,
        name=kw.pop("name", f"{node_id}店"),  # type: ignore[arg-type]
        kind=kw.pop("kind", NodeKind.STORE),  # type: ignore[arg-type]
        location=offset(CENTRE, north_m, east_m),
        capabilities=kw.pop("capabilities", STORE_MODES),  # type: ignore[arg-type]
        stock=stock,
        **kw,  # type: ignore[arg-type]
    )


def warehouse(node_id: str, north_m: float, east_m: float, stock: dict, **kw: object) -> Node:
    kw.setdefault("kind", NodeKind.WAREHOUSE)
    kw.setdefault("capabilities", WAREHOUSE_MODES)
    kw.setdefault("capacity", 1000)
    return store(node_id, north_m, east_m, stock, **kw)


def order(*lines: tuple, choice: Choice = Choice.CHEAPEST, dest: LatLng | None = CENTRE, **kw: object) -> Order:
    return Order(
        order_id=kw.pop("order_id", "o1"),  # type: ignore[arg-type]
        lines=tuple(OrderLine(*ln) for ln in lines),
        destination=dest,
        choice=choice,
        **kw,  # type: ignore[arg-type]
    )


# --- brute force


def brute_force(order_: Order, network: Network, now: datetime, usage: Usage | None = None,
                surcharges: Surcharges | None = None) -> int:
    """The least objective over every assignment of every line to a candidate source or to nothing.

    No dominance pruning, no bounds, no vectorisation: it tries everything and prices each
    assignment from the rate cards directly (pick cost, tariff fixed fee, per-line weight fee,
    lateness, extra parcels, time value, unfilled penalty), plus, when given, the surcharges
    read from their raw maps (per shipment at the node, per unit of the line's SKU there).
    """
    config = network.config
    basket = make_basket(order_.lines)
    sources = gather(order_, basket, network, now, usage).sources
    penalty = config.unfilled_line_penalty_fen
    base = penalty * len(basket.invalid)
    best = base + penalty * basket.m
    choices = [[-1] + [i for i, s in enumerate(sources) if s.cover >> line & 1] for line in range(basket.m)]
    for assign in itertools.product(*choices):
        used = sorted({i for i in assign if i >= 0})
        if len(used) > config.max_parcels:
            continue
        if len({sources[i].node.node_id for i in used}) != len(used):
            continue
        total = base + penalty * assign.count(-1)
        if used:
            total += config.extra_parcel_penalty_fen * (len(used) - 1)
            total += config.time_cost(order_.choice, max(sources[i].eta.latest_min for i in used))
        for i in used:
            lines = [ln for ln, c in enumerate(assign) if c == i]
            s = sources[i]
            total += s.pick.per_order_fen + s.pick.per_line_fen * len(lines) + s.lateness_fen
            if surcharges is not None:
                node = s.node.node_id
                total += surcharges.shipment(node)
                total += sum(surcharges.line(node, basket.skus[ln], basket.qtys[ln]) for ln in lines)
            if s.tariff is not None:
                total += s.tariff.base_fen + s.tariff.distance_fen + s.tariff.night_fen
                total += sum(-(-s.tariff.per_kg_fen * basket.weights[ln] // 1000) for ln in lines)
        best = min(best, total)
    return best


# --- independent recounts


def usage_of(plans: Sequence[Plan]) -> tuple[dict, dict]:
    """Units per (node, sku) and parcels per node that ``plans`` take."""
    stock: dict = {}
    parcels: dict = {}
    for plan in plans:
        for s in plan.shipments:
            parcels[s.node_id] = parcels.get(s.node_id, 0) + 1
            for ln in s.lines:
                stock[(s.node_id, ln.sku_id)] = stock.get((s.node_id, ln.sku_id), 0) + ln.qty
    return stock, parcels


def assert_within_limits(plans: Sequence[Plan], nodes: Sequence[Node], config: RoutingConfig) -> None:
    """Recount stock (after the walk-in buffer, recomputed here) and capacity from scratch."""
    by_id = {n.node_id: n for n in nodes}
    stock, parcels = usage_of(plans)
    for (node_id, sku), qty in stock.items():
        node = by_id[node_id]
        share = node.walkin_share if node.walkin_share is not None else config.walkin_share[node.kind]
        usable = node.stock.get(sku, 0) * (10_000 - round(share * 10_000)) // 10_000
        assert qty <= usable, (node_id, sku, qty, usable)
    for node_id, n in parcels.items():
        assert n <= by_id[node_id].capacity, (node_id, n)


def assert_plan_consistent(plan: Plan, order_: Order, config: RoutingConfig) -> None:
    """Every valid line is shipped once or reported unfilled; totals add up."""
    basket = make_basket(order_.lines)
    shipped = [ln.sku_id for s in plan.shipments for ln in s.lines]
    unfilled = [u.sku_id for u in plan.unfilled]
    assert len(shipped) == len(set(shipped))
    assert sorted(map(str, shipped + unfilled)) == sorted(map(str, [*basket.skus, *(i.sku_id for i in basket.invalid)]))
    assert len({s.node_id for s in plan.shipments}) == len(plan.shipments)
    assert plan.cost_fen == sum(s.cost.total_fen for s in plan.shipments)
    time_cost = config.time_cost(plan.choice, plan.latest_min) if plan.shipments else 0
    assert plan.objective_fen == plan.cost_fen + time_cost + config.unfilled_line_penalty_fen * len(plan.unfilled)


# --- synthetic networks for measurements (used by bench_single.py, not by timed tests)


def synthetic_network(
    points: Sequence[tuple[str, LatLng]],
    skus: int,
    seed: int,
    fill: float = 0.6,
    warehouses: int = 2,
    config: RoutingConfig | None = None,
) -> Network:
    """Stores at ``points`` each holding a random ``fill`` share of ``skus`` SKUs, plus warehouses."""
    rng = random.Random(seed)
    nodes = []
    for i, (name, p) in enumerate(points):
        stock = {f"s{k}": rng.randint(0, 12) for k in range(skus) if rng.random() < fill}
        nodes.append(
            Node(
                node_id=i,
                name=name,
                kind=NodeKind.STORE,
                location=p,
                capabilities=STORE_MODES,
                stock=stock,
                delivery_radius_m=rng.choice([2000.0, 3000.0, 3000.0, 5000.0]),
                capacity=rng.randint(5, 40),
                queue=rng.randint(0, 10),
                pick_rate_per_hour=rng.choice([20.0, 30.0, 40.0]),
            )
        )
    for w in range(warehouses):
        stock = {f"s{k}": rng.randint(0, 200) for k in range(skus) if rng.random() < 0.9}
        nodes.append(
            Node(
                node_id=f"wh{w}",
                name=f"中心仓{w}",
                kind=NodeKind.WAREHOUSE,
                location=LatLng(31.0 + 0.3 * w, 121.25 + 0.3 * w),
                capabilities=WAREHOUSE_MODES,
                stock=stock,
                capacity=100_000,
                pick_rate_per_hour=500.0,
            )
        )
    return Network(nodes, config)


def random_orders(n: int, skus: int, seed: int, sizes: Sequence[int], box: tuple[float, float, float, float]) -> list[Order]:
    """``n`` orders with basket sizes drawn from ``sizes`` and destinations in ``box`` (lat0, lat1, lng0, lng1)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        size = rng.choice(sizes)
        picked = rng.sample(range(skus), min(size, skus))
        lines = tuple(OrderLine(f"s{k}", rng.choice([1, 1, 1, 2, 3]), rng.choice([100, 250, 500, 1000, 2000])) for k in picked)
        dest = LatLng(rng.uniform(box[0], box[1]), rng.uniform(box[2], box[3]))
        out.append(Order(i, lines, dest, rng.choice([Choice.ANY, Choice.CHEAPEST, Choice.FASTEST])))
    return out


def time_single(route_fn: Callable[[Order], object], orders: Sequence[Order], repeat: int = 1) -> dict[str, float]:
    """Latency of ``route_fn`` over ``orders`` in milliseconds: mean, p50, p95, p99, max.

    A measuring helper for manual runs (see bench_single.py); no test asserts on time.
    """
    samples = []
    for _ in range(repeat):
        for o in orders:
            start = time.perf_counter()
            route_fn(o)
            samples.append((time.perf_counter() - start) * 1000.0)
    samples.sort()

    def q(p: float) -> float:
        return samples[min(len(samples) - 1, int(p * len(samples)))]

    return {
        "n": float(len(samples)),
        "mean_ms": sum(samples) / len(samples),
        "p50_ms": q(0.50),
        "p95_ms": q(0.95),
        "p99_ms": q(0.99),
        "max_ms": samples[-1],
    }
