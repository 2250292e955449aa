"""Delete stored Idempotency-Key responses older than 24 hours (the promised replay window)."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from o2o.inventory.idempotency import KEEP_HOURS
from o2o.inventory.models import IdempotencyRecord


class Command(BaseCommand):
    help = f"Delete idempotency records older than {KEEP_HOURS} h (run daily from cron / a systemd timer)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=KEEP_HOURS,
                            help=f"age in hours (at least {KEEP_HOURS})")

    def handle(self, *args, hours: int, **options):
        if hours < KEEP_HOURS:
            raise CommandError(f"--hours must be at least {KEEP_HOURS}: replays are promised for {KEEP_HOURS} h")
        cutoff = timezone.now() - timedelta(hours=hours)
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        self.stdout.write(f"已删除 {deleted} 条幂等记录 deleted {deleted} idempotency record(s) older than {hours} h")
