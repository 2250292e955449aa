"""Same-city delivery at the service level: dispatch after commit, failures and re-dispatch, odd callbacks, sweeps."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.db import transaction

from o2o.adapters.couriers import own_riders
from o2o.common.errors import Conflict
from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import couriers, delivery, delivery_sweeps
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    AlertKind,
    CourierTask,
    DeliveryAlert,
    Order,
    OrderEvent,
    OrderStatus,
    Shipment,
    ShipmentStatus,
    TrackingEvent,
)
from o2o.outbox.models import OutboxEvent
from tests.factories import figures
from tests.integration.fulfilment.world import build
from tests.integration.orders.test_delivery_world import apply_all, due, pack, paid_order, tasks, the_shipment

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


@pytest.fixture(autouse=True)
def fresh_couriers():
    couriers.reset()
    yield
    couriers.reset()


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Advance the sandbox through its service (bookings after each commit run too)."""
    def go(minutes: int) -> list[dict]:
        with django_capture_on_commit_callbacks(execute=True):
            return delivery_sweeps.sandbox_run(minutes)["callbacks"]
    return go


@pytest.fixture
def packed(w, django_capture_on_commit_callbacks):
    order = paid_order(w)
    shipment = the_shipment(order)
    assert (shipment.mode, shipment.location_id, shipment.status) == ("same_city", w.a.pk, "allocated")
    with django_capture_on_commit_callbacks(execute=True):
        pack(shipment)
    shipment.refresh_from_db()
    return shipment


def self_loops(shipment: Shipment) -> int:
    return OrderEvent.objects.filter(shipment=shipment, from_status="awaiting_courier",
                                     to_status="awaiting_courier").count()


def test_dispatch_books_only_after_the_commit(w, django_capture_on_commit_callbacks):
    shipment = the_shipment(paid_order(w))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom), transaction.atomic():
            pack(shipment)
            raise Boom
    assert callbacks == [] and CourierTask.objects.count() == 0
    assert couriers.simulator("dada").requests == []
    with django_capture_on_commit_callbacks(execute=True):
        task = pack(shipment)
        assert task.external_id == "" and couriers.simulator("dada").requests == []  # not before the commit
    task.refresh_from_db()
    assert (task.provider, task.attempt, task.shipment_ref, task.status) == ("dada", 1, f"S{shipment.pk}-1", "created")
    assert task.external_id == task.shipment_ref and task.fee_fen >= 500
    [(path, payload)] = couriers.simulator("dada").requests
    body = payload  # the business body, as Dada reads it
    assert body["origin_id"] == task.shipment_ref and body["cargo_weight"] == 1.0  # 2 x 500 g
    order = Order.objects.get()
    assert body["receiver_phone"] == "13812345678"
    assert round(body["cargo_price"] * 100) == order.total_fen - order.delivery_fee_fen  # the lines' payable
    shipment.refresh_from_db()
    assert shipment.courier == "dada"


def test_dispatch_is_idempotent_and_refuses_other_shipments(w, packed):
    with transaction.atomic():
        lock_order(packed.order_id)
        again = delivery.dispatch_for(packed, by=system("t"))
    assert again.attempt == 1 and CourierTask.objects.count() == 1
    other = the_shipment(paid_order(w))
    with pytest.raises(Conflict) as exc, transaction.atomic():
        delivery.dispatch_for(other, by=system("t"))
    assert exc.value.code == "not_awaiting_courier"


def test_picked_up_leaves_stock_then_delivered_completes(w, packed, run):
    on_hand, reserved = figures(w.a, w.s1)
    run(12)
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.OUT_FOR_DELIVERY and packed.handed_over_at is not None
    assert figures(w.a, w.s1) == (on_hand - 2, reserved - 2)
    order = Order.objects.get(pk=packed.order_id)
    assert order.status == OrderStatus.OUT_FOR_DELIVERY
    assert Reservation.objects.get(reference=order.number).status == ReservationStatus.FULFILLED
    task = CourierTask.objects.get()
    assert task.status == "picked_up" and task.rider_name and task.rider_phone.startswith("13")
    run(15)
    packed.refresh_from_db()
    order.refresh_from_db()
    assert packed.status == ShipmentStatus.COMPLETED and packed.completed_at is not None
    assert order.status == OrderStatus.COMPLETED and order.completed_at is not None
    assert [e.status for e in TrackingEvent.objects.order_by("at", "pk")] == [
        "created", "accepted", "arrived", "picked_up", "delivered"]
    assert OutboxEvent.objects.filter(topic="order.completed", aggregate_id=str(order.pk)).count() == 1
    assert checks.run() == []


@pytest.mark.parametrize("mode", ["no_rider", "rider_cancelled"])
def test_failure_before_pickup_redispatches_to_the_next_provider(w, packed, run, mode):
    delivery_sweeps.sandbox_fail(packed.pk, mode)
    run(13)
    assert tasks(packed)[0][:3] == (1, "dada", "failed")
    assert tasks(packed)[1][:2] == (2, "sf")
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.AWAITING_COURIER and packed.courier == "sf"
    assert self_loops(packed) == 1
    [alert] = DeliveryAlert.objects.all()
    assert (alert.kind, alert.location_id, alert.shipment_id) == (AlertKind.COURIER_FAILED, w.a.pk, packed.pk)
    assert OutboxEvent.objects.filter(topic="delivery.alert").count() == 1
    first = CourierTask.objects.get(attempt=1)
    assert ("no rider" if mode == "no_rider" else "rider cancelled") in first.failed_reason
    assert figures(w.a, w.s1)[1] == 2  # still reserved at the store
    run(40)
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.COMPLETED
    assert tasks(packed) == [(1, "dada", "failed"), (2, "sf", "delivered")]
    assert Order.objects.get(pk=packed.order_id).status == OrderStatus.COMPLETED
    assert checks.run() == []


def test_timeout_after_pickup_only_alerts(w, packed, run):
    delivery_sweeps.sandbox_fail(packed.pk, "timeout")
    run(80)
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.OUT_FOR_DELIVERY
    assert tasks(packed) == [(1, "dada", "failed")]
    [alert] = DeliveryAlert.objects.all()
    assert alert.kind == AlertKind.COURIER_FAILED and "after pick-up" in alert.message
    assert Order.objects.get(pk=packed.order_id).status == OrderStatus.OUT_FOR_DELIVERY
    assert checks.run() == []


def test_when_every_provider_fails_the_parcel_stays_with_one_alert(w, packed, run):
    for p in couriers.PROVIDERS:
        couriers.simulator(p).fail_all("no_rider")
    run(45)
    assert [(p, s) for _, p, s in tasks(packed)] == [("dada", "failed"), ("sf", "failed"), ("own", "failed")]
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.AWAITING_COURIER and self_loops(packed) == 3
    kinds = sorted(DeliveryAlert.objects.values_list("kind", flat=True))
    assert kinds == ["courier_failed"] * 3 + ["no_courier"]
    assert figures(w.a, w.s1)[1] == 2
    assert delivery_sweeps.sweep()["dispatched"] == 0  # no loop: the staff handle it
    assert DeliveryAlert.objects.count() == 4 and CourierTask.objects.count() == 3


def test_delivered_before_picked_up_applies_both_steps_and_records_the_late_one(w, packed):
    calls = due(30)
    kinds = [json.loads(body)["order_status"] for _, _, _, body in calls]
    assert kinds == [1, 2, 100, 3, 4]
    delivered, picked = calls[4], calls[3]
    [done] = apply_all([delivered])
    assert done["outcome"] == "applied" and done["shipment_status"] == "completed"
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.COMPLETED and packed.handed_over_at is not None
    late = apply_all([picked, *calls[:3]])
    assert [r["outcome"] for r in late] == ["recorded"] * 4 and all(r["ack_status"] == 200 for r in late)
    assert CourierTask.objects.get().status == "delivered" and TrackingEvent.objects.count() == 5
    assert Order.objects.get(pk=packed.order_id).status == OrderStatus.COMPLETED
    assert checks.run() == []


def test_a_repeated_callback_changes_nothing(w, packed):
    calls = due(12)
    first = apply_all(calls)
    events, history = TrackingEvent.objects.count(), OrderEvent.objects.count()
    again = apply_all(calls)
    assert [r["outcome"] for r in again] == ["duplicate"] * len(calls) and all(r["ack_status"] == 200 for r in again)
    assert TrackingEvent.objects.count() == events == len(first) and OrderEvent.objects.count() == history


@pytest.mark.parametrize("provider", ["dada", "sf", "own"])
def test_a_tampered_callback_is_refused_and_changes_nothing(w, settings, django_capture_on_commit_callbacks,
                                                            provider):
    settings.O2O = {**settings.O2O, "COURIERS": {"mode": "simulator", "order": [provider]}}
    shipment = the_shipment(paid_order(w))
    with django_capture_on_commit_callbacks(execute=True):
        pack(shipment)
    calls = due(12)
    assert calls
    _, url, headers, body = calls[-1]
    forged = body.replace(b'"picked_up"', b'"delivered"') if provider == "own" else body.replace(b"1", b"2", 1)
    assert forged != body
    (status, ctype, ack), info = delivery_sweeps.deliver_callback(url, headers, forged)
    assert status == 400 and info["outcome"] in ("bad_signature", "malformed")
    assert ack == couriers.courier_gateway(provider).callback_ack(False)[2]
    assert TrackingEvent.objects.count() == 0 and Shipment.objects.get(pk=shipment.pk).status == "awaiting_courier"


def test_an_unknown_shipment_ref_is_refused(w):
    sim = couriers.simulator("own")
    headers, body = own_riders.signed_message({"ref": "S999999-1", "external_id": "own-S999999-1",
                                               "status": "picked_up", "at": "2024-05-01T10:00:00+08:00",
                                               "rider": None, "event_id": "e1"}, sim.secret)
    (status, _ctype, ack), info = delivery_sweeps.deliver_callback(couriers.callback_url("own"), headers, body)
    assert (status, ack, info["outcome"]) == (400, b'{"ok":false}', "unknown_ref")
    assert TrackingEvent.objects.count() == 0


def test_own_riders_are_assigned_at_booking_and_freed_on_delivery(w, settings):
    settings.O2O = {**settings.O2O, "COURIERS": {"mode": "simulator", "order": ["own"]}}
    shipment = the_shipment(paid_order(w))
    task = pack(shipment)
    assert delivery.book_task(task.pk) == "booked"
    assert delivery.book_task(task.pk) == "skipped"  # booked once
    task.refresh_from_db()
    assert task.status == "accepted" and task.rider_name and task.external_id == f"own-{task.shipment_ref}"
    pool = couriers.courier_gateway("own", store=w.a)
    assert list(pool.active()) == [task.external_id]
    apply_all(due(30))
    shipment.refresh_from_db()
    assert shipment.status == ShipmentStatus.COMPLETED and pool.active() == {}


def test_late_sweep_alerts_once_and_books_what_was_never_booked(w):
    shipment = the_shipment(paid_order(w))
    task = pack(shipment)  # on_commit never runs here: as if the process died after the commit
    task.refresh_from_db()
    assert task.external_id == ""
    shipment.refresh_from_db()
    assert delivery.late_sweep(task.created_at + timedelta(seconds=30))["booked"] == 0  # within the grace
    later = max(shipment.eta_latest, task.created_at) + timedelta(minutes=2)
    done = delivery.late_sweep(later)
    assert (done["late"], done["booked"]) == (1, 1)
    task.refresh_from_db()
    assert task.external_id == task.shipment_ref
    [alert] = DeliveryAlert.objects.filter(kind=AlertKind.LATE)
    assert alert.location_id == w.a.pk and alert.key == f"late:{shipment.pk}"
    assert delivery.late_sweep(later + timedelta(minutes=5)) == {"late": 0, "booked": 0, "dispatched": 0,
                                                                 "cancelled": 0}


def test_sweep_dispatches_a_shipment_left_without_a_courier_and_a_cancel_calls_the_rider_off(w, monkeypatch,
                                                                                 django_capture_on_commit_callbacks):
    from o2o.core.orders import ShipmentStatus as SS
    from o2o.orders import history, lifecycle
    from tests.integration.orders.test_delivery_world import CLERK

    shipment = the_shipment(paid_order(w))
    with transaction.atomic():
        lock_order(shipment.order_id)
        history.shipment_move(shipment, SS.AWAITING_COURIER, by=CLERK)  # packed, but no dispatch
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweeps.sweep()["dispatched"] == 1
    [task] = CourierTask.objects.all()
    assert task.external_id
    refunds = []
    monkeypatch.setattr(lifecycle, "_refunder", [lambda order, amount, *a, **k: refunds.append(amount)])
    with django_capture_on_commit_callbacks(execute=True):  # the cancel calls the rider off itself
        lifecycle.order_cancel(order_id=shipment.order_id, by=CLERK, reason="缺货")
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweeps.sweep()["cancelled"] == 0  # nothing orphaned left for the sweep
    task.refresh_from_db()
    assert task.status == "cancelled" and refunds
    assert couriers.simulator("dada").state(task.shipment_ref) == "merchant_cancelled"
    assert checks.run() == []


def test_a_fresh_process_adopts_the_booked_tasks_and_the_command_drives_them(w, packed,
                                                                           django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import call_command

    couriers.reset()  # `o2o courier-sim` runs in its own process: empty simulators
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("courier-sim", "--advance", "--minutes", "30", stdout=out)
    packed.refresh_from_db()
    assert packed.status == ShipmentStatus.COMPLETED
    rows = [line.split() for line in out.getvalue().splitlines()]
    assert [r[3:5] for r in rows[:-1]][-1] == ["delivered", "applied"] and "5 callback(s)" in out.getvalue()
    out = StringIO()
    call_command("delivery-alerts", stdout=out)
    assert "late alerts 0" in out.getvalue()
