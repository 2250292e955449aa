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
