"""The cart: add through htmx (the badge updates), change and remove lines, bad input never 500s."""

from __future__ import annotations

import pytest

from o2o.orders import carts
from o2o.orders.models import Cart
from o2o.web.auth import SESSION_CART
from tests.e2e.web.test_shop_helpers import at_point, by_testid, fresh_cache, sign_in
from tests.factories import member
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def test_visitor_cart_add_update_remove(client, w):
    at_point(client, w.a)
    r = client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 2}, **HX)
    assert r.status_code == 200
    assert by_testid(r.content.decode(), "cart-badge") == "2" and "已加入购物车" in r.content.decode()
    client.post("/shop/cart/add", {"sku_id": w.s2.pk}, **HX)
    cart, _ = carts.cart_for_token(client.session[SESSION_CART])
    assert carts.cart_lines(cart) == [(w.s1.pk, 2), (w.s2.pk, 1)] and cart.location_id == w.a.pk
    r = client.post("/shop/cart/line", {"sku_id": w.s1.pk, "qty": 5}, **HX)
    html = r.content.decode()
    assert r.status_code == 200 and by_testid(html, "cart-badge") == "6"
    assert by_testid(html, f"cart-line-{w.s1.pk}") and "¥" in by_testid(html, "cart-subtotal")
    r = client.post("/shop/cart/line", {"sku_id": w.s2.pk, "qty": 0})
    assert r.status_code == 302
    assert carts.cart_lines(cart) == [(w.s1.pk, 5)]
    page = client.get("/shop/cart").content.decode()
    assert by_testid(page, "cart-subtotal") == f"¥{5 * w.s1.list_price_fen / 100:.2f}"


@pytest.mark.parametrize("data", [{"sku_id": "abc", "qty": 1}, {"sku_id": 1, "qty": "abc"}, {"qty": 1},
                                  {"sku_id": 10**30, "qty": 1}, {"sku_id": 1, "qty": 1000}, {"sku_id": 1, "qty": -1}])
def test_bad_line_input_is_400(client, w, data):
    for url in ("/shop/cart/add", "/shop/cart/line"):
        assert client.post(url, data).status_code == 400
        assert client.post(url, data, **HX).status_code == 400


def test_unknown_sku_is_422_with_a_message(client, w):
    r = client.post("/shop/cart/add", {"sku_id": 999999, "qty": 1})
    assert r.status_code == 422 and "商品不存在" in r.content.decode()
    r = client.post("/shop/cart/add", {"sku_id": 999999, "qty": 1}, **HX)
    assert r.status_code == 422


def test_member_cart(client, w):
    m, _ = member()
    sign_in(client, m)
    client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 1})
    assert Cart.objects.get(member=m).lines.count() == 1
    assert SESSION_CART not in client.session
