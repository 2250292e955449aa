"""Same-city delivery over HTTP: the full loop through the callback endpoint, tracking access, the sandbox."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import couriers
from o2o.orders.models import CourierTask, DeliveryAlert, Order, Shipment, TrackingEvent
from tests.e2e.orders.picking import PICK_ALL
from tests.factories import assert_error, auth, figures, member
from tests.integration.fulfilment.world import P, build, lines, post
from tests.integration.orders.test_delivery_world import due, pack, pay, post_callbacks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_couriers():
    couriers.reset()
    yield
    couriers.reset()


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def place_paid(client, w, token: str) -> tuple[Order, Shipment]:
    body = {"lines": lines((w.s1, 2)), "channel": "mini_program", "choice": "fastest", "lat": P.lat, "lng": P.lng,
            "address": "上海市黄浦区人民大道 200 号", "contact_name": "张三", "contact_phone": "13812345678"}
    r = post(client, "/api/v1/orders", body, token, "place-1")
    assert r.status_code == 201, r.content
    order = pay(Order.objects.get(pk=r.json()["id"]))
    [shipment] = Shipment.objects.filter(order=order)
    return order, shipment


@pytest.fixture
def packed(client, w, django_capture_on_commit_callbacks):
    m, token = member()
    order, shipment = place_paid(client, w, token)
    with django_capture_on_commit_callbacks(execute=True):
        pack(shipment)
    return order, shipment, token


def tracking(client, shipment_id: int, token: str):
    return client.get(f"/api/v1/delivery/shipments/{shipment_id}/tracking", **auth(token))


def test_the_full_delivery_loop_through_the_callback_endpoint(client, w, packed, django_capture_on_commit_callbacks):
    order, shipment, token = packed
    on_hand, reserved = figures(w.a, w.s1)
    with django_capture_on_commit_callbacks(execute=True):
        responses = post_callbacks(client, due(12))
    assert [r.status_code for r in responses] == [200] * 4  # created, accepted, arrived, picked up
    assert all(r.content == b'{"status":"ok"}' and r["Content-Type"].startswith("application/json")
               for r in responses)
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert (shipment.status, order.status) == ("out_for_delivery", "out_for_delivery")
    assert figures(w.a, w.s1) == (on_hand - 2, reserved - 2)
    assert Reservation.objects.get(reference=order.number).status == ReservationStatus.FULFILLED
    r = client.get(f"/api/v1/orders/{order.pk}", **auth(token))
    assert r.json()["status"] == "out_for_delivery" and r.json()["shipments"][0]["tracking_no"]

    t = tracking(client, shipment.pk, token)
    assert t.status_code == 200, t.content
    [task] = t.json()["tasks"]
    assert (task["provider"], task["status"], task["attempt"]) == ("dada", "picked_up", 1)
    assert task["fee_fen"] is None and task["rider"]["phone"].startswith("13")  # the rider's phone, in full
    assert [e["status"] for e in task["events"]] == ["created", "accepted", "arrived", "picked_up"]
    assert t.json()["alerts"] == []

    with django_capture_on_commit_callbacks(execute=True):
        responses = post_callbacks(client, due(15))
    assert [r.status_code for r in responses] == [200]
    shipment.refresh_from_db()
    order.refresh_from_db()
    assert (shipment.status, order.status) == ("completed", "completed")
    assert CourierTask.objects.get().status == "delivered"
    assert checks.run() == []


def test_who_may_read_a_shipments_tracking(client, w, packed):
    _, shipment, token = packed
    _, someone_else = member("别人")
    assert_error(tracking(client, shipment.pk, someone_else), 404, "unknown_shipment")
    assert_error(tracking(client, 999_999, token), 404, "unknown_shipment")
    assert_error(tracking(client, shipment.pk, w.clerk_c), 403)
    assert_error(tracking(client, 999_999, w.clerk_a), 404, "unknown_shipment")
    assert client.get(f"/api/v1/delivery/shipments/{shipment.pk}/tracking").status_code == 401
    staff = tracking(client, shipment.pk, w.clerk_a)
    assert staff.status_code == 200 and staff.json()["tasks"][0]["fee_fen"] >= 500
    assert tracking(client, shipment.pk, w.mgr_east).status_code == 200
    assert_error(tracking(client, shipment.pk, w.mgr_west), 403)


def test_bad_callbacks_get_the_providers_failure_ack_and_change_nothing(client, w, packed):
    _, shipment, _ = packed
    calls = due(12)
    dada_call = calls[-1]
    url = dada_call[1]
    bare = url.split("?")[0].replace("http://testserver", "")
    r = client.post(bare, data=dada_call[3], content_type="application/json")  # the token left out
    assert r.status_code == 400 and r.content == b'{"status":"fail"}'
    r = client.post(url.replace("http://testserver", "").replace("o2o_token=", "o2o_token=0"),
                    data=dada_call[3], content_type="application/json")
    assert r.status_code == 400 and r.content == b'{"status":"fail"}'
    r = client.post("/api/v1/delivery/callbacks/sf?sign=Zm9v", data=b'{"order_status":15}',
                    content_type="application/json")
    assert r.status_code == 400 and json.loads(r.content) == {"error_code": 1, "error_msg": "fail"}
    r = client.post("/api/v1/delivery/callbacks/own", data=b"not json", content_type="application/json")
    assert r.status_code == 400 and r.content == b'{"ok":false}'
    assert_error(client.post("/api/v1/delivery/callbacks/meituan", data=b"{}", content_type="application/json"),
                 404, "unknown_provider")
    assert TrackingEvent.objects.count() == 0
    shipment.refresh_from_db()
    assert shipment.status == "awaiting_courier"
    assert [r.status_code for r in post_callbacks(client, calls)] == [200] * 4  # the genuine ones still apply


def test_the_sandbox_fails_a_courier_and_advances_the_clock(client, w, packed, django_capture_on_commit_callbacks):
    order, shipment, token = packed
    r = post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": shipment.pk, "mode": "no_rider"}, w.admin)
    assert r.status_code == 200, r.content
    assert r.json() == {"shipment_id": shipment.pk, "shipment_ref": f"S{shipment.pk}-1", "provider": "dada",
                        "mode": "no_rider"}
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 13}, w.admin)
    assert r.status_code == 200, r.content
    assert [(c["provider"], c["status"]) for c in r.json()["callbacks"]][:2] == [("dada", "created"),
                                                                               ("dada", "failed")]
    staff_view = tracking(client, shipment.pk, w.clerk_a).json()
    assert [(t["provider"], t["status"]) for t in staff_view["tasks"]][0] == ("dada", "failed")
    assert staff_view["tasks"][1]["provider"] == "sf"
    assert [a["kind"] for a in staff_view["alerts"]] == ["courier_failed"]
    assert tracking(client, shipment.pk, token).json()["alerts"] == []  # the store's business
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 40}, w.admin)
    assert r.status_code == 200
    order.refresh_from_db()
    assert order.status == "completed" and DeliveryAlert.objects.count() == 1
    assert_error(post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": shipment.pk, "mode": "timeout"},
                      w.admin), 409, "no_active_task")
    assert checks.run() == []


def test_the_sandbox_is_for_hq_and_checks_its_input(client, w, packed):
    _, shipment, token = packed
    assert_error(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 5}, token), 403)
    assert_error(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 5}, w.clerk_a), 403)
    assert_error(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": -1}, w.admin), 422)
    assert_error(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 99_999}, w.admin), 422)
    assert_error(post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": shipment.pk, "mode": "lost"},
                      w.admin), 422)
    assert_error(post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": 999_999, "mode": "timeout"},
                      w.admin), 404, "unknown_shipment")
    assert_error(post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": shipment.pk, "mode": "timeout"},
                      w.clerk_a), 403)
    assert couriers.now() - couriers.base_clock() < timedelta(seconds=1)  # the clock did not move
    assert TrackingEvent.objects.count() == 0


def test_the_sandbox_does_not_exist_in_production(client, w, settings):
    settings.O2O = {**settings.O2O, "COURIERS": {"mode": "production", "order": ["dada", "sf", "own"]}}
    assert_error(post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 5}, w.admin), 404)
    assert_error(post(client, "/api/v1/delivery/sandbox/fail", {"shipment_id": 1, "mode": "timeout"}, w.admin), 404)


def test_the_clerks_ready_books_the_courier_and_the_sandbox_delivers(client, w, django_capture_on_commit_callbacks):
    """The real path: the store's "ready" step calls dispatch_for; the booking runs after its commit."""
    _, token = member()
    order, shipment = place_paid(client, w, token)
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, f"/api/v1/store/shipments/{shipment.pk}/ready", PICK_ALL, w.clerk_a, "ready-1")
    assert r.status_code == 200, r.content
    task = CourierTask.objects.get()
    assert (task.shipment_id, task.provider, task.status) == (shipment.pk, "dada", "created") and task.external_id
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, "/api/v1/delivery/sandbox/advance", {"minutes": 30}, w.admin)
    assert r.status_code == 200 and {c["ack_status"] for c in r.json()["callbacks"]} == {200}
    order.refresh_from_db()
    assert order.status == "completed"
    assert checks.run() == []
