"""``o2o bench routing``: the routing benchmark (see :mod:`o2o.demo.bench_routing`)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from o2o.demo.bench_routing import FORECAST_SAMPLES, LEVELS, run


class Command(BaseCommand):
    help = "Benchmarks. `routing`: nearest / priority / myopic / wave routing on real orders, with a lower bound."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="which", required=True)
        r = sub.add_parser("routing", help="routing policies on real baskets and customer points")
        r.add_argument("--stores", type=Path, default=None,
                       help="CSV with columns store_name, lat, lng (default: the demo chain)")
        r.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), default="bd09",
                       help="datum of the --stores coordinates (default bd09, as the shared store file)")
        r.add_argument("--orders", type=int, default=5000, help="orders in the horizon (default 5000)")
        r.add_argument("--scarcity", choices=(*LEVELS, "all"), default="all",
                       help="how thin stock is (default: every level)")
        r.add_argument("--seed", type=int, default=7)
        r.add_argument("--bound-seconds", type=float, default=600.0, help="time limit of the bound's column generation")
        r.add_argument("--forecast-days", type=int, default=FORECAST_SAMPLES,
                       help=f"sampled forecast days behind the wave's claim prices (default {FORECAST_SAMPLES})")
        r.add_argument("--json", action="store_true", help="print only the JSON result line")

    def handle(self, *args: object, **opts: object) -> None:
        if opts["which"] != "routing":
            raise CommandError(f"unknown benchmark {opts['which']}")
        if int(opts["orders"]) < 1:  # type: ignore[call-overload]
            raise CommandError("--orders must be at least 1")
        stores = opts["stores"]
        if stores is not None and not Path(stores).is_file():  # type: ignore[arg-type]
            raise CommandError(f"--stores: no such file: {stores}")
        quiet = bool(opts["json"])

        def log(text: str) -> None:
            if not quiet:
                self.stdout.write(text)
                self.stdout.flush()

        levels = list(LEVELS) if opts["scarcity"] == "all" else [str(opts["scarcity"])]
        try:
            result = run(stores_csv=stores, crs=str(opts["crs"]), n_orders=int(opts["orders"]),  # type: ignore[arg-type, call-overload]
                         levels=levels, seed=int(opts["seed"]),  # type: ignore[call-overload]
                         log=log, bound_time_s=float(opts["bound_seconds"]),  # type: ignore[arg-type]
                         forecast_days=int(opts["forecast_days"]))  # type: ignore[call-overload]
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(result, ensure_ascii=False))
