"""Checkout: the routing quote's options, one order per rendered form, errors beside the fields."""

from __future__ import annotations

import re

import pytest

from o2o.orders.models import Order
from tests.e2e.web.test_shop_helpers import at_point, fresh_cache, hidden, sign_in
from tests.factories import member, price_override
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def shopper(client, w):
    m, _ = member()
    at_point(client, w.a)
    sign_in(client, m)
    client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 2})
    return m


def option(html: str, kind: str, location_id: int | None = None) -> str:
    loc = f' data-location-id="{location_id}"' if location_id else ""
    m = re.search(rf'data-testid="option-{kind}"{loc}>\s*<input type="radio" name="option" value="([^"]+)"', html)
    assert m, f"no option {kind}"
    return m.group(1)


def test_checkout_needs_sign_in(client, w):
    r = client.get("/shop/checkout")
    assert r.status_code == 302 and r["Location"].startswith("/shop/login?next=")


def test_double_submit_places_one_order(client, w, shopper):
    r = client.get("/shop/checkout")
    html = r.content.decode()
    assert r.status_code == 200
    pickup = option(html, "pickup", w.a.pk)
    option(html, "same_city")
    form = {"option": pickup, "idem": hidden(html, "idem")}
    first = client.post("/shop/checkout", form)
    second = client.post("/shop/checkout", form)
    assert first.status_code == second.status_code == 302
    [order] = Order.objects.filter(member=shopper)
    assert first["Location"] == second["Location"] == f"/shop/orders/{order.pk}/pay"
    assert order.channel == "h5" and order.choice == "pickup" and order.store_id == w.a.pk
    assert order.total_fen == 2 * w.s1.list_price_fen


def test_delivery_needs_contact_and_address(client, w, shopper):
    html = client.get("/shop/checkout").content.decode()
    r = client.post("/shop/checkout", {"option": option(html, "same_city"), "idem": hidden(html, "idem"),
                                       "contact_phone": "123"})
    assert r.status_code == 400
    page = r.content.decode()
    assert "请填写收货人" in page and "请输入正确的 11 位手机号" in page and "请填写详细地址" in page
    r = client.post("/shop/checkout", {"option": "bogus", "idem": "k"})
    assert r.status_code == 400 and "请选择一种配送方式" in r.content.decode()
    r = client.post("/shop/checkout", {"option": option(html, "same_city"), "idem": hidden(html, "idem"),
                                       "contact_name": "张三", "contact_phone": "13812345678",
                                       "address": "人民大道 200 号"})
    assert r.status_code == 302
    order = Order.objects.get(member=shopper)
    assert order.address == "人民大道 200 号" and order.contact_phone_masked == "138****5678"


def test_a_changed_price_is_409_with_a_message(client, w, shopper):
    html = client.get("/shop/checkout").content.decode()
    pickup = option(html, "pickup", w.a.pk)
    price_override(w.s1, price_fen=w.s1.list_price_fen + 50, location=w.a)
    r = client.post("/shop/checkout", {"option": pickup, "idem": hidden(html, "idem")})
    assert r.status_code == 409 and "价格已变化" in r.content.decode()
    assert not Order.objects.filter(member=shopper).exists()
    assert hidden(r.content.decode(), "idem") != hidden(html, "idem")  # a fresh key for the next try
