"""Inventory benchmark (PostgreSQL): hot vs spread reservations, POS ingest vs a plain bulk INSERT.

Run with `make bench-inventory`. Prints progress on stderr and, as its last line on stdout,
one JSON object. Every figure is measured in the same run, so the ratios hold on a noisy
machine:

- hot_reservations_per_s: 64 requesters reserve 1-3 units of one SKU at one store, through
  the service layer; successes counted from the stock change (reserved went up by exactly
  the sum of the granted quantities, checked). The hot item is bucketed (HOT_BUCKETS rows).
- hot_plain_reservations_per_s: the same load on a one-row item (a plain conditional UPDATE).
- spread_reservations_per_s: the same load over 10,000 SKUs x 100 stores.
- pos_events_per_s: POS sale events ingested in batches through ``pos_ingest``;
  pos_baseline_rows_per_s: a plain bulk INSERT of the same rows into a copy of the ledger table.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o.config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from o2o.inventory import buckets  # noqa: E402
from o2o.inventory.errors import InsufficientStock  # noqa: E402
from o2o.inventory.ledger import Entry, Who, record  # noqa: E402
from o2o.inventory.models import MovementKind, Reservation  # noqa: E402
from o2o.inventory.reservations import reservation_create  # noqa: E402
from o2o.inventory.validation import Line  # noqa: E402

WORKERS = int(os.environ.get("BENCH_WORKERS", 64))
SECONDS = float(os.environ.get("BENCH_SECONDS", 8))
STORES = int(os.environ.get("BENCH_STORES", 100))
SKUS = int(os.environ.get("BENCH_SKUS", 10_000))
HOT_BUCKETS = int(os.environ.get("BENCH_HOT_BUCKETS", 16))
POS_BATCH = int(os.environ.get("BENCH_POS_BATCH", 500))
POS_BATCHES = int(os.environ.get("BENCH_POS_BATCHES", 40))
DEEP = 1_000_000  # the items never run out during a run
RUN = uuid.uuid4().hex[:10]  # ledger keys of this run


def log(msg: str) -> None:
    print(f"[bench-inventory] {msg}", file=sys.stderr, flush=True)


def seed() -> tuple[list[int], list[int], int, int, int]:
    """Stores, SKUs and 1M stock rows (with their opening ledger rows), made set-based in SQL."""
    from o2o.catalog.models import Category, Product, Sku
    from o2o.stores.models import Location, Region

    if connection.vendor != "postgresql":
        raise SystemExit("bench-inventory needs PostgreSQL (run it with `make bench-inventory`)")
    call_command("migrate", verbosity=0)
    hq, _ = Region.objects.get_or_create(code="BENCH-HQ", defaults={"name": "bench"})
    if Location.objects.filter(code__startswith="B").count() < STORES + 2:
        log(f"seeding {STORES} stores x {SKUS} SKUs ...")
        t0 = time.perf_counter()
        Location.objects.bulk_create([
            Location(code=f"B{i:04d}", name=f"bench {i}", region=hq, lat=31.0 + i * 0.003, lng=121.3 + i * 0.003)
            for i in range(STORES + 2)
        ], ignore_conflicts=True)
        cat, _ = Category.objects.get_or_create(code="BENCH", defaults={"name": "bench"})
        Product.objects.bulk_create([Product(code=f"BP{i}", name=f"bench {i}", category=cat) for i in range(SKUS + 2)],
                                    ignore_conflicts=True)
        products = dict(Product.objects.filter(code__startswith="BP").values_list("code", "pk"))
        Sku.objects.bulk_create([Sku(product_id=products[f"BP{i}"], code=f"BS{i}", name=f"bench {i}", list_price_fen=100)
                                 for i in range(SKUS + 2)], ignore_conflicts=True, batch_size=5000)
        locs = list(Location.objects.filter(code__startswith="B").order_by("code").values_list("pk", flat=True))
        skus = list(Sku.objects.filter(code__startswith="BS").order_by("pk").values_list("pk", flat=True))
        spread_locs, spread_skus = locs[:STORES], skus[:SKUS]
        with connection.cursor() as cur:
            cur.execute("""
                INSERT INTO inventory_stock (location_id, sku_id, bucket, on_hand, reserved)
                SELECT l, s, 0, %s, 0 FROM unnest(%s::bigint[]) l, unnest(%s::bigint[]) s
                ON CONFLICT DO NOTHING""", [DEEP, spread_locs, spread_skus])
            cur.execute("""
                INSERT INTO inventory_movement (location_id, sku_id, kind, qty, delta_on_hand, delta_reserved, reason,
                    reference, idempotency_key, actor_label, details, occurred_at, created_at)
                SELECT location_id, sku_id, 'receive', on_hand, on_hand, 0, 'bench opening stock', 'bench',
                       'bench-open:' || location_id || ':' || sku_id, 'bench', '{}'::jsonb, now(), now()
                FROM inventory_stock WHERE location_id = ANY(%s) ON CONFLICT DO NOTHING""", [spread_locs])
        log(f"seeded in {time.perf_counter() - t0:.1f}s")
    locs = list(Location.objects.filter(code__startswith="B").order_by("code").values_list("pk", flat=True))
    skus = list(Sku.objects.filter(code__startswith="BS").order_by("pk").values_list("pk", flat=True))
    hot_loc, hot_sku, plain_sku = locs[STORES], skus[SKUS], skus[SKUS + 1]
    from o2o.inventory.stock import stock_receive

    for sku_id, n in ((hot_sku, HOT_BUCKETS), (plain_sku, 1)):
        with transaction.atomic():
            t = buckets.totals(hot_loc, sku_id)
            if t.available < DEEP // 2:
                stock_receive(location_id=hot_loc, lines=[Line(sku_id, DEEP)], who=Who(label="bench"))
            buckets.split(location_id=hot_loc, sku_id=sku_id, buckets=n)
    return locs[:STORES], skus[:SKUS], hot_loc, hot_sku, plain_sku


def _reserve_service(loc: int, sku: int, q: int, who: Who, key: str) -> None:
    """The whole service: validation, reservation and line rows, ledger row, stock row."""
    with transaction.atomic():
        reservation_create(location_id=loc, lines=[Line(sku, q)], who=who, ttl_s=3600)


def _reserve_lean(loc: int, sku: int, q: int, who: Who, key: str) -> None:
    """Only what the stock design decides: the ledger row and the stock row change, so the
    client's own CPU does not hide the difference between one hot row and many."""
    try:
        with transaction.atomic():
            record([Entry(loc, sku, MovementKind.RESERVE, q, delta_reserved=q, key=key, reason="bench lean")], who)
            buckets.apply_change(location_id=loc, sku_id=sku, d_reserved=q)
    except buckets.CannotApply as exc:
        raise InsufficientStock([]) from exc


def _requester(n: int, pick, reserve, deadline_start, seconds: float, out) -> None:
    """One requester process: its own connection, reserving until the phase ends."""
    connections.close_all()  # never share the parent's connection across fork
    rng = random.Random(n * 7919)
    who = Who(label=f"bench-{n}")
    granted = qty = 0
    touched: set[tuple[int, int]] = set()
    error = ""
    try:
        deadline_start.wait()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            loc, sku = pick(rng)
            q = rng.randint(1, 3)
            try:
                reserve(loc, sku, q, who, f"bench-lean:{uuid.uuid4().hex}")
            except InsufficientStock:
                continue
            granted += 1
            qty += q
            touched.add((loc, sku))
    except Exception as exc:  # noqa: BLE001 - reported in the result
        error = repr(exc)[:200]
    finally:
        connections.close_all()
        out.put((granted, qty, sorted(touched), error))


def run_load(pick, label: str, reserve=_reserve_service) -> dict:
    """WORKERS processes (real concurrency, no shared interpreter lock) reserve for SECONDS."""
    ctx = multiprocessing.get_context("fork")
    before_res = Reservation.objects.count()
    connections.close_all()
    start = ctx.Barrier(WORKERS + 1)
    out = ctx.Queue()
    procs = [ctx.Process(target=_requester, args=(n, pick, reserve, start, SECONDS, out), daemon=True) for n in range(WORKERS)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    results = [out.get() for _ in procs]
    elapsed = time.perf_counter() - t0
    for p in procs:
        p.join()
    granted = sum(r[0] for r in results)
    errors = [r[3] for r in results if r[3]]
    touched = {tuple(x) for r in results for x in r[2]}
    if reserve is _reserve_service:
        assert Reservation.objects.count() - before_res == granted, label
    log(f"{label}: {granted} reservations in {elapsed:.1f}s, errors={len(errors)}")
    return {"granted": granted, "qty": sum(r[1] for r in results), "per_s": granted / elapsed,
            "errors": errors[:3], "touched": touched}


def reserved_total(items: set[tuple[int, int]]) -> int:
    total = 0
    for loc, sku in items:
        total += buckets.totals(loc, sku).reserved
    return total


def unreserve(items: set[tuple[int, int]]) -> None:
    """Undo a lean phase through the ledger (a release movement per item)."""
    for loc, sku in sorted(items):
        with transaction.atomic():
            held = buckets.totals(loc, sku).reserved
            if held:
                record([Entry(loc, sku, MovementKind.RELEASE, held, delta_reserved=-held,
                              key=f"bench-lean-undo:{RUN}:{loc}:{sku}", reason="bench lean")], Who(label="bench"))
                buckets.apply_change(location_id=loc, sku_id=sku, d_reserved=-held)


def release_all() -> None:
    """Put the stock back for the next phase (expire every open bench reservation)."""
    from o2o.inventory.reservations import reservations_release_expired

    Reservation.objects.filter(status="active").update(expires_at=timezone.now() - timedelta(seconds=1))
    while reservations_release_expired(limit=5000):
        pass


def bench_pos(locs: list[int], skus: list[int]) -> dict:
    from o2o.inventory.pos import PosEvent, pos_ingest

    rng = random.Random(42)
    now = timezone.now()
    run = RUN  # fresh event ids every run: replays would be skipped as duplicates
    batches = []
    for b in range(POS_BATCHES):
        loc = locs[b % len(locs)]
        events = [PosEvent(kind="sale", pos_event_id=f"bench-{run}-{b}-{i}", seq=i + 1,
                           sku_id=rng.choice(skus), qty=rng.randint(1, 3),
                           occurred_at=now - timedelta(seconds=POS_BATCH - i)) for i in range(POS_BATCH)]
        batches.append((loc, f"bench-{run}-{b % 8}", events))
    # Baseline: the same rows, plain bulk INSERT into a copy of the ledger table with the same
    # indexes and as many rows, so both pay the same index maintenance. Baseline and ingest
    # batches alternate, so both see the same machine noise.
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_pos_baseline")
        cur.execute("CREATE TABLE bench_pos_baseline (LIKE inventory_movement INCLUDING DEFAULTS INCLUDING INDEXES)")
        cur.execute("INSERT INTO bench_pos_baseline SELECT * FROM inventory_movement")
        cur.execute("ANALYZE bench_pos_baseline")
    cols = ("location_id, sku_id, kind, qty, delta_on_hand, delta_reserved, reason, reference, idempotency_key, "
            "actor_label, details, occurred_at, created_at")
    one = "(%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s::timestamptz,%s::timestamptz)"
    baseline_s = ingest_s = 0.0
    for loc, dev, events in batches:
        rows = [(loc, e.sku_id, "sale", e.qty, -e.qty, 0, "", "", f"pos:{loc}:{e.pos_event_id}",
                 "bench", json.dumps({"device": dev, "seq": e.seq}), e.occurred_at, now) for e in events]
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"INSERT INTO bench_pos_baseline (id, {cols}) SELECT nextval('inventory_movement_id_seq'), * "
                        f"FROM (VALUES {','.join([one] * len(rows))}) v", [x for r in rows for x in r])
        baseline_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        pos_ingest(location_id=loc, device_id=dev, events=events, who=Who(label="bench-pos"))
        ingest_s += time.perf_counter() - t0
    n = POS_BATCH * POS_BATCHES
    with connection.cursor() as cur:
        cur.execute("DROP TABLE bench_pos_baseline")
    log(f"pos: {n} events ingested in {ingest_s:.2f}s; baseline insert {baseline_s:.2f}s")
    return {"pos_events_per_s": n / ingest_s, "pos_baseline_rows_per_s": n / baseline_s}


def main() -> None:
    locs, skus, hot_loc, hot_sku, plain_sku = seed()
    release_all()
    results: dict = {"workers": WORKERS, "seconds_per_phase": SECONDS, "stores": len(locs), "skus": len(skus),
                     "hot_buckets": HOT_BUCKETS}
    phases = [
        ("spread", lambda rng: (rng.choice(locs), rng.choice(skus))),
        ("hot", lambda rng: (hot_loc, hot_sku)),
        ("hot_plain", lambda rng: (hot_loc, plain_sku)),
    ]  # lambdas reach the requesters through fork, not pickling
    for mode, reserve in (("", _reserve_service), ("lean_", _reserve_lean)):
        for label, pick in phases:
            out = run_load(pick, mode + label, reserve)
            # Counted from the stock change: every phase starts with nothing reserved, and
            # reserved went up by exactly the granted quantities.
            assert reserved_total(out["touched"]) == out["qty"], label
            results[f"{mode}{label}_reservations_per_s"] = round(out["per_s"], 1)
            if out["errors"]:
                results[f"{mode}{label}_errors"] = out["errors"]
            release_all()
            unreserve(out["touched"])
        results[f"{mode}hot_to_spread_ratio"] = round(
            results[f"{mode}hot_reservations_per_s"] / results[f"{mode}spread_reservations_per_s"], 3)
        results[f"{mode}plain_hot_to_spread_ratio"] = round(
            results[f"{mode}hot_plain_reservations_per_s"] / results[f"{mode}spread_reservations_per_s"], 3)
    try:
        results.update({k: round(v, 1) for k, v in bench_pos(locs, skus).items()})
        results["pos_ratio"] = round(results["pos_events_per_s"] / results["pos_baseline_rows_per_s"], 3)
    except ImportError as exc:
        results["pos_error"] = f"POS ingest not available: {exc}"
    results["goals"] = {"hot_to_spread_ratio": 0.5, "pos_ratio": 0.5}
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
