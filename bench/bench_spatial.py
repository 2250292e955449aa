"""Benchmark ``SpatialIndex.within`` against a brute-force scan.

Builds 2,000 nodes spread over Shanghai (lat 31.0..31.4, lng 121.2..121.7), answers 20,000
"nodes within 3 km, nearest first" queries with the index and the same queries by brute force,
checks that both agree, and prints per-query latency percentiles. The last line of output is a
JSON object, for scripts::

    python bench/bench_spatial.py [--nodes N] [--queries Q] [--radius-m R] [--seed S]

Exits with status 1 if the results differ from brute force or p99 misses the 1 ms goal.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from o2o.core.geo import LatLng, SpatialIndex  # noqa: E402
from o2o.core.geo.distance import haversine_rad  # noqa: E402

GOAL_P99_US = 1000
Node = tuple[float, float, float, int]


def random_point(rng: random.Random) -> LatLng:
    return LatLng(rng.uniform(31.0, 31.4), rng.uniform(121.2, 121.7))


def brute_force(nodes: list[Node], point: LatLng, radius_m: float) -> list[tuple[int, float]]:
    """The baseline: a distance to every node (precomputed radians, the index's own metric)."""
    lat, lng = math.radians(point.lat), math.radians(point.lng)
    cos_lat = math.cos(lat)
    hits = []
    for n_lat, n_lng, n_cos, key in nodes:
        dist = haversine_rad(lat, lng, cos_lat, n_lat, n_lng, n_cos)
        if dist <= radius_m:
            hits.append((dist, key))
    hits.sort()
    return [(key, dist) for dist, key in hits]


def percentile(sorted_ns: list[int], q: float) -> float:
    """Nearest-rank percentile of sorted nanosecond timings, in microseconds."""
    rank = max(1, math.ceil(q / 100.0 * len(sorted_ns)))
    return round(sorted_ns[rank - 1] / 1000.0, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=20_000)
    parser.add_argument("--radius-m", type=float, default=3000.0)
    parser.add_argument("--seed", type=int, default=20240601)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    points = [(key, random_point(rng)) for key in range(args.nodes)]
    queries = [random_point(rng) for _ in range(args.queries)]

    started = time.perf_counter()
    index = SpatialIndex(points)
    build_ms = (time.perf_counter() - started) * 1000.0

    clock = time.perf_counter_ns
    index_ns: list[int] = []
    results = []
    hits = 0
    for query in queries:
        t0 = clock()
        found = index.within(query, args.radius_m)
        index_ns.append(clock() - t0)
        hits += len(found)
        results.append(found)

    nodes: list[Node] = [
        (math.radians(p.lat), math.radians(p.lng), math.cos(math.radians(p.lat)), key) for key, p in points
    ]
    brute_ns: list[int] = []
    match = True
    for query, found in zip(queries, results, strict=True):
        t0 = clock()
        expected = brute_force(nodes, query, args.radius_m)
        brute_ns.append(clock() - t0)
        match = match and expected == found

    index_ns.sort()
    brute_ns.sort()
    summary = {
        "nodes": args.nodes,
        "queries": args.queries,
        "radius_m": args.radius_m,
        "mean_hits": round(hits / max(1, args.queries), 1),
        "build_ms": round(build_ms, 1),
        "p50_us": percentile(index_ns, 50),
        "p99_us": percentile(index_ns, 99),
        "max_us": round(index_ns[-1] / 1000.0, 1),
        "bruteforce_p50_us": percentile(brute_ns, 50),
        "bruteforce_p99_us": percentile(brute_ns, 99),
        "match_bruteforce": match,
        "goal_p99_us": GOAL_P99_US,
    }
    print(
        f"index: p50 {summary['p50_us']} us, p99 {summary['p99_us']} us; "
        f"brute force: p50 {summary['bruteforce_p50_us']} us, p99 {summary['bruteforce_p99_us']} us; "
        f"results identical: {match}"
    )
    print(json.dumps(summary))
    if not match or summary["p99_us"] > GOAL_P99_US:
        sys.exit(1)


if __name__ == "__main__":
    main()
