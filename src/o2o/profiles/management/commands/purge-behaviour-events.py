"""Delete behaviour events (views, cart adds, searches) older than the retention (daily from cron)::

    30 4 * * *  /srv/o2o/.venv/bin/o2o purge-behaviour-events --days 90

``--days`` (default 90, at least 31: the tags read the last 30 days) counts China calendar days before today.
Sign-ins are points lots and are not touched.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from o2o.profiles.events import KEEP_DAYS, MIN_KEEP_DAYS, purge


class Command(BaseCommand):
    help = f"删除过期的行为事件 Delete behaviour events older than --days (default {KEEP_DAYS})"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--days", type=int, default=KEEP_DAYS,
                            help=f"keep this many China days before today (at least {MIN_KEEP_DAYS})")

    def handle(self, *args, days: int, **opts) -> None:
        if days < MIN_KEEP_DAYS:
            raise CommandError(f"--days 至少 {MIN_KEEP_DAYS} must be at least {MIN_KEEP_DAYS}: the tags read the "
                               "last 30 days")
        deleted = purge(days=days)
        self.stdout.write(f"已删除 {deleted} 条行为事件 deleted {deleted} behaviour event(s) older than {days} days")
