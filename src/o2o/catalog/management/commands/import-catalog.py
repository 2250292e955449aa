"""Import (or refresh) the demo catalog from The Complete Journey data."""

from __future__ import annotations

import time
from decimal import Decimal

from django.core.management.base import BaseCommand

from o2o.catalog.importer import import_catalog


class Command(BaseCommand):
    help = "导入演示商品目录 Import the demo catalog (top N CJ products by sales); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--top-n", type=int, default=3000, help="how many products (default 3000)")
        parser.add_argument("--usd-cny", type=Decimal, default=None, help="USD->CNY rate (default O2O_USD_CNY or 7.2)")

    def handle(self, *args, top_n: int, usd_cny: Decimal | None, **options):
        started = time.monotonic()
        result = import_catalog(top_n=top_n, usd_cny=usd_cny)
        s = result.stats
        self.stdout.write(
            f"商品目录 catalog: {len(result.velocity)} SKUs; created {s.skus_created} SKUs, updated {s.skus_updated}; "
            f"{s.categories_created} new categories, {s.brands_created} new brands "
            f"({time.monotonic() - started:.1f} s)"
        )
