"""Notices racing each other and racing a cancel (PostgreSQL: real row locks, own connections).

Whatever the interleaving, a payment is applied exactly once, and money is never kept for an
order we will not fill: a cancelled order ends with everything it was paid refunded.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from o2o.orders import gateways, lifecycle
from o2o.orders.actors import By
from o2o.orders.models import NoticeOutcome, Order, Payment, PaymentNotice, Refund, RefundStatus
from o2o.orders.payments import notice_handle
from o2o.outbox.models import OutboxEvent
from tests.concurrency import someone_waits_on_a_lock
from tests.e2e.orders.test_payments import open_payment, placed
from tests.factories import member
from tests.integration.fulfilment.world import build

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20




def _hold_until_a_waiter(monkeypatch, module, name: str, inside: threading.Event) -> None:
    """Make ``module.name`` (called with the order row locked) wait until another transaction waits."""
    real = getattr(module, name)

    def held(*args, **kw):  # noqa: ANN002, ANN003
        if not inside.is_set():
            inside.set()
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real(*args, **kw)

    monkeypatch.setattr(module, name, held)


def _race(first, second, inside: threading.Event) -> tuple[list[object], list[BaseException]]:
    results: list[object] = []
    errors: list[BaseException] = []

    def run(job) -> None:  # noqa: ANN001
        try:
            results.append(job())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=run, args=(first,))
    one.start()
    assert inside.wait(TIMEOUT)
    two = threading.Thread(target=run, args=(second,))
    two.start()
    for t in (one, two):
        t.join(TIMEOUT)
    assert not one.is_alive() and not two.is_alive()
    return results, errors


def _order_with_payment(client, monkeypatch, provider: str):
    w = build(monkeypatch)
    m, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], provider).json()
    return m, o, Payment.objects.get(pk=p["id"])


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_the_same_notice_delivered_twice_at_once_is_applied_once(client, monkeypatch, provider):
    assert connection.vendor == "postgresql"
    _, o, payment = _order_with_payment(client, monkeypatch, provider)
    headers, body = gateways.sandbox_pay(payment)
    inside = threading.Event()
    _hold_until_a_waiter(monkeypatch, lifecycle, "order_paid", inside)
    results, errors = _race(lambda: notice_handle(provider, headers, body),
                            lambda: notice_handle(provider, headers, body), inside)
    assert errors == []
    assert sorted(r.outcome for r in results) == [NoticeOutcome.APPLIED, NoticeOutcome.DUPLICATE]
    assert all(r.ack[0] == 200 for r in results)
    order = Order.objects.get(pk=o["id"])
    assert order.status == "allocated" and order.paid_fen == o["total_fen"]
    assert Payment.objects.get(pk=payment.pk).status == "paid"
    assert PaymentNotice.objects.filter(outcome=NoticeOutcome.APPLIED).count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid", aggregate_id=str(o["id"])).count() == 1
    assert Refund.objects.count() == 0


@pytest.mark.parametrize("first", ["notice", "cancel"])
def test_a_notice_racing_a_cancel_never_keeps_the_money(client, monkeypatch, first):
    assert connection.vendor == "postgresql"
    m, o, payment = _order_with_payment(client, monkeypatch, "wechat")
    headers, body = gateways.sandbox_pay(payment)
    inside = threading.Event()
    _hold_until_a_waiter(monkeypatch, lifecycle, "order_paid" if first == "notice" else "release_shipment", inside)

    def notice():  # noqa: ANN202
        return notice_handle("wechat", headers, body)

    def cancel():  # noqa: ANN202
        return lifecycle.order_cancel(order_id=o["id"], by=By(member_id=m.pk, label="member"), reason="race",
                                      member_id=m.pk)

    results, errors = _race(notice, cancel, inside) if first == "notice" else _race(cancel, notice, inside)
    assert errors == []
    outcome = next(r.outcome for r in results if hasattr(r, "outcome"))
    assert outcome == (NoticeOutcome.APPLIED if first == "notice" else NoticeOutcome.LATE_REFUNDED)
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled"
    assert order.paid_fen == o["total_fen"] and order.paid_fen - order.refunded_fen == 0
    refund = Refund.objects.get()  # sent after commit, for real (transactional test)
    assert refund.amount_fen == o["total_fen"] and refund.status == RefundStatus.SUCCEEDED
    assert Payment.objects.get(pk=payment.pk).refunded_fen == o["total_fen"]
