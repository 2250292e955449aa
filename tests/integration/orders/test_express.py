"""Express parcels end: confirmed delivered (``shipment_mark_delivered``) or, when nobody confirms,
completed by ``express_auto_complete`` / ``o2o complete-express`` after EXPRESS_AUTO_COMPLETE_DAYS;
then their units can be returned. On PostgreSQL: a confirmation racing the sweep has one winner."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict
from o2o.inventory import checks
from o2o.orders import returns, store_work
from o2o.orders.actors import By
from o2o.orders.models import Order, OrderEvent, OrderLine, Shipment
from o2o.outbox.models import OutboxEvent
from tests.concurrency import someone_waits_on_a_lock
from tests.e2e.orders.test_returns_support import CLERK, fake_refunds, paid_order
from tests.factories import member
from tests.integration.fulfilment.world import build

STAFF = By(label="staff:test")
DAY = timedelta(days=1)


def express_world(monkeypatch):  # noqa: ANN001, ANN201
    return build(monkeypatch, a_stock=0, b_stock=0)  # only warehouse W has stock: express


def shipped(w, *, days_ago: float, qty: int = 2) -> Shipment:  # noqa: ANN001
    """A paid express order from W, handed to the carrier ``days_ago`` days ago."""
    mem, _ = member()
    order = paid_order(w, mem, [(w.s1, qty)], choice="fastest")
    s = Shipment.objects.get(order=order)
    assert (s.mode, s.location_id) == ("express", w.w.pk)
    at = timezone.now() - timedelta(days=days_ago)
    store_work.shipment_mark_ready(s.pk, by=STAFF, tracking_no=f"SF{s.pk:010d}", pick_all=True, now=at)
    s.refresh_from_db()
    assert s.status == "shipped" and s.handed_over_at == at
    return s


@pytest.mark.django_db
def test_sweep_completes_parcels_shipped_long_ago_once(monkeypatch):
    w = express_world(monkeypatch)
    old, young = shipped(w, days_ago=7.5), shipped(w, days_ago=2)
    now = timezone.now()
    assert store_work.express_auto_complete(now) == 1
    old.refresh_from_db()
    young.refresh_from_db()
    assert (old.status, old.completed_at) == ("completed", now)
    assert young.status == "shipped" and young.completed_at is None
    order = Order.objects.get(pk=old.order_id)
    assert order.status == "completed" and order.completed_at == now
    event = OrderEvent.objects.get(shipment=old, to_status="completed")
    assert event.reason == "签收超时自动确认 auto-confirmed 7 days after shipping"
    assert event.actor_label == "system:express-auto-complete"
    assert OutboxEvent.objects.filter(topic="order.completed", aggregate_id=str(order.pk)).count() == 1
    assert store_work.express_auto_complete(now) == 0  # nothing left: idempotent
    assert OrderEvent.objects.filter(shipment=old, to_status="completed").count() == 1
    assert Order.objects.get(pk=young.order_id).status == "shipped"
    assert checks.run() == []


@pytest.mark.django_db
def test_days_come_from_settings_and_the_command_reports(monkeypatch, settings):
    w = express_world(monkeypatch)
    s = shipped(w, days_ago=1.5)
    out = StringIO()
    call_command("complete-express", stdout=out)
    assert "auto-completed 0" in out.getvalue() and "7 days" in out.getvalue()
    settings.O2O = {**settings.O2O, "EXPRESS_AUTO_COMPLETE_DAYS": 1}
    out = StringIO()
    call_command("complete-express", stdout=out)
    assert "auto-completed 1" in out.getvalue()
    s.refresh_from_db()
    assert s.status == "completed"
    assert "auto-confirmed 1 days" in OrderEvent.objects.get(shipment=s, to_status="completed").reason
    for bad in (0, "7", True):
        settings.O2O = {**settings.O2O, "EXPRESS_AUTO_COMPLETE_DAYS": bad}
        with pytest.raises(CommandError):
            call_command("complete-express", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("complete-express", "--limit", "0", stdout=StringIO())


@pytest.mark.django_db
def test_sweep_leaves_confirmed_and_other_modes_alone(monkeypatch):
    w = express_world(monkeypatch)
    s = shipped(w, days_ago=9)
    signed = s.handed_over_at + DAY
    store_work.shipment_mark_delivered(s.pk, by=STAFF, at=signed)
    s.refresh_from_db()
    assert (s.status, s.completed_at) == ("completed", signed)
    event = OrderEvent.objects.get(shipment=s, to_status="completed")
    assert event.reason.startswith(f"快递已签收 delivered ({s.tracking_no}) at ")
    assert store_work.express_auto_complete(timezone.now() + 30 * DAY) == 0
    assert OrderEvent.objects.filter(shipment=s, to_status="completed").count() == 1
    with pytest.raises(Conflict) as exc:
        store_work.shipment_mark_delivered(s.pk, by=STAFF)
    assert exc.value.code == "illegal_transition"


@pytest.mark.django_db
def test_sweep_skips_a_parcel_confirmed_after_it_was_selected(monkeypatch):
    w = express_world(monkeypatch)
    s = shipped(w, days_ago=8)
    real = store_work._locked

    def confirmed_meanwhile(shipment_id: int):  # noqa: ANN202
        Shipment.objects.filter(pk=shipment_id).update(status="completed", completed_at=timezone.now())
        return real(shipment_id)

    monkeypatch.setattr(store_work, "_locked", confirmed_meanwhile)
    assert store_work.express_auto_complete() == 0
    assert not OrderEvent.objects.filter(shipment=s, to_status="completed").exists()


@pytest.mark.django_db
def test_an_express_unit_is_returnable_once_completed(monkeypatch):
    w = express_world(monkeypatch)
    refunds = fake_refunds(monkeypatch)
    s = shipped(w, days_ago=10)
    line = OrderLine.objects.get(order_id=s.order_id)
    with pytest.raises(Conflict) as exc:  # shipped but not arrived: nothing handed over yet
        returns.return_create(order_id=s.order_id, lines=[(line.pk, 1)], method="courier", location_id=w.w.pk,
                              reason="坏了", by=CLERK)
    assert exc.value.code == "return_exceeds_quantity" and exc.value.details["handed_over"] == 0
    assert store_work.express_auto_complete() == 1
    ret = returns.return_create(order_id=s.order_id, lines=[(line.pk, 1)], method="courier", location_id=w.w.pk,
                                reason="坏了", by=CLERK)
    done = returns.return_receive(return_id=ret.pk, by=CLERK)
    assert done.status == "refunded" and refunds.calls == [(s.order_id, ret.refund_fen, ret.pk)]
    line.refresh_from_db()
    assert line.returned_qty == 1
    assert checks.run() == []


# --- PostgreSQL: the customer's confirmation racing the sweep ----------------------------------



@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first", ["delivered", "sweep"])
def test_delivered_racing_the_sweep_has_one_winner(monkeypatch, first):
    assert connection.vendor == "postgresql"
    w = express_world(monkeypatch)
    s = shipped(w, days_ago=8)
    real, entered, held = store_work.lock_order, threading.Lock(), threading.Event()

    def lock_order(order_id: int):  # noqa: ANN202 - the first keeps the lock until the other waits
        order = real(order_id)
        if entered.acquire(blocking=False):
            held.set()
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return order

    monkeypatch.setattr(store_work, "lock_order", lock_order)
    jobs = {"delivered": lambda: store_work.shipment_mark_delivered(s.pk, by=STAFF).status,
            "sweep": lambda: store_work.express_auto_complete()}
    order = [first, "sweep" if first == "delivered" else "delivered"]
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def run(name: str, i: int) -> None:
        try:
            start.wait(20)
            if i:
                assert held.wait(20)
            results[name] = jobs[name]()
        except ApiError as exc:
            results[name] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name, i)) for i, name in enumerate(order)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    if first == "delivered":
        assert results == {"delivered": "completed", "sweep": 0}
    else:
        assert results == {"sweep": 1, "delivered": "illegal_transition"}
    assert Shipment.objects.get(pk=s.pk).status == "completed"
    assert OrderEvent.objects.filter(shipment_id=s.pk, to_status="completed").count() == 1
    assert Order.objects.get(pk=s.order_id).status == "completed"
