"""Courier callbacks and bookings racing each other (PostgreSQL: real row locks, own connections)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from o2o.inventory import checks
from o2o.orders import couriers, delivery, delivery_sweeps
from o2o.orders.models import CourierTask, OrderEvent, TrackingEvent
from tests.concurrency import someone_waits_on_a_lock
from tests.factories import figures
from tests.integration.fulfilment.world import build
from tests.integration.orders.test_delivery_world import apply_all, due, pack, paid_order, the_shipment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20


@pytest.fixture(autouse=True)
def fresh_couriers():
    couriers.reset()
    yield
    couriers.reset()




def _race(*jobs) -> list:  # noqa: ANN002
    start = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait(TIMEOUT)
            results[i] = jobs[i]()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    return results


def _hold_the_order_lock_until_the_other_waits(monkeypatch) -> None:
    real, entered = delivery.routed_shipment_fulfil, threading.Lock()

    def fulfil(**kw):
        if entered.acquire(blocking=False):
            deadline = time.monotonic() + 5
            while not someone_waits_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real(**kw)

    monkeypatch.setattr(delivery, "routed_shipment_fulfil", fulfil)


def _packed(monkeypatch):  # noqa: ANN202
    w = build(monkeypatch)
    shipment = the_shipment(paid_order(w))
    pack(shipment)  # a real commit: the booking runs on_commit
    return w, shipment


def test_the_same_callback_twice_at_once_is_one_event_and_one_transition(monkeypatch):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    w, shipment = _packed(monkeypatch)
    assert CourierTask.objects.get().external_id
    on_hand, reserved = figures(w.a, w.s1)
    calls = due(12)
    assert all(r["ack_status"] == 200 for r in apply_all(calls[:-1]))  # up to the rider at the store
    _, url, headers, body = calls[-1]
    assert b'"order_status":3' in body  # picked up
    _hold_the_order_lock_until_the_other_waits(monkeypatch)
    results = _race(*[lambda: delivery_sweeps.deliver_callback(url, headers, body)] * 2)
    assert sorted(info["outcome"] for _, info in results) == ["applied", "duplicate"]
    assert [ack[0] for ack, _ in results] == [200, 200]
    assert TrackingEvent.objects.filter(status="picked_up").count() == 1
    assert OrderEvent.objects.filter(shipment=shipment, to_status="out_for_delivery").count() == 1
    assert figures(w.a, w.s1) == (on_hand - 2, reserved - 2)
    shipment.refresh_from_db()
    assert shipment.status == "out_for_delivery"
    assert checks.run() == []


def test_picked_up_and_delivered_at_once_end_completed(monkeypatch):
    w, shipment = _packed(monkeypatch)
    on_hand, _ = figures(w.a, w.s1)
    calls = due(30)
    apply_all(calls[:3])
    _hold_the_order_lock_until_the_other_waits(monkeypatch)
    picked, delivered = calls[3], calls[4]
    results = _race(lambda: delivery_sweeps.deliver_callback(*picked[1:]),
                    lambda: delivery_sweeps.deliver_callback(*delivered[1:]))
    assert [ack[0] for ack, _ in results] == [200, 200]
    shipment.refresh_from_db()
    assert shipment.status == "completed" and CourierTask.objects.get().status == "delivered"
    assert figures(w.a, w.s1)[0] == on_hand - 2
    assert OrderEvent.objects.filter(shipment=shipment, to_status="out_for_delivery").count() == 1
    assert checks.run() == []


def test_two_bookers_of_one_task_book_it_once(monkeypatch):
    monkeypatch.setattr(delivery, "book_task", lambda pk: "deferred")  # as if the process died after commit
    w, shipment = _packed(monkeypatch)
    monkeypatch.undo()
    task = CourierTask.objects.get()
    assert task.external_id == ""
    gateway = couriers.courier_gateway("dada")
    real, second_done = gateway.create_order, threading.Event()
    calls = []

    def slow_create(req):  # noqa: ANN001
        calls.append(req.shipment_ref)
        second_done.wait(5)  # hold the task's row lock until the other booker gave up
        return real(req)

    monkeypatch.setattr(gateway, "create_order", slow_create)

    def book() -> str:
        out = delivery.book_task(task.pk)
        if out == "skipped":
            second_done.set()
        return out

    assert sorted(_race(book, book)) == ["booked", "skipped"]
    assert calls == [task.shipment_ref] and len(couriers.simulator("dada").requests) == 1
    task.refresh_from_db()
    assert task.external_id == task.shipment_ref
