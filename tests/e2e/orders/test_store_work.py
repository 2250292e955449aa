"""The store's steps over HTTP: start, ready (pickup / same city / express), delivered (express),
reject; who may do them; illegal moves change nothing; replays with the same Idempotency-Key; a
pickup whose stock hold lapsed is refused (``hold_lost``) and can then be rejected."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.inventory.reservations import reservations_release_expired
from o2o.orders import lifecycle, store_work
from o2o.orders.models import Order, OrderEvent, OrderLine, PickupCode, Return, Shipment
from tests.e2e.orders.picking import PICK_ALL
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import assert_error, auth, figures, member, staff
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
    """A store step; "ready" confirms every line picked in the same request (``PICK_ALL``: these tests are
    about the steps, line-by-line picking is tests/e2e/orders/test_pick_lines.py)."""
    if step == "ready":
        body = {**PICK_ALL, **(body or {})}
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


# --- express: delivered ------------------------------------------------------------------------

def shipped_express(client, monkeypatch, token, qty=2):  # noqa: ANN001, ANN201
    """An express order from warehouse W, paid and handed to the carrier by W's clerk; (world, order, shipment id, W's clerk)."""
    w = build(monkeypatch, a_stock=0, b_stock=0)
    clerk_w = staff("clerk", loc=w.w)[1]
    o = place(client, w, token, "fastest", (w.s1, qty))
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    assert (o["shipments"][0]["mode"], o["shipments"][0]["location_id"]) == ("express", w.w.pk)
    r = act(client, clerk_w, sid, "ready", {"tracking_no": "SF100200300"})
    assert r.status_code == 200 and r.json()["status"] == "shipped", r.content
    return w, o, sid, clerk_w


def test_express_delivered_by_the_shipping_location_then_returnable(client, monkeypatch, refunds):
    _, token = member()
    w, o, sid, clerk_w = shipped_express(client, monkeypatch, token)
    before = snapshot(o["id"])
    assert_error(act(client, w.clerk_a, sid, "delivered", key="d1"), 403)  # another location's clerk
    assert_error(act(client, token, sid, "delivered", key="d1"), 403, "staff_only")
    assert_error(act(client, clerk_w, 999_999, "delivered", key="d1"), 404, "unknown_shipment")
    # not handed over yet: no return can be announced for it
    body = {"order_id": o["id"], "lines": [{"order_line_id": OrderLine.objects.get(order_id=o["id"]).pk, "qty": 1}],
            "method": "courier", "location_id": w.w.pk, "reason": "不合适"}
    assert_error(post(client, "/api/v1/returns", body, token, "ret-0"), 409, "return_exceeds_quantity")
    assert snapshot(o["id"]) == before
    r = act(client, clerk_w, sid, "delivered", key="d1")
    assert r.status_code == 200, r.content
    out = r.json()
    assert out["status"] == "completed" and out["completed_at"] and out["order_status"] == "completed"
    order = Order.objects.get(pk=o["id"])
    assert order.status == "completed" and order.completed_at is not None
    assert Shipment.objects.get(pk=sid).completed_at is not None
    again = act(client, clerk_w, sid, "delivered", key="d1")
    assert again.status_code == 200 and again.json() == out  # replay: the first answer
    err = assert_error(act(client, clerk_w, sid, "delivered", key="d2"), 409, "illegal_transition")
    assert err["details"]["from"] == "completed"
    assert OrderEvent.objects.filter(shipment_id=sid, to_status="completed").count() == 1
    # the unit that arrived can now come back
    r = post(client, "/api/v1/returns", body, token, "ret-1")
    assert r.status_code == 201, r.content
    assert Return.objects.get(pk=r.json()["id"]).status == "requested"
    assert checks.run() == []


def test_express_delivered_by_hq_with_the_signing_time(client, monkeypatch):
    _, token = member()
    w, o, sid, _ = shipped_express(client, monkeypatch, token)
    shipped_at = timezone.now() - timedelta(days=2)
    Shipment.objects.filter(pk=sid).update(handed_over_at=shipped_at)  # it left two days ago
    before = snapshot(o["id"])
    for at in (timezone.now() + timedelta(hours=1), shipped_at - timedelta(minutes=1)):
        err = assert_error(act(client, w.admin, sid, "delivered", {"at": at.isoformat()}), 422, "invalid_time")
        assert err["details"]["shipment_id"] == sid
    assert_error(act(client, w.admin, sid, "delivered", {"at": "yesterday"}), 422)
    assert snapshot(o["id"]) == before
    signed = shipped_at + timedelta(days=1, minutes=3)
    r = act(client, w.admin, sid, "delivered", {"at": signed.isoformat()})
    assert r.status_code == 200, r.content
    assert Shipment.objects.get(pk=sid).completed_at == signed
    assert Order.objects.get(pk=o["id"]).status == "completed"


def test_delivered_is_for_shipped_express_only(client, w):
    _, token = member()
    o = place_pickup(client, w, token)
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    assert act(client, w.clerk_a, sid, "ready").status_code == 200
    before = snapshot(o["id"])
    err = assert_error(act(client, w.clerk_a, sid, "delivered"), 409, "not_express")
    assert err["details"]["mode"] == "pickup"
    assert snapshot(o["id"]) == before
    other = place(client, w, token, "fastest", key="k2")  # same city from store A, not handed over
    pay(other["id"])
    assert_error(act(client, w.clerk_a, other["shipments"][0]["id"], "delivered"), 409, "not_express")


def test_express_not_yet_shipped_cannot_be_delivered(client, monkeypatch):
    w = build(monkeypatch, a_stock=0, b_stock=0)
    _, token = member()
    o = place(client, w, token, "fastest", (w.s1, 1))
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    before = snapshot(o["id"])
    err = assert_error(act(client, w.admin, sid, "delivered"), 409, "illegal_transition")
    assert (err["details"]["from"], err["details"]["to"]) == ("allocated", "completed")
    assert snapshot(o["id"]) == before


# --- a pickup whose hold lapsed ----------------------------------------------------------------

def test_ready_with_a_lapsed_hold_is_hold_lost_and_changes_nothing(client, w, refunds):
    _, token = member()
    o = place_pickup(client, w, token)
    pay(o["id"])
    sid = o["shipments"][0]["id"]
    res = Reservation.objects.get(reference=o["number"])
    assert reservations_release_expired(now=res.expires_at + timedelta(seconds=1)) == 1  # the pick took too long
    assert figures(w.a, w.s1)[1] == 0  # the goods are free for others again
    before = snapshot(o["id"])
    err = assert_error(act(client, w.clerk_a, sid, "ready", key="r1"), 409, "hold_lost")
    assert err["details"]["shipment_id"] == sid and err["details"]["reservation_id"] == res.pk
    assert err["details"]["reservation_status"] == "expired" and err["details"]["closed_at"]
    assert snapshot(o["id"]) == before
    assert Shipment.objects.get(pk=sid).status == "allocated" and PickupCode.objects.count() == 0
    # the clerk rejects it: a pickup cannot move store, so it is cancelled and refunded
    r = act(client, w.clerk_a, sid, "reject", {"reason": "预占已失效"}, key="j1")
    assert r.status_code == 200, r.content
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled" and refunds == [(order.pk, order.total_fen)]
    assert figures(w.a, w.s1)[1] == 0
    assert checks.run() == []


def test_ready_with_a_lapsed_hold_of_a_same_city_order_reroutes_on_reject(client, w, refunds):
    _, token = member()
    o = place(client, w, token)
    pay(o["id"])
    old = o["shipments"][0]
    res = Reservation.objects.get(reference=o["number"], location_id=w.a.pk)
    assert reservations_release_expired(now=res.expires_at + timedelta(seconds=1)) == 1
    r = act(client, w.clerk_a, old["id"], "reject", {"reason": "预占已失效", "short": True})
    assert r.status_code == 200 and r.json()["reroute"]["new_shipments"] == 1, r.content
    assert list(Shipment.objects.filter(order_id=o["id"]).order_by("pk").values_list("location_id", "status")) == [
        (w.a.pk, "rerouted"), (w.b.pk, "allocated")]
    assert refunds == [] and checks.run() == []
