"""Queue the notifications whose cause has come (``o2o.marketing.triggers``): abandoned carts, repurchase,
pickups ready and closing, appointment reminders, coupons about to expire. Idempotent: run it every few
minutes, e.g.::

    */5 * * * *  /srv/o2o/.venv/bin/o2o run-triggers

``o2o send-notifications`` then sends them (quiet hours and the marketing cap apply there).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from o2o.marketing.triggers import run_triggers


class Command(BaseCommand):
    help = "运行消息触发器 Queue the notifications whose cause has come"

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        self.stdout.write(json.dumps(run_triggers(), ensure_ascii=False))
