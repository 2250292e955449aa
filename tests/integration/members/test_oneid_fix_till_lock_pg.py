"""PostgreSQL: a till sale of a merged member racing the survivor's erasure or the merge's undo never
deadlocks (the till locks the whole merge chain at once, in id order, like the merge, undo and erasure)."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.members.merge import member_merge, member_merge_undo
from o2o.members.privacy import member_erase
from o2o.orders import pos_orders
from o2o.orders.actors import By
from o2o.orders.models import Order
from tests.concurrency import race
from tests.factories import member, staff
from tests.integration.fulfilment.world import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROUNDS = 25
CLERK = By(user_id=None, label="till")


def _pair() -> tuple[Member, Member]:
    """A survivor and a member with a HIGHER id merged into it (the chain walk meets the higher id first)."""
    survivor, _ = member("乙")
    merged, _ = member("甲")
    assert merged.pk > survivor.pk
    return survivor, merged


@pytest.mark.parametrize("other", ["erase", "undo"])
def test_till_sales_racing_erasure_or_undo_never_deadlock(monkeypatch, other):
    assert connection.vendor == "postgresql"
    w = build(monkeypatch)
    hq = staff("hq_admin")[0]
    for n in range(ROUNDS):
        survivor, merged = _pair()
        merge = member_merge(survivor_id=survivor.pk, merged_id=merged.pk, now=timezone.now())

        def till(n: int = n, merged_id: int = merged.pk) -> Order:
            with transaction.atomic():
                order, _ = pos_orders.pos_order_record(
                    location_id=w.a.pk, receipt_no=f"RACE-{other}-{n}", lines=[(w.s1.pk, 1, 1000)], paid_fen=1000,
                    payment_method="cash", member_id=merged_id, occurred_at=timezone.now(), by=CLERK)
            return order

        def rival(survivor_id: int = survivor.pk, merge_id: int = merge.pk) -> object:
            if other == "erase":
                return member_erase(member_id=survivor_id, reason="本人申请注销 own request", user=hq)
            return member_merge_undo(merge_id=merge_id, user=hq, now=timezone.now())

        results = race(till, rival)  # a deadlock ("deadlock detected") is an error and fails the test
        [order] = [r for r in results if isinstance(r, Order)]
        owner = Order.objects.get(pk=order.pk).member_id
        if other == "erase":
            assert owner in (survivor.pk, None)  # before the erasure: the survivor's; after: anonymous
        else:
            assert owner in (survivor.pk, merged.pk)  # before the undo: the survivor's; after: the member's own
