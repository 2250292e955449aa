"""Pickup codes are drawn fresh on a clash; the deadline sweep cancels and refunds (or only alerts)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from o2o.common.errors import Conflict
from o2o.core.orders import damm_check_digit
from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import lifecycle, pickup, store_work
from o2o.orders.actors import By
from o2o.orders.models import DeliveryAlert, Order, OrderLine, PickupCode, Shipment
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import figures, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db

CLERK = By(label="staff:test")


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def refunds(monkeypatch) -> list[tuple]:
    asked: list[tuple] = []
    monkeypatch.setattr(lifecycle, "_refunder",
                        [lambda order, amount_fen, reason, by, order_return=None: asked.append((order.pk, amount_fen))])
    return asked


def ready_order(client, w, *pairs, key="k1") -> tuple[Order, Shipment]:  # noqa: ANN001
    _, token = member()
    o = place_pickup(client, w, token, *pairs, key=key)
    pay(o["id"])
    s = store_work.shipment_mark_ready(o["shipments"][0]["id"], by=CLERK, pick_all=True)
    return Order.objects.get(pk=o["id"]), Shipment.objects.get(pk=s.pk)


def test_a_clash_with_a_live_code_draws_again(client, w, monkeypatch):
    order, s = ready_order(client, w)
    taken = PickupCode.objects.get(shipment=s)
    draws = iter([int(taken.code[:9]), 123_456_789, 555_555_555])
    monkeypatch.setattr(pickup, "_randbelow", lambda n: next(draws))
    _, token = member()
    o2 = place_pickup(client, w, token, (w.s1, 1), key="k2")
    pay(o2["id"])
    s2 = store_work.shipment_mark_ready(o2["shipments"][0]["id"], by=CLERK, pick_all=True)
    fresh = PickupCode.objects.get(shipment=s2)
    assert fresh.code == "123456789" + damm_check_digit("123456789") and fresh.code != taken.code
    assert PickupCode.objects.filter(status="live").count() == 2
    with pytest.raises(Conflict) as exc, transaction.atomic():
        pickup.code_issue(s2, timezone.now())
    assert exc.value.code == "code_already_live"


def test_sweep_cancels_releases_and_refunds_a_single_pickup(client, w, refunds):
    before = figures(w.a, w.s1)
    order, s = ready_order(client, w, (w.s1, 2))
    assert pickup.pickups_expire(now=s.pickup_deadline - timedelta(seconds=1)) == {
        "cancelled": 0, "kept": 0, "failed": 0}
    at = s.pickup_deadline + timedelta(minutes=5)
    assert pickup.pickups_expire(now=at) == {"cancelled": 1, "kept": 0, "failed": 0}
    s.refresh_from_db()
    order.refresh_from_db()
    assert s.status == "cancelled" and order.status == "cancelled"
    assert order.cancelled_at == at and "pickup deadline" in order.cancel_reason
    assert PickupCode.objects.get(shipment=s).status == "void"
    assert Reservation.objects.get(reference=order.number).status == ReservationStatus.RELEASED
    assert figures(w.a, w.s1) == before
    assert refunds == [(order.pk, order.paid_fen)]
    alert = DeliveryAlert.objects.get(shipment=s)
    assert alert.kind == "pickup_expired" and alert.location_id == w.a.pk and alert.resolved_at is None
    assert OutboxEvent.objects.filter(topic="order.pickup_expired", aggregate_id=str(order.pk)).count() == 1
    assert OutboxEvent.objects.filter(topic="order.cancelled", aggregate_id=str(order.pk)).count() == 1
    assert pickup.pickups_expire(now=at + timedelta(hours=1))["cancelled"] == 0  # once
    assert refunds == [(order.pk, order.paid_fen)]
    assert checks.run() == []


def test_sweep_keep_policy_only_alerts_once(client, w, refunds, settings):
    settings.O2O = {**settings.O2O, "PICKUP_EXPIRED_POLICY": "keep"}
    order, s = ready_order(client, w)
    at = s.pickup_deadline + timedelta(seconds=1)
    assert pickup.pickups_expire(now=at) == {"cancelled": 0, "kept": 1, "failed": 0}
    assert pickup.pickups_expire(now=at + timedelta(hours=2)) == {"cancelled": 0, "kept": 0, "failed": 0}
    assert DeliveryAlert.objects.filter(shipment=s, kind="pickup_expired").count() == 1
    s.refresh_from_db()
    order.refresh_from_db()
    assert s.status == "ready_for_pickup" and order.status == "ready_for_pickup" and refunds == []
    assert PickupCode.objects.get(shipment=s).status == "live"
    settings.O2O = {**settings.O2O, "PICKUP_EXPIRED_POLICY": "shred"}
    with pytest.raises(ValueError):
        pickup.pickups_expire(now=at)


def test_sweep_of_one_shipment_of_a_split_order_refunds_its_lines_only(client, monkeypatch, refunds):
    # s1 only at A, s2 only at B: two same-city shipments; A's becomes a pickup at A (a split order)
    w = build(monkeypatch, a_stock=0, b_stock=0, w_stock=0)
    from tests.factories import stock_in

    stock_in(w.a, w.s1, 5)
    stock_in(w.b, w.s2, 5)
    _, token = member()
    body = {"lines": lines((w.s1, 3), (w.s2, 1)), "channel": "app", "choice": "fastest", "lat": P.lat,
            "lng": P.lng}
    r = post(client, "/api/v1/orders", body, token, "k1")
    assert r.status_code == 201, r.content
    o = r.json()
    by_loc = {sh["location_id"]: sh["id"] for sh in o["shipments"]}
    assert set(by_loc) == {w.a.pk, w.b.pk}
    Shipment.objects.filter(pk=by_loc[w.a.pk]).update(mode="pickup")
    pay(o["id"])
    s = store_work.shipment_mark_ready(by_loc[w.a.pk], by=CLERK, pick_all=True)
    s.refresh_from_db()
    assert pickup.pickups_expire(now=s.pickup_deadline + timedelta(seconds=1))["cancelled"] == 1
    order = Order.objects.get(pk=o["id"])
    assert order.status == "allocated"  # B's delivery goes on
    line = OrderLine.objects.get(order=order, sku_id=w.s1.pk)
    assert (line.returned_qty, line.refunded_fen) == (3, line.payable_fen)
    assert refunds == [(order.pk, line.payable_fen)]  # the delivery fee stays: B still delivers
    assert order.delivery_fee_fen > 0 and line.payable_fen < order.paid_fen
    assert figures(w.a, w.s1) == (5, 0)
    assert checks.run() == []


def test_sweep_without_a_refund_service_changes_nothing(client, w, monkeypatch):
    monkeypatch.setattr(lifecycle, "_refunder", [])
    order, s = ready_order(client, w)
    assert pickup.pickups_expire(now=s.pickup_deadline + timedelta(seconds=1))["failed"] == 1
    s.refresh_from_db()
    assert s.status == "ready_for_pickup" and PickupCode.objects.get(shipment=s).status == "live"
    assert not DeliveryAlert.objects.exists()


def test_expire_pickups_command(client, w, refunds, capsys):
    order, s = ready_order(client, w)
    Shipment.objects.filter(pk=s.pk).update(pickup_deadline=timezone.now() - timedelta(minutes=1))
    call_command("expire-pickups")
    assert "cancelled 1" in capsys.readouterr().out
    assert Shipment.objects.get(pk=s.pk).status == "cancelled"
    assert refunds == [(order.pk, order.paid_fen)]
