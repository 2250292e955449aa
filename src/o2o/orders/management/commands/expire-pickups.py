"""Close ready pickups whose customer did not come by the deadline (run it from cron)::

    */10 * * * *  /srv/o2o/.venv/bin/o2o expire-pickups

``O2O["PICKUP_EXPIRED_POLICY"]``: ``cancel`` (default: void the code, put the goods back,
cancel the shipment and refund it) or ``keep`` (only an alert for the store, once).
Idempotent and safe to run in several processes (one transaction per shipment, order row
locked first).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.orders.pickup import pickups_expire

BATCH = 500


class Command(BaseCommand):
    help = "处理超过自提期限的订单 Close pickups not collected by their deadline (policy: cancel | keep)"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--limit", type=int, default=BATCH, help="shipments per batch")

    def handle(self, *args, **opts) -> None:
        limit = max(1, opts["limit"])
        total = {"cancelled": 0, "kept": 0, "failed": 0}
        while True:
            counts = pickups_expire(limit=limit)
            for k, v in counts.items():
                total[k] += v
            if sum(counts.values()) < limit or counts["cancelled"] + counts["kept"] == 0:
                break
        self.stdout.write(f"已取消 {total['cancelled']} 个，已提醒 {total['kept']} 个，失败 {total['failed']} 个 "
                          f"cancelled {total['cancelled']}, alerted {total['kept']}, failed {total['failed']}")
