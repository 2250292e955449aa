"""`o2o bench routing` runs on any store file and reports every policy, the bound and the goals.

Small order counts: this checks the benchmark's plumbing and its invariants (no violations,
the bound below every policy that the bound covers), not its figures.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from o2o.core.routing.simulate import POLICIES


def run(*args: str) -> tuple[dict, str]:
    out = io.StringIO()
    call_command("bench", "routing", *args, stdout=out)
    text = out.getvalue()
    return json.loads(text.strip().splitlines()[-1]), text


def check_level(level: dict) -> None:
    for policy in POLICIES:
        figures = level[policy]
        assert figures["violations"] == 0
        assert 0.0 <= figures["same_day_share"] <= 1.0
        assert figures["parcels_per_order"] >= 0
        assert figures["eta_p95_min"] >= 0
    bound = level["bound"]["lower_bound_fen"]
    for policy in ("myopic", "wave"):  # plans of at most 3 parcels: the bound covers them
        assert bound <= level[policy]["total_cost_fen"] + 1
    assert level["wave"]["total_cost_fen"] <= level["nearest"]["total_cost_fen"]
    assert set(level["goals"]) >= {"wave_cost_below_nearest_pct", "wave_cost_below_myopic_pct",
                                   "wave_parcels_below_nearest_pct", "wave_above_bound_pct", "violations", "met"}


def test_another_city_store_file_runs_with_the_same_defaults(tmp_path: Path) -> None:
    # Six stores in Hangzhou (GCJ-02): far from the Shanghai POIs, so customers are drawn around the stores.
    csv = tmp_path / "hz.csv"
    rows = [("西湖店", 30.2590, 120.1500), ("滨江店", 30.2080, 120.2100), ("拱墅店", 30.3190, 120.1420),
            ("上城店", 30.2420, 120.1700), ("萧山店", 30.1830, 120.2640), ("余杭店", 30.4180, 120.3000)]
    csv.write_text("store_name,lat,lng\n" + "".join(f"{n},{a},{b}\n" for n, a, b in rows), encoding="utf-8")
    result, text = run("--stores", str(csv), "--crs", "gcj02", "--orders", "60", "--scarcity", "high",
                       "--seed", "3", "--json")
    assert text.count("\n") == 1  # --json: only the result line
    assert result["orders"] == 60 and result["seed"] == 3
    assert set(result) >= {"high"} and "medium" not in result
    check_level(result["high"])


def test_demo_chain_with_poi_customers() -> None:
    result, text = run("--orders", "80", "--scarcity", "medium", "--seed", "5", "--forecast-days", "3")
    assert "POIs by count" in text
    assert result["forecast_days"] == 3 and "claim book: 3 forecast days" in text
    check_level(result["medium"])


def test_bad_flags_are_refused(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        run("--orders", "0")
    with pytest.raises(CommandError):
        run("--stores", str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="forecast-days"):
        run("--orders", "10", "--forecast-days", "0")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat\nx,1\n", encoding="utf-8")
    with pytest.raises(CommandError, match="missing column"):
        run("--stores", str(bad))
