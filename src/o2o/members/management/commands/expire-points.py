"""Expire the points lots past their expiry (one account per transaction; idempotent, safe to
run in several processes, since each account is locked)::

    5 0 * * *  /srv/o2o/.venv/bin/o2o expire-points
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from o2o.members.points import points_expire


class Command(BaseCommand):
    help = "积分过期 Expire points lots past their expiry"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--limit", type=int, default=1000, help="at most this many accounts per run")

    def handle(self, *args, **opts) -> None:
        if opts["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        accounts, points = points_expire(timezone.now(), limit=opts["limit"])
        self.stdout.write(f"已过期 {points} 积分 ({accounts} 个账户) expired {points} point(s) in {accounts} account(s)")
