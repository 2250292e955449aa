"""Issue the automatic coupons due today (new members, tier benefits, birthdays): ``marketing.auto``.

Run it daily, e.g.::

    10 8 * * *  /srv/o2o/.venv/bin/o2o issue-auto-coupons
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from o2o.marketing.auto import coupons_issue_auto


class Command(BaseCommand):
    help = "Issue the automatic coupons due today (new member, tier, birthday)"

    def handle(self, *args, **options) -> None:  # noqa: ANN002, ANN003
        self.stdout.write(json.dumps(coupons_issue_auto(), ensure_ascii=False))
