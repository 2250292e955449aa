"""Points from the real order flow, through the outbox: earned once on completion, reversed on refunds."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from o2o.members.handlers import on_order_event
from o2o.members.models import PointsAccount, PointsEntry, PointsLot
from o2o.orders import returns
from o2o.orders.models import Order, OrderLine
from o2o.outbox.models import OutboxEvent
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import CLERK, completed_order, fake_refunds, pos_order
from tests.factories import member
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def relay() -> None:
    events_relay(handlers=[on_order_event])


def test_completed_order_earns_once_even_if_the_event_is_relayed_twice(w):
    m, _ = member()
    order = completed_order(w, m, [(w.s1, 2)])
    assert order.status == "completed" or Order.objects.get(pk=order.pk).status == "completed"
    paid = Order.objects.get(pk=order.pk).paid_fen
    relay()
    done = OutboxEvent.objects.get(aggregate_id=str(order.pk), topic="order.completed")
    on_order_event(done)  # delivered again (at least once)
    OutboxEvent.objects.filter(pk=done.pk).update(dispatched_at=None)
    relay()
    acc = PointsAccount.objects.get(member=m)
    assert acc.balance == paid // 100 and paid >= 100
    assert PointsEntry.objects.filter(kind="earn").count() == 1
    assert PointsLot.objects.get().ref == f"order:{order.pk}"


def test_returns_reverse_proportionally_and_in_full_at_the_end(w, monkeypatch, capsys):
    fake_refunds(monkeypatch)
    m, _ = member()
    order = pos_order(w.a, "R-1", [(w.s1, 3, 1000)], 2999, member=m)  # paid ¥29.99 -> 29 points
    relay()
    assert PointsAccount.objects.get(member=m).balance == 29
    line = OrderLine.objects.get(order=order)
    returns.return_at_store(order_id=order.pk, lines=[(line.pk, 1)], location_id=w.a.pk, reason="", by=CLERK)
    relay()
    relay()
    refunded = Order.objects.get(pk=order.pk).refunded_fen
    assert 0 < refunded < 2999
    lot = PointsLot.objects.get()
    assert lot.reversed == 29 * refunded // 2999 and lot.remaining == 29 - lot.reversed
    returns.return_at_store(order_id=order.pk, lines=[(line.pk, 2)], location_id=w.b.pk, reason="", by=CLERK)
    relay()
    assert Order.objects.get(pk=order.pk).status == "refunded"
    lot.refresh_from_db()
    acc = PointsAccount.objects.get(member=m)
    assert lot.reversed == 29 and acc.balance == 0 and acc.debt == 0
    assert sum(PointsEntry.objects.values_list("points", flat=True)) == 0
    call_command("check-points")
    assert "0 with problems" in capsys.readouterr().out


def test_orders_without_a_member_earn_nothing(w):
    pos_order(w.a, "R-2", [(w.s1, 1, 1000)], 1000)
    relay()
    assert PointsAccount.objects.count() == 0 and PointsEntry.objects.count() == 0
