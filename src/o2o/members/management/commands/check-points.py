"""Prove every points account: balance - debt == the sum of its entries, and the core's ``check``
(each lot's entries sum to its remaining, one earn per lot, the debt account). Prints every
problem; exit code 1 if there is any::

    30 3 * * *  /srv/o2o/.venv/bin/o2o check-points
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from o2o.members.models import PointsAccount
from o2o.members.points import points_check


class Command(BaseCommand):
    help = "积分对账 Check that every points balance equals the sum of its ledger"

    def handle(self, *args, **opts) -> None:
        bad = checked = 0
        for account in PointsAccount.objects.order_by("pk").iterator():
            checked += 1
            problems = points_check(account)
            if problems:
                bad += 1
                for p in problems:
                    self.stdout.write(f"member#{account.member_id}: {p}")
        self.stdout.write(f"已检查 {checked} 个积分账户, {bad} 个有问题 checked {checked} account(s), {bad} with problems")
        if bad:
            sys.exit(1)
