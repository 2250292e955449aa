"""Verify the inventory: stock equals the ledger, reserved equals active reservations, rows keep the rules."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from o2o.inventory import checks


class Command(BaseCommand):
    help = ("Check every item: Stock sums equal ledger sums, reserved equals active reservation lines, "
            "no row breaks a constraint. Prints each problem; exits non-zero if any.")

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="report at most this many problems of each kind")

    def handle(self, *args, limit: int | None, **options):
        problems = checks.run(limit=limit)
        for p in problems:
            self.stderr.write(str(p))
        if problems:
            raise CommandError(f"库存检查发现 {len(problems)} 个问题 inventory check found {len(problems)} problem(s)")
        self.stdout.write("库存一致 inventory is consistent")
