"""Carts for visitors and members, merged at sign-in; the checkout quote prices every option."""

from __future__ import annotations

import json

import pytest

from o2o.orders.models import Cart, CartLine, CartStatus, Order
from tests.factories import assert_error, auth, member, price_override, sku
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def put(client, url, body, headers):
    return client.put(url, data=json.dumps(body), content_type="application/json", **headers)


def visitor_add(client, token, sku_id, qty=1):
    headers = {"HTTP_X_CART_TOKEN": token} if token else {}
    return client.post("/api/v1/cart/lines", data=json.dumps({"sku_id": sku_id, "qty": qty}),
                       content_type="application/json", **headers)


def test_visitor_cart_by_token_then_merged_into_the_member_cart(client, w):
    r = visitor_add(client, "", w.s1.pk, 2)
    assert r.status_code == 200, r.content
    token = r.json()["token"]
    assert token and r.json()["lines"][0]["qty"] == 2
    r = visitor_add(client, token, w.s1.pk, 3)
    assert r.json()["token"] is None and r.json()["lines"][0]["qty"] == 5
    assert r.json()["goods_fen"] == 5 * w.s1.list_price_fen
    m, mtoken = member()
    post(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 1}, mtoken)
    post(client, "/api/v1/cart/lines", {"sku_id": w.s2.pk, "qty": 4}, mtoken)
    merged = post(client, "/api/v1/cart/merge", {"token": token}, mtoken)
    assert merged.status_code == 200, merged.content
    assert {(ln["sku_id"], ln["qty"]) for ln in merged.json()["lines"]} == {(w.s1.pk, 6), (w.s2.pk, 4)}
    assert Cart.objects.get(member=m, status=CartStatus.OPEN).pk == merged.json()["id"]
    again = post(client, "/api/v1/cart/merge", {"token": token}, mtoken)  # twice: nothing more
    assert {(ln["sku_id"], ln["qty"]) for ln in again.json()["lines"]} == {(w.s1.pk, 6), (w.s2.pk, 4)}
    # The visitor's cart is closed now.
    assert_error(visitor_add(client, token, w.s1.pk), 422, "cart_closed")


def test_merge_caps_quantities_and_member_cannot_use_anothers_cart(client, w):
    token = visitor_add(client, "", w.s1.pk, 990).json()["token"]
    m, mtoken = member()
    post(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 20}, mtoken)
    merged = post(client, "/api/v1/cart/merge", {"token": token}, mtoken).json()
    assert merged["lines"][0]["qty"] == 999
    _, other = member("别人")
    other_cart = client.get("/api/v1/cart", **auth(other)).json()
    assert other_cart["lines"] == [] and other_cart["id"] != merged["id"]


def test_set_and_remove_lines_and_bad_input(client, w):
    _, token = member()
    post(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 2}, token)
    r = put(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 0}, auth(token))
    assert r.status_code == 200 and r.json()["lines"] == []
    assert_error(post(client, "/api/v1/cart/lines", {"sku_id": 999_999, "qty": 1}, token), 422, "unknown_sku")
    assert_error(post(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 0}, token), 422)
    assert_error(put(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 1000}, auth(token)), 422)
    # A token the server does not know (purged, made up) starts a new cart with a new token.
    fresh = visitor_add(client, "not-a-token", w.s1.pk).json()
    assert fresh["token"] not in (None, "not-a-token") and fresh["lines"][0]["qty"] == 1
    assert_error(put(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 2}, {"HTTP_X_CART_TOKEN": "nope"}),
                 404, "unknown_cart")
    assert_error(client.get("/api/v1/cart", **auth(w.clerk_a)), 403, "members_only")
    assert CartLine.objects.filter(cart__member__isnull=False).count() == 0


def test_checkout_prices_each_option_at_its_store(client, w):
    price_override(w.s1, price_fen=w.s1.list_price_fen - 100, location=w.a)  # store A's shelf price
    _, token = member()
    q = post(client, "/api/v1/checkout/quote", {"lines": lines((w.s1, 2)), "lat": P.lat, "lng": P.lng}, token)
    assert q.status_code == 200, q.content
    body = q.json()
    assert body["goods_fen"] == 2 * w.s1.list_price_fen  # no current store: chain price
    kinds = {o["kind"]: o for o in body["options"]}
    assert "pickup" in kinds and "same_city" in kinds
    pickups = [o for o in body["options"] if o["kind"] == "pickup"]
    at_a = next(o for o in pickups if o["detail"]["location_id"] == w.a.pk)
    assert at_a["delivery_fee_fen"] == 0 and at_a["total_fen"] == 2 * (w.s1.list_price_fen - 100)
    same = kinds["same_city"]
    assert same["delivery_fee_fen"] == 600 and same["total_fen"] == 2 * w.s1.list_price_fen + 600
    assert Order.objects.count() == 0


def test_checkout_from_the_member_cart_and_empty_cart(client, w):
    _, token = member()
    assert_error(post(client, "/api/v1/checkout/quote", {"lat": P.lat, "lng": P.lng}, token), 422, "empty_basket")
    post(client, "/api/v1/cart/lines", {"sku_id": w.s2.pk, "qty": 1}, token)
    q = post(client, "/api/v1/checkout/quote", {"lat": P.lat, "lng": P.lng}, token)
    assert q.status_code == 200 and q.json()["lines"][0]["sku_id"] == w.s2.pk


def test_order_from_the_cart_closes_it(client, w):
    m, token = member()
    post(client, "/api/v1/cart/lines", {"sku_id": w.s1.pk, "qty": 1}, token)
    r = post(client, "/api/v1/orders", {"channel": "h5", "choice": "fastest", "lat": P.lat, "lng": P.lng}, token, "k")
    assert r.status_code == 201, r.content
    assert [ln["sku_id"] for ln in r.json()["lines"]] == [w.s1.pk]
    assert Cart.objects.filter(member=m, status=CartStatus.ORDERED).count() == 1
    fresh = client.get("/api/v1/cart", **auth(token)).json()
    assert fresh["lines"] == [] and fresh["status"] == "open"


def test_free_delivery_above_threshold(client, w):
    big = sku(price_fen=12_000, weight_g=500)
    from tests.factories import stock_in

    stock_in(w.a, big, 5)
    _, token = member()
    q = post(client, "/api/v1/checkout/quote", {"lines": lines((big, 1)), "lat": P.lat, "lng": P.lng}, token).json()
    same = next(o for o in q["options"] if o["kind"] == "same_city")
    assert same["delivery_fee_fen"] == 0 and same["total_fen"] == 12_000
