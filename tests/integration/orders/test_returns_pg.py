"""Returns and POS receipts at the same moment (PostgreSQL: real row locks, own connections).

Two returns of one line that together exceed what was bought: exactly one succeeds, whether
the order row lock serializes them or only the conditional UPDATE stands between them. Two
receipts of one return: restocked and refunded once. One till receipt sent twice at once:
one order.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.utils import timezone

from o2o.inventory import checks
from o2o.orders import pos_orders, returns
from o2o.orders.models import Order, OrderLine, Return
from tests.concurrency import hold_first, race
from tests.e2e.orders.test_returns_support import CLERK, fake_refunds, pos_order
from tests.factories import figures
from tests.integration.fulfilment.world import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20





@pytest.mark.parametrize("order_lock", [True, False])
def test_two_returns_that_together_exceed_the_line_one_wins(monkeypatch, order_lock):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    w = build(monkeypatch)
    fake_refunds(monkeypatch)
    order = pos_order(w.a, "RACE-1", [(w.s1, 3, 1000)], 2999)
    line = OrderLine.objects.get(order=order)
    # Hold the first one after its conditional UPDATE until the other one waits for a lock.
    monkeypatch.setattr(returns, "_committed_fen", hold_first(returns._committed_fen))
    if not order_lock:  # only the conditional UPDATE (and the CHECK) stand in the way
        monkeypatch.setattr(returns, "lock_order", lambda pk: Order.objects.get(pk=pk))

    def job(loc):  # noqa: ANN001, ANN202
        return lambda: returns.return_create(order_id=order.pk, lines=[(line.pk, 2)], method="courier",
                                             location_id=loc.pk, reason="race", by=CLERK)

    results = race(job(w.a), job(w.b))
    won = [r for r in results if isinstance(r, Return)]
    assert len(won) == 1 and [r for r in results if not isinstance(r, Return)] == ["return_exceeds_quantity"]
    line.refresh_from_db()
    assert line.returned_qty == 2
    assert Return.objects.count() == 1 and Return.objects.get().refund_fen == 2999 * 2 // 3


def test_two_receipts_of_one_return_restock_and_refund_once(monkeypatch):
    w = build(monkeypatch)
    refunds = fake_refunds(monkeypatch)
    order = pos_order(w.a, "RACE-2", [(w.s1, 2, 1000)], 2000)
    line = OrderLine.objects.get(order=order)
    ret = returns.return_create(order_id=order.pk, lines=[(line.pk, 2)], method="courier", location_id=w.b.pk,
                                reason="race", by=CLERK)
    before = figures(w.b, w.s1)
    monkeypatch.setattr(returns, "_restock", hold_first(returns._restock))
    results = race(lambda: returns.return_receive(return_id=ret.pk, by=CLERK),
                    lambda: returns.return_receive(return_id=ret.pk, by=CLERK))
    assert sorted(r if isinstance(r, str) else "ok" for r in results) == ["ok", "return_not_open"]
    assert figures(w.b, w.s1) == (before[0] + 2, before[1])
    assert refunds.calls == [(order.pk, 2000, ret.pk)]
    assert Order.objects.get(pk=order.pk).status == "refunded"
    assert checks.run() == []


def test_one_receipt_sent_twice_at_once_makes_one_order(monkeypatch):
    w = build(monkeypatch)
    at = timezone.now()
    monkeypatch.setattr(pos_orders, "_create", hold_first(pos_orders._create))

    def job():  # noqa: ANN202
        with transaction.atomic():
            return pos_orders.pos_order_record(location_id=w.a.pk, receipt_no="TWICE", lines=[(w.s1.pk, 1, 1000)],
                                               paid_fen=1000, payment_method="wechat", occurred_at=at, by=CLERK)

    results = race(job, job)
    assert sorted(created for _, created in results) == [False, True]
    assert len({order.pk for order, _ in results}) == 1
    assert Order.objects.filter(external_ref="TWICE").count() == 1
