"""社区团购 runs: shipments that boarded a run's courier follow it when the follow after the callback was lost
(a crash between the commit and the follow). Idempotent; safe in several processes (each shipment moves under
its order's row lock, conditionally)::

    */5 * * * *  /srv/o2o/.venv/bin/o2o community-runs
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from o2o.groupbuy.runs import runs_catch_up


class Command(BaseCommand):
    help = "社区团购批次：随车发货单跟上骑手状态 Community runs: boarded shipments follow their courier"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--limit", type=int, default=500, help="runs per call")

    def handle(self, *args, **opts) -> None:
        n = runs_catch_up(limit=max(1, opts["limit"]))
        self.stdout.write(f"跟上批次 {n} 个发货单 {n} shipment(s) caught up with their run")
