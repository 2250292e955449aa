"""社区团购 over HTTP: pickup points, an order to a leader's point, the leader's list and hand-over (only
that point's leader, once, after delivery); members see only their own; bad input in the error shape."""

from __future__ import annotations

import pytest

from o2o.groupbuy.models import CommunityOrder
from o2o.orders.models import Order, Shipment
from tests.e2e.orders.test_payments import open_payment, sandbox_pay
from tests.e2e.orders.test_returns_support import handed_over as deliver
from tests.factories import assert_error, auth, member, staff
from tests.integration.fulfilment.world import P, build, lines, post
from tests.integration.groupbuy.support import leader

pytestmark = pytest.mark.django_db

GB = "/api/v1/groupbuy/community"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def get(client, url: str, token: str):  # noqa: ANN001
    return client.get(url, **auth(token))


def test_a_neighbourhood_orders_to_its_leader_who_hands_over(client, w):
    boss, boss_t = member("张团长")
    other_boss, other_t = member("李团长")
    buyer, buyer_t = member("小王")
    _, stranger_t = member("路人")
    near = leader(w, boss, lat=P.lat + 0.001, lng=P.lng)
    far = leader(w, other_boss, name="远处团长", lat=P.lat + 0.05, lng=P.lng)
    points = get(client, f"{GB}/leaders?lat={P.lat}&lng={P.lng}", buyer_t)
    assert points.status_code == 200
    assert [p["id"] for p in points.json()] == [near.pk, far.pk] and points.json()[0]["distance_m"] < 200

    body = {"leader_id": near.pk, "lines": lines((w.s1, 2)), "choice": "same_city"}
    r = post(client, f"{GB}/orders", body, buyer_t, key="c1")
    assert r.status_code == 201, r.content
    placed = r.json()
    assert placed["leader_id"] == near.pk and placed["leader_name"] == near.name
    assert placed["order_status"] == "pending_payment" and placed["total_fen"] > 0
    assert post(client, f"{GB}/orders", body, buyer_t, key="c1").json() == placed  # replayed
    assert CommunityOrder.objects.count() == 1
    order = Order.objects.get(pk=placed["order_id"])
    assert (order.dest_lat, order.dest_lng) == (near.lat, near.lng)
    assert Shipment.objects.get(order=order).mode == "same_city"

    assert [o["order_id"] for o in get(client, f"{GB}/orders", buyer_t).json()] == [order.pk]
    assert get(client, f"{GB}/orders", stranger_t).json() == []
    listed = get(client, f"{GB}/leader/orders", boss_t)
    assert listed.status_code == 200
    row = listed.json()[0]
    assert (row["order_id"], row["member_name"], row["delivered"]) == (order.pk, "小王", False)
    assert row["lines"] == [{"sku_id": w.s1.pk, "name": w.s1.name, "qty": 2}] and "total_fen" not in row
    assert get(client, f"{GB}/leader/orders", other_t).json() == []
    assert_error(get(client, f"{GB}/leader/orders", stranger_t), 403, "not_a_leader")

    url = f"{GB}/leader/orders/{order.pk}/handed-over"
    assert_error(post(client, url, {}, stranger_t), 403, "not_a_leader")
    assert_error(post(client, url, {}, other_t), 404, "unknown_order")
    assert_error(post(client, url, {}, boss_t), 409, "not_delivered")
    p = open_payment(client, buyer_t, order.pk, "alipay").json()
    assert sandbox_pay(client, buyer_t, p["out_trade_no"]).status_code == 200
    deliver(Order.objects.get(pk=order.pk))
    done = post(client, url, {}, boss_t, key="h1")
    assert done.status_code == 200, done.content
    assert done.json()["delivered"] is True and done.json()["handed_over_at"] is not None
    assert post(client, url, {}, boss_t, key="h1").json() == done.json()  # replayed
    assert_error(post(client, url, {}, boss_t), 409, "already_handed_over")
    assert get(client, f"{GB}/leader/orders?handed=false", boss_t).json() == []
    history = get(client, f"/api/v1/orders/{order.pk}/history", buyer_t).json()
    assert any("handed to the member" in e["reason"] for e in history)
    # The buyer's order stays the buyer's: the leader cannot read it through the order center.
    assert_error(get(client, f"/api/v1/orders/{order.pk}", boss_t), 404, "unknown_order")


def test_bad_input_in_the_error_shape(client, w):
    boss, _ = member()
    point = leader(w, boss)
    _, t = member()
    _, clerk = staff("clerk", loc=w.a)
    ok = {"leader_id": point.pk, "lines": lines((w.s1, 1))}
    for bad in ({**ok, "lines": []}, {**ok, "leader_id": 0}, {**ok, "choice": "pickup"}, {"lines": ok["lines"]},
                {**ok, "lines": [{"sku_id": w.s1.pk, "qty": 0}]}, {**ok, "points": -2}, {**ok, "channel": "pos"}):
        assert_error(post(client, f"{GB}/orders", bad, t), 422)
    assert_error(post(client, f"{GB}/orders", {**ok, "leader_id": 987654}, t), 404, "unknown_leader")
    assert_error(post(client, f"{GB}/orders", {**ok, "lines": lines((w.s1, 10_000))}, t), 422)
    assert_error(post(client, f"{GB}/orders", ok, clerk), 403, "members_only")
    assert_error(client.get(f"{GB}/leaders"), 401)
    assert_error(get(client, f"{GB}/leaders?lat=200&lng=0", t), 422)
    assert_error(post(client, f"{GB}/leader/orders/987654/handed-over", {}, t), 403, "not_a_leader")
    assert Order.objects.count() == 0
