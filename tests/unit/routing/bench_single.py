"""Manual latency measurement of single-order routing (not a test: nothing here is timed in CI).

    .venv/bin/python tests/unit/routing/bench_single.py [--orders 2000] [--skus 400] [--wave 200]

Networks: the 139 世纪华联 stores of the shared store file (BD-09 converted to GCJ-02) plus
two warehouses, and 2,000 synthetic stores uniform over 31.0-31.4N, 121.2-121.7E plus two
warehouses. Basket sizes follow the first real baskets of the shared Complete Journey
transactions; destinations are the shared Shanghai POIs (139) or uniform in the box (2,000).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from o2o.core.geo import LatLng, bd09_to_gcj02  # noqa: E402
from o2o.core.routing import (  # noqa: E402
    Network,
    Node,
    NodeKind,
    Order,
    myopic,
    nearest,
    priority,
    route,
    route_wave,
    sequential,
    violations,
)
from tests.unit.routing.helpers import (  # noqa: E402
    NOW,
    STORE_MODES,
    WAREHOUSE_MODES,
    random_orders,
    synthetic_network,
    time_single,
)

DATA = ROOT.parent / "shared" / "data"


def brand_stores(brand: str = "世纪华联") -> list[tuple[str, LatLng]]:
    with open(DATA / "stores" / "shanghai_brand_stores_bd09.csv", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r["brand"] == brand]
    return [(r["store_name"], bd09_to_gcj02(LatLng(float(r["lat"]), float(r["lng"])))) for r in rows]


def basket_sizes(limit_rows: int = 200_000) -> list[int]:
    counts: Counter[str] = Counter()
    with gzip.open(DATA / "transactions" / "cj_transactions_w01_40.csv.gz", "rt") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= limit_rows:
                break
            counts[row["basket_id"]] += 1
    return list(counts.values())


def poi_points() -> list[LatLng]:
    with open(DATA / "geo" / "shanghai_pois_bd09.csv", encoding="utf-8") as fh:
        return [bd09_to_gcj02(LatLng(float(r["lat"]), float(r["lng"]))) for r in csv.DictReader(fh)]


def compare_wave(stores: list[tuple[str, LatLng]], pois: list[LatLng], n_orders: int, seed: int, fill: float) -> None:
    """Wave vs myopic/nearest/priority on one synthetic batch of scarce stock (printed, not asserted)."""
    rng = random.Random(seed)
    skus = 60
    nodes = []
    for i, (name, p) in enumerate(stores):
        stock = {f"s{k}": rng.randint(1, 3) for k in range(skus) if rng.random() < fill}
        nodes.append(
            Node(i, name, NodeKind.STORE, p, STORE_MODES, stock, delivery_radius_m=3000.0,
                 capacity=rng.randint(3, 8), queue=rng.randint(0, 10))
        )
    nodes.append(Node("wh", "中心仓", NodeKind.WAREHOUSE, LatLng(31.05, 121.30), WAREHOUSE_MODES,
                      {f"s{k}": rng.randint(0, 20) for k in range(skus)}, capacity=n_orders, pick_rate_per_hour=200.0))
    net = Network(nodes)
    sizes = [s for s in basket_sizes(50_000) if s <= 20]
    orders = random_orders(n_orders, skus, seed, sizes, (31.0, 31.4, 121.2, 121.7))
    orders = [Order(o.order_id, o.lines, rng.choice(pois), o.choice) for o in orders]
    started = time.perf_counter()
    wave = route_wave(orders, net, NOW, time_limit_s=30.0)
    wave_s = time.perf_counter() - started
    rows = {"wave": list(wave.plans), "myopic": myopic(orders, net, NOW)}
    rows["nearest"] = sequential(orders, net, NOW, nearest)
    rows["priority"] = sequential(orders, net, NOW, priority)
    total_lines = sum(len({ln.sku_id for ln in o.lines}) for o in orders)
    print(f"{total_lines} lines; wave: method={wave.method} status={wave.status} options={wave.options} polished={wave.polished} {wave_s:.2f}s")
    for name, plans in rows.items():
        assert not violations(plans, net), name
        print(
            f"{name:9s} objective={sum(p.objective_fen for p in plans):>10} cost={sum(p.cost_fen for p in plans):>8}"
            f" cash={sum(p.cash_fen for p in plans):>8} unfilled_lines={sum(len(p.unfilled) for p in plans):>4}"
            f" parcels/order={sum(p.parcels for p in plans) / len(plans):.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--skus", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--wave", type=int, default=0, help="also compare a wave of this many orders")
    args = parser.parse_args()
    sizes = basket_sizes()
    small = [s for s in sizes if s <= 20]
    rng = random.Random(args.seed)
    pois = poi_points()
    results = {}

    stores = brand_stores()
    net139 = synthetic_network(stores, args.skus, seed=args.seed)
    orders = random_orders(args.orders, args.skus, args.seed, small, (31.0, 31.4, 121.2, 121.7))
    orders = [Order(o.order_id, o.lines, rng.choice(pois), o.choice) for o in orders]
    results["139_le20"] = time_single(lambda o: route(o, net139, NOW), orders)
    big = random_orders(args.orders // 4, args.skus, args.seed + 1, sizes, (31.0, 31.4, 121.2, 121.7))
    big = [Order(o.order_id, o.lines, rng.choice(pois), o.choice) for o in big]
    results["139_real_sizes"] = time_single(lambda o: route(o, net139, NOW), big)

    box = [(f"店{i}", LatLng(rng.uniform(31.0, 31.4), rng.uniform(121.2, 121.7))) for i in range(2000)]
    net2000 = synthetic_network(box, args.skus, seed=args.seed)
    orders = random_orders(args.orders, args.skus, args.seed + 2, small, (31.0, 31.4, 121.2, 121.7))
    results["2000_le20"] = time_single(lambda o: route(o, net2000, NOW), orders)
    big = random_orders(args.orders // 4, args.skus, args.seed + 3, sizes, (31.0, 31.4, 121.2, 121.7))
    results["2000_real_sizes"] = time_single(lambda o: route(o, net2000, NOW), big)
    for name, r in results.items():
        print(name, {k: round(v, 3) for k, v in r.items()})
    print(json.dumps({k: round(v["p99_ms"], 3) for k, v in results.items()}))
    if args.wave:
        for fill in (0.9, 0.6, 0.35):
            print(f"--- wave of {args.wave} orders, each store stocks {fill:.0%} of 60 SKUs at 1-3 units")
            compare_wave(stores, pois, args.wave, args.seed, fill)


if __name__ == "__main__":
    main()
