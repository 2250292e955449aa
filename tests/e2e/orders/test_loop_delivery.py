"""The whole same-city loop through the HTTP API only: order -> Alipay (sandbox callback) -> the clerk
packs it -> a courier is booked -> the first courier finds no rider -> the next provider delivers
-> completed; the order's history and the store's alert say what happened.
"""

from __future__ import annotations

import pytest

from o2o.inventory import checks
from o2o.orders.models import CourierTask, DeliveryAlert
from tests.e2e.orders.picking import PICK_ALL
from tests.factories import auth, figures, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def ok(r, status=200):
    assert r.status_code == status, r.content
    return r.json()


def test_delivery_loop_over_http_with_a_failed_courier(client, w, django_capture_on_commit_callbacks):
    _, token = member()
    on_hand, _ = figures(w.a, w.s1)
    order = ok(post(client, "/api/v1/orders", {
        "lines": lines((w.s1, 2)), "channel": "app", "choice": "fastest", "lat": P.lat, "lng": P.lng,
        "address": "黄浦区人民大道 200 号 3 楼", "contact_name": "李四", "contact_phone": "13900001111"},
        token, "place-1"), 201)
    pay = ok(post(client, "/api/v1/payments", {"order_id": order["id"], "provider": "alipay"}, token, "pay-1"), 201)
    assert "order_string" in pay["client_params"]
    assert ok(post(client, f"/api/v1/payments/sandbox/{pay['out_trade_no']}/pay", {}, token))["order_status"] \
        == "allocated"
    [shipment] = ok(client.get(f"/api/v1/orders/{order['id']}", **auth(token)))["shipments"]
    assert shipment["mode"] == "same_city" and shipment["location_id"] == w.a.pk
    with django_capture_on_commit_callbacks(execute=True):
        ok(post(client, f"/api/v1/store/shipments/{shipment['id']}/ready", PICK_ALL, w.clerk_a, "ready-1"))
    first = CourierTask.objects.get(shipment_id=shipment["id"])
    assert first.external_id  # booked after the commit
    ok(post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": shipment["id"], "mode": "no_rider"}, w.admin))
    with django_capture_on_commit_callbacks(execute=True):
        ok(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 15}, w.admin))
    tasks = list(CourierTask.objects.filter(shipment_id=shipment["id"]).order_by("attempt"))
    assert [t.status for t in tasks][0] == "failed" and len(tasks) == 2 and tasks[1].provider != tasks[0].provider
    assert DeliveryAlert.objects.filter(location=w.a, kind="courier_failed").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        ok(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 40}, w.admin))
    final = ok(client.get(f"/api/v1/orders/{order['id']}", **auth(token)))
    assert final["status"] == "completed" and final["shipments"][0]["status"] == "completed"
    assert figures(w.a, w.s1)[0] == on_hand - 2
    tracking = ok(client.get(f"/api/v1/delivery/shipments/{shipment['id']}/tracking", **auth(token)))
    assert len(tracking["tasks"]) == 2
    hist = ok(client.get(f"/api/v1/orders/{order['id']}/history", **auth(token)))
    shipment_steps = [e["to_status"] for e in hist if e["kind"] == "shipment"]
    assert shipment_steps[:2] == ["allocated", "awaiting_courier"] and shipment_steps[-2:] == [
        "out_for_delivery", "completed"]
    assert "awaiting_courier" in shipment_steps[2:-2]  # the re-dispatch is a recorded step
    _, other = member("别人")
    assert client.get(f"/api/v1/delivery/shipments/{shipment['id']}/tracking", **auth(other)).status_code == 404
    assert checks.run() == []
