"""拼团 over HTTP: open, join (Idempotency-Key), pay, the store waits until the group is full; who may see
what; bad input answered in the one error shape."""

from __future__ import annotations

import json

import pytest

from o2o.groupbuy.models import Group, GroupMember
from o2o.orders.models import Order, Shipment
from tests.e2e.orders.test_payments import open_payment, sandbox_pay
from tests.factories import assert_error, auth, member, staff
from tests.integration.fulfilment.world import P, build, post
from tests.integration.groupbuy.support import deal

pytestmark = pytest.mark.django_db

GB = "/api/v1/groupbuy"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def pickup(w, **kw) -> dict:  # noqa: ANN001
    return {"qty": 1, "choice": "pickup", "lat": P.lat, "lng": P.lng, "pickup_location_id": w.a.pk, **kw}


def get(client, url: str, token: str):  # noqa: ANN001
    return client.get(url, **auth(token))


def pay_http(client, token: str, order_id: int) -> None:  # noqa: ANN001
    p = open_payment(client, token, order_id, "alipay")
    assert p.status_code == 201, p.content
    r = sandbox_pay(client, token, p.json()["out_trade_no"])
    assert r.status_code == 200 and r.json()["outcome"] == "applied", r.content


def queue_shipments(client, w) -> set[int]:  # noqa: ANN001
    q = get(client, "/api/v1/store/queue", w.clerk_a)
    assert q.status_code == 200, q.content
    return {i["id"] for k in ("to_pick", "ready_for_pickup", "with_courier") for i in q.json()[k]}


def test_open_join_pay_and_the_store_waits_for_a_full_group(client, w):
    d = deal(w, size=2, price_fen=700)
    (m1, t1), (_, t2), (_, t3) = member(), member(), member()
    deals = get(client, f"{GB}/deals", t1)
    assert deals.status_code == 200
    assert [(x["id"], x["deal_price_fen"], x["list_price_fen"], x["open_groups"]) for x in deals.json()] == [
        (d.pk, 700, 1000, 0)]

    r = post(client, f"{GB}/deals/{d.pk}/groups", pickup(w), t1, key="open-1")
    assert r.status_code == 201, r.content
    g = r.json()
    assert (g["status"], g["joined"], g["size"], g["places_left"]) == ("open", 1, 2, 1)
    mine = g["mine"]
    assert mine["total_fen"] == 700 and mine["on_hold"] is True and mine["order_status"] == "pending_payment"
    again = post(client, f"{GB}/deals/{d.pk}/groups", pickup(w), t1, key="open-1")
    assert again.status_code == 201 and again.json()["id"] == g["id"]  # replayed, nothing new
    assert Group.objects.count() == 1 and Order.objects.count() == 1
    listed = get(client, f"{GB}/deals/{d.pk}/groups", t3).json()
    assert [(x["id"], x["places_left"], x["mine"]) for x in listed] == [(g["id"], 1, None)]

    pay_http(client, t1, mine["order_id"])
    shipment = Shipment.objects.get(order_id=mine["order_id"])
    assert shipment.status == "allocated" and shipment.pk not in queue_shipments(client, w)
    assert_error(post(client, f"/api/v1/store/shipments/{shipment.pk}/start", {}, w.clerk_a), 409, "order_on_hold")

    r = post(client, f"{GB}/groups/{g['id']}/join", pickup(w), t2, key="join-1")
    assert r.status_code == 201, r.content
    full = r.json()
    assert (full["status"], full["joined"], full["places_left"]) == ("full", 2, 0)
    assert full["mine"]["on_hold"] is False and full["mine"]["order_id"] != mine["order_id"]
    assert shipment.pk in queue_shipments(client, w)
    assert post(client, f"/api/v1/store/shipments/{shipment.pk}/start", {}, w.clerk_a).status_code == 200

    late = post(client, f"{GB}/groups/{g['id']}/join", pickup(w), t3, key="join-2")
    body = assert_error(late, 409, "group_full")
    assert body["details"]["group_id"] == g["id"]
    assert Order.objects.count() == 2

    my = get(client, f"{GB}/groups/mine", t1).json()
    assert [(x["id"], x["mine"]["order_id"], x["status"]) for x in my] == [(g["id"], mine["order_id"], "full")]
    assert get(client, f"{GB}/groups/mine", t3).json() == []
    seen = get(client, f"{GB}/groups/{g['id']}", t1).json()
    assert seen["mine"]["order_id"] == mine["order_id"] and seen["mine"]["order_status"] == "picking"
    assert GroupMember.objects.filter(member=m1).count() == 1


def test_another_member_sees_no_one_elses_place_or_order(client, w):
    d = deal(w, size=3)
    _, t1 = member()
    _, t2 = member()
    g = post(client, f"{GB}/deals/{d.pk}/groups", pickup(w), t1, key="o").json()
    order_id = g["mine"]["order_id"]
    theirs = get(client, f"{GB}/groups/{g['id']}", t2)
    assert theirs.status_code == 200 and theirs.json()["mine"] is None
    assert "order_id" not in json.dumps({k: v for k, v in theirs.json().items() if k != "mine"})
    assert_error(get(client, f"/api/v1/orders/{order_id}", t2), 404, "unknown_order")
    assert_error(open_payment(client, t2, order_id), 404, "unknown_order")
    # Staff do not join groups; nobody without credentials sees anything.
    _, clerk = staff("clerk", loc=w.a)
    assert_error(post(client, f"{GB}/groups/{g['id']}/join", pickup(w), clerk), 403, "members_only")
    assert_error(client.get(f"{GB}/groups/{g['id']}"), 401)
    assert_error(client.get(f"{GB}/deals"), 401)
    assert get(client, f"{GB}/deals", clerk).status_code == 200


def test_bad_input_in_the_error_shape(client, w):
    d = deal(w, size=2, limit=2)
    shop = deal(w, store=w.b, name="B店专享")
    _, t = member()
    url = f"{GB}/deals/{d.pk}/groups"
    for bad in ({**pickup(w), "qty": 0}, {**pickup(w), "qty": "x"}, {"qty": 1}, {**pickup(w), "choice": "counter"},
                {**pickup(w), "channel": "pos"}, {**pickup(w), "pickup_location_id": -1},
                {**pickup(w), "contact_phone": "abc"}):
        assert_error(post(client, url, bad, t), 422)
    assert_error(post(client, url, "{not json", t), 400, "malformed_request")
    assert_error(post(client, url, {**pickup(w), "qty": 3}, t), 422, "member_limit_exceeded")
    assert_error(post(client, f"{GB}/deals/987654/groups", pickup(w), t), 404, "unknown_deal")
    assert_error(post(client, f"{GB}/groups/987654/join", pickup(w), t), 404, "unknown_group")
    assert_error(get(client, f"{GB}/groups/987654", t), 404, "unknown_group")
    assert_error(get(client, f"{GB}/deals/987654/groups", t), 404, "unknown_deal")
    assert_error(post(client, f"{GB}/deals/{shop.pk}/groups", pickup(w), t), 422, "deal_store_only")
    assert_error(post(client, url, {**pickup(w), "expected_total_fen": 1}, t), 409, "total_changed")
    assert_error(post(client, url, pickup(w), t, key=""), 422, "invalid_idempotency_key")
    assert Order.objects.count() == 0 and Group.objects.count() == 0
    ok = post(client, url, pickup(w, qty=2), t, key="k")
    assert ok.status_code == 201
    assert_error(post(client, url, pickup(w, qty=1), t, key="k"), 409, "idempotency_key_reused")
    assert_error(post(client, f"{GB}/groups/{ok.json()['id']}/join", pickup(w), t), 409, "already_joined")
