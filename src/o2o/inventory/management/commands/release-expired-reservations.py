"""Release reservations past their expiry (cart holds, unpaid orders) so their stock is free again.

Production runs it every minute from cron or a systemd timer, e.g.::

    * * * * *  /srv/o2o/.venv/bin/o2o release-expired-reservations

It is safe to run in several processes at once (due rows are taken with SKIP LOCKED).
``--loop SECONDS`` keeps it running, one pass every SECONDS, for a simple scheduler or a
development box.
"""

from __future__ import annotations

import argparse
import time

from django.core.management.base import BaseCommand, CommandError

from o2o.inventory.reservations import reservations_release_expired

BATCH = 500


def release_all_due() -> int:
    """Release every due reservation, a batch (one transaction) at a time."""
    total = 0
    while True:
        done = reservations_release_expired(limit=BATCH)
        total += done
        if done < BATCH:
            return total


class Command(BaseCommand):
    help = "Release expired reservations (run every minute from cron / a systemd timer, or with --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=None, metavar="SECONDS",
                            help="keep running, one pass every SECONDS")
        parser.add_argument("--max-passes", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, loop: float | None, max_passes: int | None, **options):
        if loop is not None and loop <= 0:
            raise CommandError("--loop must be a positive number of seconds")
        passes = 0
        while True:
            done = release_all_due()
            self.stdout.write(f"已释放 {done} 个过期预占 released {done} expired reservation(s)")
            passes += 1
            if loop is None or (max_passes is not None and passes >= max_passes):
                return
            time.sleep(loop)

