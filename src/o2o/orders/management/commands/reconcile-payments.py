"""Settle unpaid payments whose order's payment deadline has passed (cron; safe to repeat).

Each is queried at its provider: a paid one is applied like a notice (a late payment is
refunded in full at once), the others are closed at the provider and here::

    */5 * * * *  /srv/o2o/.venv/bin/o2o reconcile-payments
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.orders.payments import payments_reconcile


class Command(BaseCommand):
    help = "对账：查询超时未付的支付 Reconcile unpaid payments past their order's deadline"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--grace-s", type=int, default=300, help="wait this long after the deadline (seconds)")
        parser.add_argument("--lookback-s", type=int, default=7 * 86400, help="ignore deadlines older than this")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **opts) -> None:
        counts = payments_reconcile(grace_s=opts["grace_s"], lookback_s=opts["lookback_s"], limit=opts["limit"])
        total = sum(counts.values())
        detail = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"
        self.stdout.write(f"已对账 {total} 笔支付 reconciled {total} payment(s): {detail}")
