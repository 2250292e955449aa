"""Same-city delivery sweep: late alerts, unbooked courier tasks, lost re-dispatches (every minute).

Idempotent and safe to run in several processes::

    * * * * *  /srv/o2o/.venv/bin/o2o delivery-alerts
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.orders.delivery import late_sweep


class Command(BaseCommand):
    help = "同城配送巡检 Same-city delivery sweep: late alerts, unbooked tasks, lost dispatches"

    def handle(self, *args, **opts) -> None:
        done = late_sweep()
        self.stdout.write(f"超时提醒 late alerts {done['late']}, 补下单 booked {done['booked']}, "
                          f"补派单 dispatched {done['dispatched']}, 取消 cancelled {done['cancelled']}")
