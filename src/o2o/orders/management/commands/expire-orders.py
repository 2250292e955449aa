"""Expire unpaid orders past their payment deadline and put their stock back (run it from cron)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.orders.lifecycle import orders_expire


class Command(BaseCommand):
    help = "关闭超时未支付订单 Expire unpaid orders past their payment deadline"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **opts) -> None:
        done = orders_expire(limit=opts["limit"])
        self.stdout.write(f"expired {done} orders")
