"""The whole pickup loop through the HTTP API only, as the mini-program, the store and the counter see it:
cart -> checkout -> order -> WeChat Pay (sandbox callback) -> pick -> ready -> code at the counter
-> completed -> one unit returned at ANOTHER store -> restocked there, refunded to WeChat Pay.
"""

from __future__ import annotations

import pytest

from o2o.inventory import checks
from o2o.orders.models import Order, Payment, Refund
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.picking import pick_lines
from tests.factories import auth, figures, member
from tests.integration.fulfilment.world import P, build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def ok(r, status=200):
    assert r.status_code == status, r.content
    return r.json()


def test_pickup_loop_over_http(client, w, django_capture_on_commit_callbacks):
    _, token = member()
    on_hand_a, _ = figures(w.a, w.s1)
    on_hand_b, _ = figures(w.b, w.s1)
    ok(post(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 3}, token))
    ok(post(client, "/api/v1/cart/lines", {"sku_id": w.s2.pk, "qty": 1}, token))
    quote = ok(post(client, "/api/v1/checkout/quote", {"lat": P.lat, "lng": P.lng, "channel": "mini_program"}, token))
    option = next(o for o in quote["options"] if o["kind"] == "pickup" and o["detail"]["location_id"] == w.a.pk)
    order = ok(post(client, "/api/v1/orders", {
        "channel": "mini_program", "choice": "pickup", "pickup_location_id": w.a.pk, "lat": P.lat, "lng": P.lng,
        "expected_total_fen": option["total_fen"], "utm_source": "moments"}, token, "place-1"), 201)
    assert order["status"] == "pending_payment" and order["total_fen"] == option["total_fen"]
    pay = ok(post(client, "/api/v1/payments", {"order_id": order["id"], "provider": "wechat", "payer_id": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}, token, "pay-1"), 201)
    assert pay["client_params"]["package"].startswith("prepay_id=")
    paid = ok(post(client, f"/api/v1/payments/sandbox/{pay['out_trade_no']}/pay", {}, token))
    assert paid["order_status"] == "allocated"

    [shipment] = ok(client.get(f"/api/v1/orders/{order['id']}", **auth(token)))["shipments"]
    queue = ok(client.get(f"/api/v1/store/queue?location_id={w.a.pk}", **auth(w.clerk_a)))
    assert [s["id"] for s in queue["to_pick"]] == [shipment["id"]]  # the clerk's queue lists it
    assert client.get(f"/api/v1/store/queue?location_id={w.a.pk}", **auth(w.clerk_c)).status_code == 403
    ok(post(client, f"/api/v1/store/shipments/{shipment['id']}/start", {}, w.clerk_a, "s1"))
    pick_lines(client, shipment["id"], w.clerk_a, [ln["sku_id"] for ln in queue["to_pick"][0]["lines"]])
    ok(post(client, f"/api/v1/store/shipments/{shipment['id']}/ready", {}, w.clerk_a, "r1"))
    seen = ok(client.get(f"/api/v1/orders/{order['id']}", **auth(token)))
    assert seen["status"] == "ready_for_pickup"
    code = seen["shipments"][0]["pickup_code"]
    assert code and len(code) == 10 and seen["shipments"][0]["pickup_qr"].startswith("o2o1.")
    # Staff never see the code; another store's clerk cannot use it.
    assert ok(client.get(f"/api/v1/orders/{order['id']}", **auth(w.clerk_a)))["shipments"][0]["pickup_code"] is None
    assert post(client, "/api/v1/store/pickup/verify", {"location_id": w.b.pk, "code": code}, w.clerk_a).status_code \
        == 403
    done = ok(post(client, "/api/v1/store/pickup/verify", {"location_id": w.a.pk, "code": code}, w.clerk_a))
    assert done["result"] == "ok"
    final = ok(client.get(f"/api/v1/orders/{order['id']}", **auth(token)))
    assert final["status"] == "completed"
    assert figures(w.a, w.s1)[0] == on_hand_a - 3

    # One unit of s1 comes back at store B (not the store that sold it).
    line = next(ln for ln in final["lines"] if ln["sku_id"] == w.s1.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ret = ok(post(client, "/api/v1/returns", {"order_id": order["id"], "method": "store", "location_id": w.b.pk,
                                                  "lines": [{"order_line_id": line["id"], "qty": 1}],
                                                  "reason": "买多了"}, w.clerk_b, "ret-1"), 201)
    assert ret["status"] == "refunded" and ret["refund_fen"] == line["payable_fen"] // 3
    assert figures(w.b, w.s1)[0] == on_hand_b + 1
    o = Order.objects.get(pk=order["id"])
    assert o.refunded_fen == ret["refund_fen"] and o.status == "completed"
    refund = Refund.objects.get(order=o)
    assert refund.amount_fen == ret["refund_fen"] and refund.status == "succeeded"
    assert Payment.objects.get(order=o).refunded_fen == ret["refund_fen"]
    topics = set(OutboxEvent.objects.filter(aggregate_id=str(o.pk)).values_list("topic", flat=True))
    assert {"order.placed", "order.paid", "order.ready_for_pickup", "order.completed"} <= topics
    hist = ok(client.get(f"/api/v1/orders/{order['id']}/history", **auth(token)))
    assert [e["to_status"] for e in hist if e["kind"] == "order"] == [
        "pending_payment", "paid", "allocated", "picking", "ready_for_pickup", "completed"]
    assert checks.run() == []
