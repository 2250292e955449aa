"""Send the notifications that are due (``o2o.notifications.sending``): from cron every minute, or ``--loop``."""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from o2o.notifications.sending import notifications_send_due


class Command(BaseCommand):
    help = "发送到期的消息通知 Send the notifications that are due"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--loop", action="store_true", help="keep sending every --interval seconds")
        parser.add_argument("--interval", type=float, default=5.0)
        parser.add_argument("--limit", type=int, default=200, help="causes per pass")

    def handle(self, *args, **opts) -> None:  # noqa: ANN002, ANN003
        while True:
            counts = notifications_send_due(limit=opts["limit"])
            self.stdout.write(json.dumps(counts, ensure_ascii=False))
            if not opts["loop"]:
                return
            time.sleep(opts["interval"])
