"""Re-send refunds still ``processing`` or ``failed`` to their provider (cron; safe to repeat).

Providers deduplicate by ``out_refund_no``, so a refund that did go through is answered again
without moving money twice::

    */10 * * * *  /srv/o2o/.venv/bin/o2o retry-refunds
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.orders.payment_refunds import refunds_retry


class Command(BaseCommand):
    help = "重发处理中/失败的退款 Re-send processing or failed refunds (idempotent by out_refund_no)"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--min-age-s", type=int, default=60, help="skip refunds younger than this (seconds)")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **opts) -> None:
        counts = refunds_retry(min_age_s=opts["min_age_s"], limit=opts["limit"])
        total = sum(counts.values())
        detail = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "none"
        self.stdout.write(f"已重发 {total} 笔退款 re-sent {total} refund(s): {detail}")
