"""The monthly tier review (会员等级月度评定): every member's tier by the core's rules (up to the
qualified tier; down one step at most, never inside the 12-month protection), history written.

Once per member per month (China time): a second run in the same month changes nothing. Run it
early each month, e.g.::

    30 2 1 * *  /srv/o2o/.venv/bin/o2o review-tiers

``--at 2026-05-01T02:30:00+08:00`` reviews as of that instant (a late or repeated run of a past
month; a naive time is read as China time).
"""

from __future__ import annotations

import time
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from o2o.core.loyalty import CHINA_TZ
from o2o.members.tiers import month_of, tiers_review_all


def parse_at(raw: str | None) -> datetime:
    if raw is None:
        return timezone.now()
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise CommandError(f"--at 需要 ISO 时间 must be an ISO datetime: {raw!r}") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=CHINA_TZ)


class Command(BaseCommand):
    help = "会员等级月度评定 Monthly tier review (idempotent per month)"

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--at", help="review as of this ISO datetime (default: now)")

    def handle(self, *args, **opts) -> None:
        at = parse_at(opts["at"])
        started = time.perf_counter()
        c = tiers_review_all(now=at)
        took = time.perf_counter() - started
        self.stdout.write(f"{month_of(at)} 评定 {c['reviewed']} 人，升级 {c['upgraded']}，降级 {c['downgraded']}，"
                          f"本月已评定 {c['skipped']} / reviewed {c['reviewed']}, upgraded {c['upgraded']}, "
                          f"downgraded {c['downgraded']}, already reviewed this month {c['skipped']} ({took:.2f} s)")
