"""Marketing benchmark: coupon claims under concurrency on PostgreSQL, and the pricing engine on real baskets.

Run with `make bench-marketing` (PostgreSQL through scripts/with_postgres.py). Progress on stderr; the last
stdout line is one JSON object. Baselines are measured in the same run:

- claims_per_s_hot: THREADS threads claim ONE campaign (distinct members, no budget limit in the window)
  through ``o2o.marketing.claims.coupon_issue`` for BENCH_SECONDS: successful claims per second. Every
  claim updates the campaign's one row (``issued = issued + 1 WHERE issued < budget``): the hot spot.
- claims_per_s_spread: the same threads over SPREAD campaigns (each claim picks one at random): the
  no-contention baseline. Goal: hot >= 0.5 x spread.
- overissued: a campaign with a budget of OVER_BUDGET coupons hammered by THREADS threads until they all
  see it sold out; coupons issued beyond the budget (rows and the counter), must be 0.
- pricing_carts_per_s: ``o2o.core.promotions.price_order`` in one process over real Complete Journey
  baskets (the demo catalog's prices), each priced with 3 promotions (满100减10 chain-wide, 10 % off one
  department, buy 2 get 1 in another) and 2 coupons (满50减5, 5 % off up to ¥10; max_coupons 2) for a
  member with points. Goal >= 2,000 carts/s. pricing_baseline_carts_per_s: the plain checkout pipeline
  (``o2o.core.orders.price`` with one percent-off step) on the same baskets.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o.config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

THREADS = int(os.environ.get("BENCH_THREADS", 64))
SECONDS = float(os.environ.get("BENCH_SECONDS", 8))
SPREAD = int(os.environ.get("BENCH_SPREAD", 64))
OVER_BUDGET = int(os.environ.get("BENCH_OVER_BUDGET", 500))
CARTS = int(os.environ.get("BENCH_CARTS", 5000))
GOALS = {"hot_over_spread_min": 0.5, "overissued": 0, "pricing_carts_per_s_min": 2000}


def log(msg: str) -> None:
    print(f"[bench-marketing] {msg}", file=sys.stderr, flush=True)


# --- claims -------------------------------------------------------------------------------------------

def _members(n: int, run: str) -> list:
    from o2o.accounts.models import Member

    made = Member.objects.bulk_create([Member(display_name=f"bench-mk-{run}-{i}") for i in range(n)])
    return made


def _template(run: str, i: int, budget: int | None):  # noqa: ANN202
    from o2o.marketing.models import CouponTemplate

    return CouponTemplate.objects.create(code=f"b{run}-{i}", name=f"bench {i}", kind="amount_off", amount_fen=500,
                                         threshold_fen=3000, status="active", valid_days=7, budget=budget,
                                         member_limit=1)


def _hammer(pick, members: list, seconds: float | None) -> tuple[Counter, float]:  # noqa: ANN001
    """THREADS threads claim (pick(rng) -> template id) for distinct members; until `seconds` or members run out
    (or, with seconds None, until every thread saw the campaign sold out)."""
    from o2o.common.errors import ApiError
    from o2o.marketing.claims import coupon_issue

    counts: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(THREADS)
    chunks = [members[k::THREADS] for k in range(THREADS)]
    stop = [0.0]

    def worker(k: int) -> None:
        rng = random.Random(k)
        mine: Counter = Counter()
        start.wait()
        try:
            for m in chunks[k]:
                if seconds is not None and time.perf_counter() >= stop[0]:
                    break
                try:
                    coupon_issue(template_id=pick(rng), member=m, source="claim")
                    mine["ok"] += 1
                except ApiError as exc:
                    mine[exc.code] += 1
                    if seconds is None and exc.code == "coupon_sold_out":
                        break
        finally:
            connection.close()
            with lock:
                counts.update(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    t0 = time.perf_counter()
    stop[0] = t0 + (seconds or 0) + 0.05  # the barrier releases right after
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return counts, time.perf_counter() - t0


def run_claims() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("bench-marketing needs PostgreSQL (make bench-marketing)")
    from o2o.marketing.models import Coupon, CouponTemplate

    call_command("migrate", verbosity=0)
    run = f"{time.time_ns():x}"
    pool = _members(THREADS * 400, run)
    log(f"{len(pool)} members made")
    hot = _template(run, 0, None)
    counts, secs = _hammer(lambda rng: hot.pk, pool, SECONDS)
    hot_rate = counts["ok"] / secs
    log(f"hot: {dict(counts)} in {secs:.1f} s = {hot_rate:.0f}/s")
    spread = [_template(run, i + 1, None).pk for i in range(SPREAD)]
    counts_s, secs_s = _hammer(lambda rng: rng.choice(spread), pool, SECONDS)  # members hold none of these yet
    spread_rate = counts_s["ok"] / secs_s
    log(f"spread: {dict(counts_s)} in {secs_s:.1f} s = {spread_rate:.0f}/s")
    capped = _template(run, 9999, OVER_BUDGET)
    counts_o, _ = _hammer(lambda rng: capped.pk, pool[: THREADS * 40], None)
    rows = Coupon.objects.filter(template=capped).count()
    issued = CouponTemplate.objects.get(pk=capped.pk).issued
    over = max(rows - OVER_BUDGET, issued - OVER_BUDGET, 0)
    log(f"budget {OVER_BUDGET}: {dict(counts_o)}; rows {rows}, counter {issued}")
    return {"claims_per_s_hot": round(hot_rate, 1), "claims_per_s_spread": round(spread_rate, 1),
            "hot_over_spread": round(hot_rate / spread_rate, 3) if spread_rate else None,
            "overissued": over, "over_budget_rows": rows, "over_budget_counter": issued,
            "over_budget_refusals": counts_o.get("coupon_sold_out", 0), "threads": THREADS, "seconds": SECONDS}


# --- pricing ------------------------------------------------------------------------------------------

def _carts() -> tuple[list, dict[int, int]]:
    from o2o.catalog.importer import read_cj_catalog
    from o2o.core import promotions as core
    from o2o.demo.bench_data import load_baskets, load_catalog

    items = read_cj_catalog(top_n=3000)
    price = {it.product_id: it.row.list_price_fen for it in items}
    depts: dict[str, int] = {}
    dept_of = {it.product_id: depts.setdefault(it.row.category_path[0].code, len(depts) + 1) for it in items}
    baskets = load_baskets(load_catalog(3000), rows=200_000)
    carts = []
    for b in baskets:
        lines = tuple(core.Item(sku_id=pid, qty=q, unit_price_fen=price[pid], list_price_fen=price[pid],
                                category_ids=frozenset({dept_of[pid]})) for pid, q in b.lines if price.get(pid))
        if lines:
            carts.append(lines)
        if len(carts) >= CARTS:
            break
    return carts, Counter(dept_of.values())


def run_pricing() -> dict:
    from o2o.core import promotions as core
    from o2o.core.orders import CartLine, PercentOff, price

    carts, dept_sizes = _carts()
    top = [d for d, _ in dept_sizes.most_common(2)]
    promotions = (
        core.Promotion("p1", "满100减10 ¥10 off over ¥100", core.AmountOff(off_fen=1000, threshold_fen=10000)),
        core.Promotion("p2", "部门9折 10% off", core.PercentOff(percent=10), core.Scope(category_ids=frozenset({top[0]})),
                       priority=1),
        core.Promotion("p3", "买2赠1 buy 2 get 1", core.BuyXGetY(buy=2, get=1),
                       core.Scope(category_ids=frozenset({top[-1]}))),
    )
    coupons = (core.CouponOffer("c1", "满50减5", core.AmountOff(off_fen=500, threshold_fen=5000), template_id="t1"),
               core.CouponOffer("c2", "95折 最高减10", core.PercentOff(percent=5, cap_fen=1000), template_id="t2"))
    policy = core.StackingPolicy(max_coupons=2)
    reqs = [core.PricingRequest(items=c, channel="h5", store_id=1, tier=core.TierDiscount("gold", "金卡95折", 5),
                                promotions=promotions, coupons=coupons, points_balance=3000, points_requested=-1,
                                delivery_fee_fen=600) for c in carts]
    lines = sum(len(c) for c in carts)
    t0 = time.perf_counter()
    results = [core.price_order(r, policy) for r in reqs]
    secs = time.perf_counter() - t0
    bad = sum(1 for res in results if res.totals.total_fen != sum(x.payable_fen for x in res.totals.lines)
              + res.totals.delivery_fee_fen or any(x.payable_fen < 0 for x in res.totals.lines))
    plain = [tuple(CartLine(i.sku_id, i.qty, i.unit_price_fen, i.list_price_fen) for i in c) for c in carts]
    step = PercentOff("tier", 5, "95折")
    t1 = time.perf_counter()
    for c in plain:
        price(c, steps=(step,), delivery_fee_fen=600)
    base = time.perf_counter() - t1
    applied = Counter(len(r.applied_promotions) + len(r.applied_coupons) for r in results)
    out = {"pricing_carts_per_s": round(len(carts) / secs, 1), "pricing_baseline_carts_per_s": round(len(carts) / base, 1),
           "pricing_carts": len(carts), "pricing_avg_lines": round(lines / len(carts), 2),
           "pricing_offers_applied_histogram": dict(sorted(applied.items())), "pricing_invariant_failures": bad}
    log(f"pricing: {out}")
    return out


def main() -> None:
    pricing = run_pricing()
    claims = run_claims()
    result = {**claims, **pricing, "goals": GOALS}
    result["goals_met"] = {
        "hot_over_spread": (claims["hot_over_spread"] or 0) >= GOALS["hot_over_spread_min"],
        "overissued": claims["overissued"] == GOALS["overissued"],
        "pricing": pricing["pricing_carts_per_s"] >= GOALS["pricing_carts_per_s_min"],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
