"""Hand undispatched outbox events to the handlers (run it from cron, or with --loop)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from o2o.outbox.services import events_relay


class Command(BaseCommand):
    help = "发送发件箱事件 Relay outbox events to their handlers"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--loop", action="store_true", help="keep relaying every --interval seconds")
        parser.add_argument("--interval", type=float, default=2.0)

    def handle(self, *args, **opts) -> None:
        while True:
            sent, failed = events_relay()
            self.stdout.write(f"relayed {sent}, failed {failed}")
            if not opts["loop"]:
                return
            time.sleep(opts["interval"])
