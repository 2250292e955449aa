"""Two cancellations of one paid order at the same moment (PostgreSQL: real row locks, own connections).

Whatever the interleaving, the order is cancelled once: one refund of exactly what was paid,
the stock put back once, one history row and one outbox event; the other attempt is a 409.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from o2o.common.errors import Conflict
from o2o.inventory import checks
from o2o.orders import gateways, lifecycle
from o2o.orders.actors import By
from o2o.orders.models import Order, OrderEvent, Payment, Refund
from o2o.orders.payments import notice_handle
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.test_payments import open_payment, placed
from tests.factories import figures, member, staff
from tests.integration.fulfilment.world import build
from tests.integration.orders.test_payments_concurrency_pg import _hold_until_a_waiter, _race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_cancellations_at_once_cancel_and_refund_once(client, monkeypatch, django_capture_on_commit_callbacks):
    assert connection.vendor == "postgresql"
    w = build(monkeypatch)
    m, token = member()
    before = figures(w.a, w.s1)
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], "wechat").json()
    payment = Payment.objects.get(pk=p["id"])
    headers, body = gateways.sandbox_pay(payment)
    assert notice_handle("wechat", headers, body).outcome == "applied"
    assert Order.objects.get(pk=o["id"]).status == "allocated"
    manager, _ = staff("store_manager", loc=w.a)

    inside = threading.Event()
    _hold_until_a_waiter(monkeypatch, lifecycle, "release_shipment", inside)

    def by_member():  # noqa: ANN202
        return lifecycle.order_cancel(order_id=o["id"], by=By(member_id=m.pk, label="member"), reason="不要了",
                                      member_id=m.pk)

    def by_manager():  # noqa: ANN202
        return lifecycle.order_cancel(order_id=o["id"], by=By(user_id=manager.pk, label="manager"), reason="缺货")

    with django_capture_on_commit_callbacks(execute=True):
        results, errors = _race(by_member, by_manager, inside)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], Conflict) and errors[0].code == "illegal_transition"
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled" and order.refunded_fen == order.paid_fen == o["total_fen"]
    assert [r.amount_fen for r in Refund.objects.filter(order=order)] == [o["total_fen"]]
    assert Payment.objects.get(pk=payment.pk).refunded_fen == o["total_fen"]
    assert figures(w.a, w.s1) == before  # the hold went back once, not twice
    assert OrderEvent.objects.filter(order=order, kind="order", to_status="cancelled").count() == 1
    assert OutboxEvent.objects.filter(topic="order.cancelled", aggregate_id=str(order.pk)).count() == 1
    assert checks.run() == []
