"""Spread a hot item (location, SKU) over several bucket rows, or merge it back with --buckets 1."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from o2o.catalog.models import Sku
from o2o.common.errors import ApiError
from o2o.inventory import buckets as stock_rows
from o2o.inventory.validation import check_location


class Command(BaseCommand):
    help = ("Split a hot item's stock over N bucket rows so concurrent reservations lock different rows "
            "(totals unchanged; --buckets 1 merges it back).")

    def add_arguments(self, parser):
        parser.add_argument("--location", type=int, required=True, help="location id")
        parser.add_argument("--sku", type=int, required=True, help="SKU id")
        parser.add_argument("--buckets", dest="n_buckets", type=int, required=True, help="number of bucket rows, 1-64")

    def handle(self, *args, location: int, sku: int, n_buckets: int, **options):
        if not 1 <= n_buckets <= 64:
            raise CommandError("--buckets must be between 1 and 64")
        try:
            check_location(location)
        except ApiError as exc:
            raise CommandError(exc.message) from exc
        if not Sku.objects.filter(pk=sku).exists():
            raise CommandError(f"unknown SKU {sku}")
        with transaction.atomic():
            stock_rows.split(location_id=location, sku_id=sku, buckets=n_buckets)
            totals = stock_rows.totals(location, sku)
        self.stdout.write(f"location {location} sku {sku}: {n_buckets} bucket(s), on_hand={totals.on_hand} "
                          f"reserved={totals.reserved}")
