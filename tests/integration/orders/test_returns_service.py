"""The returns services: exact refunds whatever the sequence, all-or-nothing receipt, the real
refund hook, and the edges (free orders, delisted SKUs, places that take no returns)."""

from __future__ import annotations

import itertools

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from o2o.common.errors import Conflict, InvalidInput
from o2o.inventory import checks
from o2o.inventory.models import Movement
from o2o.orders import lifecycle, returns
from o2o.orders.models import Order, OrderLine, Refund, Return
from o2o.outbox.models import OutboxEvent
from o2o.stores.models import LocationKind
from tests.e2e.orders.test_returns_support import CLERK, fake_refunds, paid_order, pos_order
from tests.factories import figures, location, member
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db

_receipts = itertools.count(1)


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def line_of(order: Order) -> OrderLine:
    return OrderLine.objects.filter(order=order).order_by("pk").first()


def create(order: Order, qty: int, loc, *, line=None):  # noqa: ANN001
    line = line or line_of(order)
    return returns.return_create(order_id=order.pk, lines=[(line.pk, qty)], method="courier", location_id=loc.pk,
                                 reason="t", by=CLERK)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(qty=st.integers(1, 6), price=st.integers(1, 3000), off=st.integers(0, 100), data=st.data())
def test_any_sequence_of_returns_and_cancels_refunds_exactly_the_payable(w, monkeypatch, qty, price, off, data):
    refunds = fake_refunds(monkeypatch)
    paid = qty * price * (100 - off) // 100
    order = pos_order(w.a, f"H-{next(_receipts)}", [(w.s1, qty, price)], paid)
    line = line_of(order)
    assert line.payable_fen == paid
    open_: list[int] = []
    free, received = qty, 0
    for _ in range(40):
        if received == qty:
            break
        actions = (["create"] if free else []) + (["cancel", "receive"] if open_ else [])
        action = data.draw(st.sampled_from(actions))
        if action == "create":
            q = data.draw(st.integers(1, free))
            open_.append(create(order, q, data.draw(st.sampled_from([w.a, w.b, w.w]))).pk)
            free -= q
        else:
            rid = open_.pop(data.draw(st.integers(0, len(open_) - 1)))
            if action == "cancel":
                ret = returns.return_cancel(return_id=rid, by=CLERK)
                free += ret.lines.get().qty
            else:
                received += returns.return_receive(return_id=rid, by=CLERK).lines.get().qty
        line.refresh_from_db()
        assert 0 <= line.refunded_fen <= line.payable_fen
        assert line.returned_qty == qty - free
    while open_:  # what is still open comes in
        received += returns.return_receive(return_id=open_.pop(), by=CLERK).lines.get().qty
    while received < qty:
        last = returns.return_receive(return_id=create(order, qty - received, w.a).pk, by=CLERK)
        received += last.lines.get().qty
    line.refresh_from_db()
    order.refresh_from_db()
    assert line.refunded_fen == line.payable_fen == refunds.total(order.pk) == paid
    assert sum(Return.objects.filter(order=order, status="refunded").values_list("refund_fen", flat=True)) == paid
    assert order.status == "refunded"


def test_a_refund_that_fails_leaves_everything_as_it_was(w, monkeypatch):
    order = pos_order(w.a, "F-1", [(w.s1, 2, 1000)], 2000)
    ret = create(order, 1, w.b)

    def broken(*args, **kw) -> None:  # noqa: ANN002, ANN003
        raise Conflict("provider down", code="refund_failed")

    monkeypatch.setattr(lifecycle, "_refunder", [broken])
    before = figures(w.b, w.s1)
    with pytest.raises(Conflict):
        returns.return_receive(return_id=ret.pk, by=CLERK)
    ret.refresh_from_db()
    assert ret.status == "requested" and ret.received_at is None
    assert figures(w.b, w.s1) == before and not Movement.objects.filter(kind="return").exists()
    assert line_of(order).refunded_fen == 0
    assert not OutboxEvent.objects.filter(topic="order.refunded_lines").exists()


def test_the_installed_refund_hook_gets_exact_amounts(w, monkeypatch):
    """Runs with whatever refunder the payments module installed; records what returns asked for."""
    calls: list[tuple[int, int, int | None]] = []
    real = lifecycle.refund

    def spy(order, amount_fen, reason, by, *, order_return=None):  # noqa: ANN001
        calls.append((order.pk, amount_fen, getattr(order_return, "pk", None)))
        return real(order, amount_fen, reason, by, order_return=order_return)

    monkeypatch.setattr(lifecycle, "refund", spy)
    order = pos_order(w.a, "REAL-1", [(w.s1, 3, 1000)], 2999, method="cash")
    first = returns.return_at_store(order_id=order.pk, lines=[(line_of(order).pk, 1)], location_id=w.b.pk,
                                    reason="t", by=CLERK)
    second = returns.return_at_store(order_id=order.pk, lines=[(line_of(order).pk, 2)], location_id=w.a.pk,
                                     reason="t", by=CLERK)
    assert calls == [(order.pk, 999, first.pk), (order.pk, 2000, second.pk)]
    assert (first.status, second.status) == ("refunded", "refunded")
    order.refresh_from_db()
    assert order.refunded_fen == 2999 and order.status == "refunded"
    assert sorted(Refund.objects.filter(order=order).values_list("order_return_id", "amount_fen")) == [
        (first.pk, 999), (second.pk, 2000)]


def test_a_free_order_is_refunded_once_every_unit_is_back(w, monkeypatch):
    refunds = fake_refunds(monkeypatch)
    order = pos_order(w.a, "FREE-1", [(w.s1, 2, 500)], 0)
    returns.return_at_store(order_id=order.pk, lines=[(line_of(order).pk, 1)], location_id=w.a.pk, reason="",
                            by=CLERK)
    assert Order.objects.get(pk=order.pk).status == "completed"
    returns.return_at_store(order_id=order.pk, lines=[(line_of(order).pk, 1)], location_id=w.a.pk, reason="",
                            by=CLERK)
    assert Order.objects.get(pk=order.pk).status == "refunded" and refunds.calls == []


def test_a_delisted_sku_is_still_taken_back(w, monkeypatch):
    fake_refunds(monkeypatch)
    order = pos_order(w.a, "OLD-1", [(w.s2, 1, 800)], 800)
    w.s2.active = False
    w.s2.save(update_fields=["active"])
    before = figures(w.a, w.s2)
    ret = returns.return_at_store(order_id=order.pk, lines=[(line_of(order).pk, 1)], location_id=w.a.pk,
                                  reason="", by=CLERK)
    assert ret.status == "refunded" and figures(w.a, w.s2) == (before[0] + 1, before[1])
    assert checks.run() == []


def test_where_and_what_cannot_be_returned(w, monkeypatch):
    fake_refunds(monkeypatch)
    mem, _ = member()
    order = pos_order(w.a, "E-1", [(w.s1, 2, 1000)], 2000)
    dark = location(w.east, kind=LocationKind.DARK_STORE)
    with pytest.raises(InvalidInput) as exc:
        create(order, 1, dark)
    assert exc.value.code == "invalid_return_location"
    with pytest.raises(InvalidInput) as exc:
        returns.return_create(order_id=order.pk, lines=[(line_of(order).pk, 0)], method="courier",
                              location_id=w.a.pk, reason="", by=CLERK)
    assert exc.value.code == "invalid_quantity"
    with pytest.raises(InvalidInput):
        returns.return_create(order_id=order.pk, lines=[(line_of(order).pk, 1)], method="drone",
                              location_id=w.a.pk, reason="", by=CLERK)
    unpaid = paid_order(w, mem, [(w.s1, 1)])
    lifecycle.set_refunder(lambda *a, **k: None)
    lifecycle.order_cancel(order_id=unpaid.pk, by=CLERK, reason="t")
    with pytest.raises(Conflict) as exc2:
        create(unpaid, 1, w.a)
    assert exc2.value.code == "order_not_returnable"
    assert Return.objects.count() == 0 and line_of(order).returned_qty == 0


def test_return_create_takes_the_caller_transaction_with_it(w, monkeypatch):
    fake_refunds(monkeypatch)
    order = pos_order(w.a, "TX-1", [(w.s1, 2, 1000)], 2000)

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        create(order, 2, w.a)
        raise Boom
    assert Return.objects.count() == 0 and line_of(order).returned_qty == 0
