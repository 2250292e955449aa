"""Complete express parcels nobody confirmed: shipped more than ``O2O["EXPRESS_AUTO_COMPLETE_DAYS"]``
(default 7) days ago -> completed ("签收超时自动确认 auto-confirmed N days after shipping").

Idempotent and safe to run in several processes (one transaction per parcel, order lock first)::

    17 * * * *  /srv/o2o/.venv/bin/o2o complete-express
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from o2o.orders.store_work import express_auto_complete, express_auto_days


class Command(BaseCommand):
    help = "快递超时自动签收 Complete express parcels shipped more than EXPRESS_AUTO_COMPLETE_DAYS days ago"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--limit", type=int, default=500, help="at most this many parcels per run")

    def handle(self, *args, **opts) -> None:
        if opts["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        try:
            days = express_auto_days()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        done = express_auto_complete(limit=opts["limit"])
        self.stdout.write(f"已自动签收 {done} 个快递 auto-completed {done} express shipment(s) "
                          f"shipped more than {days} days ago")
