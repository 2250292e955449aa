"""Re-route routed shipments whose reservation a POS sale or count shorted.

The ``reservation_shorted`` signal does this right after the POS batch commits; this sweep
catches what a crash between that commit and the signal lost. Run it every few minutes
from cron or a systemd timer (idempotent; a shipment is re-routed at most once)::

    */5 * * * *  /srv/o2o/.venv/bin/o2o reroute-shorted
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.fulfilment.reroute import reroute_shorted

BATCH = 500


class Command(BaseCommand):
    help = "Re-route shipments whose reservation was shorted at the store (sweep; idempotent)."

    def handle(self, *args, **options):
        total = 0
        while True:
            done = reroute_shorted(limit=BATCH)
            total += len(done)
            if len(done) < BATCH:
                break
        self.stdout.write(f"已重新路由 {total} 个缺货发货单 re-routed {total} shorted shipment(s)")
