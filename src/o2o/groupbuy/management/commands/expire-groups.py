"""Close group deals (拼团) not full in time: every member's order is cancelled and refunded in full (cron)::

    */1 * * * *  /srv/o2o/.venv/bin/o2o expire-groups

Also releases full groups whose orders are still held and gives back the places of ended orders in open
groups (``o2o.groupbuy.expiry.groups_sweep``). Idempotent; safe to run in several processes.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.groupbuy.expiry import groups_sweep


class Command(BaseCommand):
    help = "处理到期未成团的拼团 Expire groups not full in time and refund their members"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--limit", type=int, default=500, help="rows per step")

    def handle(self, *args, **opts) -> None:
        c = groups_sweep(limit=max(1, opts["limit"]))
        self.stdout.write(f"过期 {c['expired']} 个团，取消退款 {c['settled']} 单，放行 {c['released']} 单，"
                          f"让出名额 {c['dropped']} 个，失败 {c['failed']} 个 expired {c['expired']} groups, "
                          f"settled {c['settled']} orders, released {c['released']}, dropped {c['dropped']}, "
                          f"failed {c['failed']}")
