"""An order follows the re-routes of its shipments (a POS sale shorts its hold; a store rejects it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.fulfilment.reroute import shipment_reject
from o2o.inventory import checks
from o2o.inventory.ledger import Who
from o2o.orders import lifecycle
from o2o.orders.actors import SYSTEM
from o2o.orders.locks import lock_order
from o2o.orders.models import Order, Shipment
from tests.e2e.orders.picking import PICK_ALL
from tests.factories import auth, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def place(client, w, token):
    body = {"lines": lines((w.s1, 2), (w.s2, 1)), "channel": "app", "choice": "fastest", "lat": P.lat,
            "lng": P.lng}
    r = post(client, "/api/v1/orders", body, token, "k1")
    assert r.status_code == 201, r.content
    return r.json()


def pay(order_id: int) -> None:
    with transaction.atomic():
        order = lock_order(order_id)
        lifecycle.order_paid(order, amount_fen=order.total_fen, by=SYSTEM)


def test_pos_sale_shorting_an_unpaid_order_moves_it_to_another_store(client, w, django_capture_on_commit_callbacks):
    _, token = member()
    o = place(client, w, token)
    sale = {"location_id": w.a.pk, "device_id": "till-1", "events": [
        {"kind": "sale", "pos_event_id": "e1", "seq": 1, "sku_id": w.s1.pk, "qty": 10,
         "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat()}]}
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, "/api/v1/pos/stock-events", sale, w.clerk_a)
    assert r.status_code == 200 and len(r.json()["shorted_reservations"]) == 1
    got = client.get(f"/api/v1/orders/{o['id']}", **auth(token)).json()
    assert [(s["location_id"], s["status"]) for s in got["shipments"]] == [(w.a.pk, "rerouted"), (w.b.pk, "pending")]
    assert got["status"] == "pending_payment"
    hist = client.get(f"/api/v1/orders/{o['id']}/history", **auth(token)).json()
    assert [e["to_status"] for e in hist if e["kind"] == "shipment"] == ["rerouted", "pending"]
    assert checks.run() == []


def test_store_rejection_of_a_paid_order_reroutes_and_the_order_stays_allocated(client, w):
    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    order = Order.objects.get(pk=o["id"])
    assert order.status == "allocated"
    old = Shipment.objects.get(order=order)
    with transaction.atomic():
        shipment_reject(shipment_id=old.routed_id, reason="冷柜故障 fridge broken", who=Who(label="staff:a"))
    shipments = list(Shipment.objects.filter(order=order).order_by("pk"))
    assert [(s.location_id, s.status) for s in shipments] == [(w.a.pk, "rerouted"), (w.b.pk, "allocated")]
    assert shipments[1].routed.reservation.expires_at > timezone.now() + timedelta(days=6)  # paid hold
    order.refresh_from_db()
    assert order.status == "allocated"
    # The clerk of store B now sees the order, store A's clerk still sees it (its rerouted shipment).
    assert client.get(f"/api/v1/orders/{o['id']}", **auth(w.clerk_b)).json()["shipments"][0]["location_id"] == w.b.pk
    assert checks.run() == []


def _sell_all_at_a(client, w, sku, qty, event_id, django_capture_on_commit_callbacks):
    sale = {"location_id": w.a.pk, "device_id": "till-1", "events": [
        {"kind": "sale", "pos_event_id": event_id, "seq": 1, "sku_id": sku.pk, "qty": qty,
         "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat()}]}
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, "/api/v1/pos/stock-events", sale, w.clerk_a)
    assert r.status_code == 200, r.content
    return r.json()


def test_the_routing_api_leaves_order_shipments_to_the_order_center(client, w):
    _, token = member()
    o = place(client, w, token)
    routed = Shipment.objects.get(order_id=o["id"]).routed_id
    r = post(client, f"/api/v1/fulfilment/shipments/{routed}/reject", {"reason": "不想做"}, w.clerk_a, "rj")
    assert r.status_code == 409 and r.json()["code"] == "owned_shipment"
    assert Shipment.objects.get(order_id=o["id"]).status == "pending"


def test_a_paid_pickup_order_shorted_at_its_store_is_cancelled_and_refunded(client, w, monkeypatch,
                                                                            django_capture_on_commit_callbacks):
    refunds = []
    monkeypatch.setattr(lifecycle, "_refunder", [lambda order, amount, *a, **k: refunds.append(amount)])
    _, token = member()
    body = {"lines": lines((w.s1, 2)), "channel": "app", "choice": "pickup", "pickup_location_id": w.a.pk,
            "lat": P.lat, "lng": P.lng}
    o = post(client, "/api/v1/orders", body, token, "k-pick").json()
    pay(o["id"])
    _sell_all_at_a(client, w, w.s1, 10, "e-pick", django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled" and refunds == [order.paid_fen] and order.paid_fen == o["total_fen"]
    assert list(Shipment.objects.filter(order=order).values_list("status", flat=True)) == ["rerouted"]
    assert checks.run() == []


def test_an_unpaid_order_whose_lines_nobody_can_fill_is_cancelled(client, monkeypatch, django_capture_on_commit_callbacks):
    w = build(monkeypatch, b_stock=0, w_stock=0)  # only store A has the goods
    _, token = member()
    o = place(client, w, token)
    _sell_all_at_a(client, w, w.s1, 10, "e-unpaid", django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled" and order.paid_fen == 0
    assert checks.run() == []


def test_the_sweep_hands_order_shipments_to_the_order_center(client, w, monkeypatch):
    from o2o.fulfilment.reroute import reroute_shorted
    from o2o.inventory.signals import reservation_shorted

    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    reservation_shorted.disconnect(dispatch_uid="fulfilment.reroute_shorted")  # as if the hook were lost
    try:
        r = post(client, "/api/v1/pos/stock-events", {"location_id": w.a.pk, "device_id": "till-1", "events": [
            {"kind": "sale", "pos_event_id": "e-lost", "seq": 1, "sku_id": w.s1.pk, "qty": 10,
             "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat()}]}, w.clerk_a)
        assert r.status_code == 200
    finally:
        from o2o.fulfilment.reroute import on_reservation_shorted

        reservation_shorted.connect(on_reservation_shorted, dispatch_uid="fulfilment.reroute_shorted")
    assert Shipment.objects.get(order_id=o["id"]).status == "allocated"  # nothing happened yet
    assert len(reroute_shorted()) == 1
    shipments = list(Shipment.objects.filter(order_id=o["id"]).order_by("pk").values_list("location_id", "status"))
    assert shipments == [(w.a.pk, "rerouted"), (w.b.pk, "allocated")]
    assert Order.objects.get(pk=o["id"]).status == "allocated"


def test_a_member_cannot_cancel_once_any_store_started(client, monkeypatch, django_capture_on_commit_callbacks):
    from tests.factories import sku, stock_in

    w = build(monkeypatch, w_stock=0)  # s1 only in the stores: the order splits
    only_w = sku(weight_g=300)
    stock_in(w.w, only_w, 5)
    m, token = member()
    body = {"lines": lines((w.s1, 1), (only_w, 1)), "channel": "app", "choice": "fastest", "lat": P.lat,
            "lng": P.lng}
    o = post(client, "/api/v1/orders", body, token, "split").json()
    assert len(o["shipments"]) == 2
    pay(o["id"])
    at_a = Shipment.objects.get(order_id=o["id"], location=w.a)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, f"/api/v1/store/shipments/{at_a.pk}/ready", PICK_ALL, w.clerk_a, "ready")
    assert r.status_code == 200, r.content
    assert Order.objects.get(pk=o["id"]).status == "allocated"  # the warehouse has not started
    r = post(client, f"/api/v1/orders/{o['id']}/cancel", {}, token, "c")
    assert r.status_code == 409 and r.json()["code"] == "too_late_to_cancel"
    assert Order.objects.get(pk=o["id"]).status == "allocated"
    # The store's own history rows show only its shipment; order-level rows name no shipment detail.
    hist = client.get(f"/api/v1/orders/{o['id']}/history", **auth(w.clerk_a)).json()
    assert all(e["shipment_id"] in (None, at_a.pk) for e in hist)


def test_the_inventory_api_leaves_order_holds_to_the_order_center(client, w):
    from o2o.inventory.models import Reservation, ReservationStatus

    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    reservation_id = Shipment.objects.get(order_id=o["id"]).routed.reservation_id
    for action in ("release", "fulfil"):
        r = post(client, f"/api/v1/inventory/reservations/{reservation_id}/{action}", {}, w.clerk_a, f"k-{action}")
        assert r.status_code == 409 and r.json()["code"] == "owned_reservation"
    assert Reservation.objects.get(pk=reservation_id).status == ReservationStatus.ACTIVE


def test_a_till_sale_of_packed_goods_alerts_the_store(client, w, django_capture_on_commit_callbacks):
    from o2o.orders.models import DeliveryAlert

    _, token = member()
    body = {"lines": lines((w.s1, 2)), "channel": "app", "choice": "pickup", "pickup_location_id": w.a.pk,
            "lat": P.lat, "lng": P.lng}
    o = post(client, "/api/v1/orders", body, token, "k-packed").json()
    pay(o["id"])
    shipment = Shipment.objects.get(order_id=o["id"])
    assert post(client, f"/api/v1/store/shipments/{shipment.pk}/ready", PICK_ALL, w.clerk_a, "r").status_code == 200
    for event_id in ("e-p1", "e-p2"):  # the same shortage reported twice: one alert
        _sell_all_at_a(client, w, w.s1, 10, event_id, django_capture_on_commit_callbacks)
    [alert] = DeliveryAlert.objects.filter(shipment=shipment)
    assert alert.kind == "hold_lost" and alert.location_id == w.a.pk
    assert Shipment.objects.get(pk=shipment.pk).status == "ready_for_pickup"


def test_same_city_ready_refuses_a_lost_hold(client, w):
    from o2o.inventory.models import Reservation

    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    shipment = Shipment.objects.get(order_id=o["id"])
    Reservation.objects.filter(pk=shipment.routed.reservation_id).update(status="expired")
    r = post(client, f"/api/v1/store/shipments/{shipment.pk}/ready", PICK_ALL, w.clerk_a, "r2")
    assert r.status_code == 409 and r.json()["code"] == "hold_lost"
    assert Shipment.objects.get(pk=shipment.pk).status == "allocated"
