"""The store's steps over HTTP: start, ready (pickup / same city / express), reject; who may do them;
illegal moves change nothing; replays with the same Idempotency-Key."""

from __future__ import annotations

import pytest

from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders import lifecycle, store_work
from o2o.orders.models import Order, OrderEvent, OrderLine, PickupCode, Shipment
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import assert_error, auth, figures, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def refunds(monkeypatch) -> list[tuple]:
    """A recording refunder in place of the payment gateways."""
    asked: list[tuple] = []
    monkeypatch.setattr(lifecycle, "_refunder",
                        [lambda order, amount_fen, reason, by, order_return=None: asked.append((order.pk, amount_fen))])
    return asked


def place(client, w, token, choice="fastest", *pairs, key="k1") -> dict:  # noqa: ANN001
    body = {"lines": lines(*(pairs or ((w.s1, 2), (w.s2, 1)))), "channel": "app", "choice": choice,
            "lat": P.lat, "lng": P.lng, "contact_phone": "13800002222"}
    r = post(client, "/api/v1/orders", body, token, key)
    assert r.status_code == 201, r.content
    return r.json()


def act(client, token, shipment_id, step, body=None, key=None):  # noqa: ANN001
    return post(client, f"/api/v1/store/shipments/{shipment_id}/{step}", body or {}, token, key)


def snapshot(order_id: int) -> tuple:
    return (Order.objects.get(pk=order_id).status,
            list(Shipment.objects.filter(order_id=order_id).order_by("pk").values_list("status", flat=True)),
            OrderEvent.objects.filter(order_id=order_id).count(), PickupCode.objects.count(),
            list(Reservation.objects.order_by("pk").values_list("status", "expires_at")))


def test_ready_before_paid_is_409_and_changes_nothing(client, w):
    _, token = member()
    o = place_pickup(client, w, token)
    sid = o["shipments"][0]["id"]
    before = snapshot(o["id"])
    err = assert_error(act(client, w.clerk_a, sid, "ready"), 409, "illegal_transition")
    assert err["details"]["from"] == "pending" and err["details"]["to"] == "ready_for_pickup"
    assert_error(act(client, w.clerk_a, sid, "start"), 409, "illegal_transition")
    assert_error(act(client, w.clerk_a, sid, "reject", {"reason": "没货"}), 409, "illegal_transition")
    assert snapshot(o["id"]) == before


def test_illegal_steps_after_ready(client, w, refunds):
    _, token = member()
    o = place_pickup(client, w, token)
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    assert act(client, w.clerk_a, sid, "ready").status_code == 200  # skipping "start" is allowed
    before = snapshot(o["id"])
    assert_error(act(client, w.clerk_a, sid, "start"), 409, "illegal_transition")
    assert_error(act(client, w.clerk_a, sid, "ready"), 409, "illegal_transition")
    assert_error(act(client, w.clerk_a, sid, "reject", {"reason": "晚了"}), 409, "illegal_transition")
    assert snapshot(o["id"]) == before and refunds == []


def test_same_key_replays_and_access_is_per_store(client, w):
    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    assert o["shipments"][0]["location_id"] == w.a.pk
    assert_error(act(client, w.clerk_c, sid, "start", key="x"), 403)
    assert_error(act(client, w.clerk_b, sid, "start", key="x"), 403)
    assert_error(act(client, token, sid, "start", key="x"), 403, "staff_only")
    assert_error(act(client, w.clerk_a, 999_999, "start", key="x"), 404, "unknown_shipment")
    assert Shipment.objects.get(pk=sid).status == "allocated"
    first = act(client, w.clerk_a, sid, "start", key="s1")
    assert first.status_code == 200 and first.json()["status"] == "picking"
    again = act(client, w.clerk_a, sid, "start", key="s1")
    assert again.status_code == 200 and again.json() == first.json()
    assert OrderEvent.objects.filter(shipment_id=sid, to_status="picking").count() == 1
    assert act(client, w.mgr_east, sid, "ready", key="r1").status_code == 200  # the region's manager may too


def test_same_city_ready_books_a_courier(client, w, monkeypatch):
    booked: list[tuple[int, str]] = []
    monkeypatch.setattr(store_work.delivery, "dispatch_for", lambda s, by: booked.append((s.pk, s.status)))
    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    sh = o["shipments"][0]
    assert sh["mode"] == "same_city"
    r = act(client, w.clerk_a, sh["id"], "ready")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "awaiting_courier" and r.json()["ready_at"]
    assert booked == [(sh["id"], "awaiting_courier")]
    assert Order.objects.get(pk=o["id"]).status == "picking"  # still in the store
    assert PickupCode.objects.count() == 0


def test_express_needs_its_tracking_number_and_leaves_stock(client, monkeypatch):
    w = build(monkeypatch, a_stock=0, b_stock=0)
    _, token = member()
    o = place(client, w, token, "fastest", (w.s1, 3))
    pay(o["id"])
    sh = o["shipments"][0]
    assert (sh["mode"], sh["location_id"]) == ("express", w.w.pk)
    before = snapshot(o["id"])
    for body in ({}, {"tracking_no": "   "}):
        assert_error(act(client, w.admin, sh["id"], "ready", body), 422, "tracking_no_required")
    assert snapshot(o["id"]) == before
    on_hand = figures(w.w, w.s1)[0]
    r = act(client, w.admin, sh["id"], "ready", {"tracking_no": "SF1234567890"})
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["status"] == "shipped" and out["tracking_no"] == "SF1234567890" and out["handed_over_at"]
    assert Order.objects.get(pk=o["id"]).status == "shipped"
    assert figures(w.w, w.s1) == (on_hand - 3, 0)
    assert Reservation.objects.get(reference=o["number"]).status == ReservationStatus.FULFILLED
    assert checks.run() == []


def test_reject_reroutes_to_store_b(client, w, refunds):
    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    old = o["shipments"][0]
    assert old["location_id"] == w.a.pk
    assert act(client, w.clerk_a, old["id"], "start").status_code == 200
    assert Order.objects.get(pk=o["id"]).status == "picking"
    assert_error(act(client, w.clerk_a, old["id"], "reject", {"reason": ""}), 422)
    r = act(client, w.clerk_a, old["id"], "reject", {"reason": "冷柜故障", "short": True}, key="j1")
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["status"] == "rerouted" and out["reroute"]["new_shipments"] == 1 and out["reroute"]["unfilled"] == []
    shipments = list(Shipment.objects.filter(order_id=o["id"]).order_by("pk"))
    assert [(s.location_id, s.status) for s in shipments] == [(w.a.pk, "rerouted"), (w.b.pk, "allocated")]
    assert Order.objects.get(pk=o["id"]).status == "allocated"  # back from picking: store B starts over
    assert figures(w.a, w.s1)[1] == 0 and figures(w.b, w.s1)[1] == 2
    hist = client.get(f"/api/v1/orders/{o['id']}/history", **auth(token)).json()
    moves = [(e["shipment_id"], e["to_status"]) for e in hist if e["kind"] == "shipment"]
    assert (old["id"], "rerouted") in moves and (shipments[1].pk, "allocated") in moves
    assert any("拣货缺货" in e["reason"] for e in hist if e["shipment_id"] == old["id"])
    assert refunds == []
    # store B now sees it in its queue; store A no longer does
    queue_b = client.get("/api/v1/store/queue", **auth(w.clerk_b)).json()
    assert [s["id"] for s in queue_b["to_pick"]] == [shipments[1].pk]
    assert client.get("/api/v1/store/queue", **auth(w.clerk_a)).json()["to_pick"] == []
    assert checks.run() == []


def test_rejecting_a_pickup_order_cancels_and_refunds_it(client, w, refunds):
    _, token = member()
    o = place_pickup(client, w, token)
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    r = act(client, w.clerk_a, sid, "reject", {"reason": "门店停电"})
    assert r.status_code == 200, r.content
    assert r.json()["reroute"]["new_shipments"] == 0 and len(r.json()["reroute"]["unfilled"]) == 2
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled" and order.cancelled_at is not None
    assert refunds == [(order.pk, order.total_fen)]
    assert figures(w.a, w.s1)[1] == 0
    assert checks.run() == []


def test_partly_unfillable_reject_refunds_the_lines_left_over(client, monkeypatch, refunds):
    # A has both SKUs; B has only s1 -> rejecting at A moves s1 to B and s2 cannot go anywhere
    w = build(monkeypatch, b_stock=0, w_stock=0)
    from tests.factories import stock_in

    stock_in(w.b, w.s1, 5)
    _, token = member()
    o = place(client, w, token, "fastest", (w.s1, 1), (w.s2, 3))
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    r = act(client, w.clerk_a, sid, "reject", {"reason": "不做了"})
    assert r.status_code == 200, r.content
    assert [u["sku_id"] for u in r.json()["reroute"]["unfilled"]] == [w.s2.pk]
    s2 = OrderLine.objects.get(order_id=o["id"], sku_id=w.s2.pk)
    assert (s2.returned_qty, s2.refunded_fen) == (3, s2.payable_fen)
    assert refunds == [(o["id"], s2.payable_fen)]
    assert Order.objects.get(pk=o["id"]).status == "allocated"
    assert checks.run() == []
