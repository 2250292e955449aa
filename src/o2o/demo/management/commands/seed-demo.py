"""Seed the Shanghai demo: network, catalog, opening stock, demo accounts. Idempotent."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.demo.seed import seed_demo


class Command(BaseCommand):
    help = "生成演示数据 Seed the Shanghai demo (139 世纪华联 stores, catalog, stock, logins); safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--top-n", type=int, default=3000, help="catalog size: top N products (default 3000)")

    def handle(self, *args, top_n: int, **options):
        report = seed_demo(top_n=top_n, log=self.stdout.write)
        state = "done" if report.changed else "nothing to do: already seeded"
        self.stdout.write(self.style.SUCCESS(
            f"seed-demo {state} in {report.seconds:.1f} s: {report.regions_changed} regions and "
            f"{report.locations_changed} locations written, {report.skus_created} SKUs created, "
            f"{report.stock_created} stock rows, {report.users_created} accounts, {report.tokens_created} tokens. "
            "Run `o2o demo-info` for the logins."))
