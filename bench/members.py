"""Members benchmark: profile tags on real histories, CLV holdout on CDNOW, concurrent points redemptions.

Run with `make bench-members` (PostgreSQL through scripts/with_postgres.py). Progress on
stderr; the last stdout line is one JSON object. Every baseline is measured in the same run:

- tags_members_per_s: the whole tag engine (orders, 88 tags with explanations, RFM quintiles,
  BG/NBD + Gamma-Gamma fits) over the Complete Journey households (as of 2017-10-07) and the
  CDNOW customers (as of 1998-06-30), from the data files (loading them is timed apart);
  tags_baseline_members_per_s: a plain per-member Python loop computing 5 simple tags.
- clv_mae / clv_naive_mae: BG/NBD fitted by the engine on CDNOW's first 39 weeks (to
  1997-09-30), predicted purchase days per customer in the 39 weeks after, against the actual
  ones; the naive baseline keeps each customer's calibration repeat rate (x / T).
- tier_distribution_*: the core's tier rules (``o2o.core.loyalty.tiers`` default policy) on
  trailing-12-month spend, dollars converted at 1 USD = 7.00 CNY (700 fen).
- points_redemptions_per_s: 32 threads spending points through ``o2o.members.points.points_spend``
  on PostgreSQL for BENCH_SECONDS, over BENCH_ACCOUNTS accounts (contended); then every account is
  checked (never below zero, spends never above earnings, ``points_check`` clean): overspend = 0.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o.config.settings")

from o2o.core.profile import ProfileConfig, Purchases, compute_tags  # noqa: E402
from o2o.profiles import realdata  # noqa: E402

THREADS = int(os.environ.get("BENCH_THREADS", 32))
SECONDS = float(os.environ.get("BENCH_SECONDS", 10))
ACCOUNTS = int(os.environ.get("BENCH_ACCOUNTS", 64))
EARN = int(os.environ.get("BENCH_EARN", 300))  # small: accounts run dry, refusals happen
GOALS = {"clv_mae_ratio_max": 0.8, "tags_25k_s_max": 60, "overspend": 0}


def log(msg: str) -> None:
    print(f"[bench-members] {msg}", file=sys.stderr, flush=True)


# --- tags ---------------------------------------------------------------------------------

def run_tags(datasets: list[tuple[str, Purchases, object]]) -> dict:
    members = tags = 0
    started = time.perf_counter()
    parts = {}
    for name, purchases, as_of in datasets:
        t0 = time.perf_counter()
        table = compute_tags(purchases, as_of)
        n_tags = sum(len(table.tags_of(i)) for i in range(len(table)))  # every tag with its explanation
        parts[name] = {"members": len(table), "seconds": round(time.perf_counter() - t0, 2),
                       "tier_distribution": dict(Counter(table.column("tier"))),
                       "lifecycle": dict(Counter(table.column("lifecycle_stage"))),
                       "bgnbd": table.glob["bgnbd"], "gamma_gamma": table.glob["gamma_gamma"]}
        members += len(table)
        tags += n_tags
        log(f"{name}: {len(table)} members, {n_tags} tags in {parts[name]['seconds']} s")
    seconds = time.perf_counter() - started
    return {"members": members, "tags": tags, "seconds": seconds, "parts": parts}


def run_baseline(datasets: list[tuple[str, Purchases, object]]) -> float:
    """Members per second of a plain loop: orders, spend, recency, average basket, favourite store."""
    members = 0
    started = time.perf_counter()
    for _, p, as_of in datasets:
        asof = int(as_of.timestamp())
        per: dict[int, list] = defaultdict(list)
        for row in zip(p.member.tolist(), p.basket.tolist(), p.at.tolist(), p.amount_fen.tolist(),
                       p.store.tolist(), strict=True):
            per[row[0]].append(row)
        for rows in per.values():
            baskets = {b for _, b, _, _, _ in rows}
            spend = sum(a for *_, a, _ in rows)
            last = max(t for _, _, t, _, _ in rows)
            stores = Counter(s for *_, s in rows)
            _tags = (len(baskets), spend, (asof - last) / 86400, spend / len(baskets), stores.most_common(1))
        members += p.n_members
    return members / (time.perf_counter() - started)


# --- CLV holdout --------------------------------------------------------------------------

def run_clv(cdnow: Purchases) -> dict:
    cal_end, end = realdata.CDNOW_CALIBRATION_END, realdata.CDNOW_END
    horizon = (end - cal_end).days / 7
    cal = cdnow.take(cdnow.at <= int(cal_end.timestamp()))
    t0 = time.perf_counter()
    table = compute_tags(cal, cal_end, ProfileConfig(clv_horizon_weeks=horizon))
    fit_s = time.perf_counter() - t0
    bg, gg = table.clv_models
    bought = np.asarray(table.measure("has"), dtype=bool)
    x, t_x, big_t = (table.measure(k)[bought] for k in ("clv_repeat_days", "clv_tx_weeks", "clv_age_weeks"))
    predicted = bg.expected_purchases(horizon, x, t_x, big_t)
    # actual purchase days per customer in the holdout weeks
    offset = 8 * 3600
    hold = (cdnow.at > int(cal_end.timestamp())) & (cdnow.at <= int(end.timestamp()))
    days = np.unique(cdnow.member[hold].astype(np.int64) * 1_000_000 + (cdnow.at[hold] + offset) // 86400)
    actual = np.bincount(days // 1_000_000, minlength=cdnow.n_members)[bought]
    naive = x / np.maximum(big_t, 1e-9) * horizon
    naive_all = (x + 1) / np.maximum(big_t, 1e-9) * horizon
    out = {
        "customers": int(bought.sum()), "horizon_weeks": round(horizon, 2), "fit_s": round(fit_s, 2),
        "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "ll": bg.log_likelihood},
        "gamma_gamma": {"p": gg.p, "q": gg.q, "gamma_fen": gg.gamma},
        "published_bgnbd_2357": {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426},
        "mae": float(np.mean(np.abs(predicted - actual))),
        "naive_mae": float(np.mean(np.abs(naive - actual))),
        "naive_incl_first_mae": float(np.mean(np.abs(naive_all - actual))),
        "predicted_total": float(predicted.sum()), "actual_total": int(actual.sum()),
        "naive_total": float(naive.sum()),
    }
    log(f"CLV holdout: MAE {out['mae']:.4f} vs naive {out['naive_mae']:.4f}; fit {bg}")
    return out


# --- points on PostgreSQL -----------------------------------------------------------------

def run_points() -> dict:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        log("no PostgreSQL DATABASE_URL: points part skipped (use make bench-members)")
        return {"skipped": "needs PostgreSQL"}
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from o2o.accounts.models import Member
    from o2o.common.errors import Conflict
    from o2o.members import points as svc
    from o2o.members.models import PointsAccount, PointsEntry

    call_command("migrate", verbosity=0)
    run = f"{time.time_ns():x}"
    now = timezone.now()
    ids = []
    for i in range(ACCOUNTS):
        m = Member.objects.create(display_name=f"bench-points-{run}-{i}")
        svc.points_earn(m.pk, EARN, f"bench:{run}:{i}", now)
        ids.append(m.pk)
    counts = {"ok": 0, "insufficient": 0, "retry": 0}
    lock = threading.Lock()
    stop = time.perf_counter() + SECONDS
    start = threading.Barrier(THREADS)

    def worker(k: int) -> None:
        rng = random.Random(k)
        mine = Counter()
        start.wait()
        try:
            n = 0
            while time.perf_counter() < stop:
                n += 1
                try:
                    svc.points_spend(rng.choice(ids), rng.randint(1, 40), f"b:{run}:{k}:{n}", now)
                    mine["ok"] += 1
                except Conflict:
                    mine["insufficient"] += 1
        finally:
            connection.close()
            with lock:
                for key, v in mine.items():
                    counts[key] += v

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    accounts = list(PointsAccount.objects.filter(member_id__in=ids))
    below_zero = sum(1 for a in accounts if a.balance < 0 or a.debt < 0 or a.balance - a.debt < 0)
    overspent = 0
    problems = 0
    for a in accounts:
        spent = -sum(e.points for e in PointsEntry.objects.filter(account=a, kind="spend"))
        overspent += spent > EARN
        problems += len(svc.points_check(a)) > 0
    spends = PointsEntry.objects.filter(account__in=accounts, kind="spend").values("op").distinct().count()
    out = {"threads": THREADS, "accounts": ACCOUNTS, "seconds": round(elapsed, 2),
           "redemptions": counts["ok"], "refused_insufficient": counts["insufficient"],
           "redemptions_in_ledger": spends, "accounts_below_zero": below_zero, "accounts_overspent": int(overspent),
           "check_points_problems": problems, "per_s": counts["ok"] / elapsed}
    log(f"points: {out}")
    return out


def main() -> None:
    t0 = time.perf_counter()
    cdnow = realdata.cdnow()
    cj = realdata.complete_journey()
    load_s = time.perf_counter() - t0
    log(f"loaded CDNOW ({cdnow.n_members} customers, {len(cdnow.member)} lines) and Complete Journey "
        f"({cj.n_members} households, {len(cj.member)} lines) in {load_s:.1f} s")
    datasets = [("complete_journey", cj, realdata.CJ_END), ("cdnow", cdnow, realdata.CDNOW_END)]
    tags = run_tags(datasets)
    baseline = run_baseline(datasets)
    clv = run_clv(cdnow)
    pts = run_points()
    per_s = tags["members"] / tags["seconds"]
    result = {
        "tags_members_per_s": round(per_s, 1),
        "tags_members": tags["members"], "tags_total": tags["tags"], "tags_seconds": round(tags["seconds"], 2),
        "tags_per_member": tags["tags"] // max(tags["members"], 1),
        "tags_25k_projected_s": round(25_000 / per_s, 2),
        "tags_baseline_members_per_s": round(baseline, 1), "tags_baseline_note": "5 tags, plain Python loop",
        "tag_values_per_s": round(tags["tags"] / tags["seconds"]), "tag_values_baseline_per_s": round(baseline * 5),
        "data_load_s": round(load_s, 2),
        "clv_mae": round(clv["mae"], 4), "clv_naive_mae": round(clv["naive_mae"], 4),
        "clv_mae_ratio": round(clv["mae"] / clv["naive_mae"], 4), "clv": clv,
        "tier_distribution_cdnow": tags["parts"]["cdnow"]["tier_distribution"],
        "tier_distribution_complete_journey": tags["parts"]["complete_journey"]["tier_distribution"],
        "tier_basis": "trailing-12-month net spend, 1 USD = 700 fen, default policy: silver 100000 / gold 500000 / "
                      "diamond 2000000 fen",
        "tags_parts": tags["parts"],
        "points_redemptions_per_s": round(pts["per_s"], 1) if "per_s" in pts else None, "points": pts,
        "goals": GOALS,
    }
    result["goals_met"] = {
        "clv": result["clv_mae_ratio"] <= GOALS["clv_mae_ratio_max"],
        "tags_25k": result["tags_25k_projected_s"] < GOALS["tags_25k_s_max"],
        "zero_overspend": ("per_s" in pts and pts["accounts_below_zero"] == 0 and pts["accounts_overspent"] == 0
                           and pts["check_points_problems"] == 0),
    }
    print(json.dumps(result, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
