"""Paying in the sandbox, the order page (pickup code and QR), and another member's ids: 404."""

from __future__ import annotations

import re

import pytest

from o2o.orders.actors import By
from o2o.orders.models import Order, Return, Shipment
from o2o.orders.pickup import pickup_verify
from o2o.orders.store_work import shipment_mark_ready
from tests.e2e.web.test_shop_helpers import at_point, by_testid, fresh_cache, hidden, sign_in
from tests.factories import member
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def place(client, w) -> Order:
    client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 1})
    html = client.get("/shop/checkout").content.decode()
    value = re.search(rf'data-location-id="{w.a.pk}">\s*<input type="radio" name="option" value="([^"]+)"',
                      html).group(1)
    assert client.post("/shop/checkout", {"option": value, "idem": hidden(html, "idem")}).status_code == 302
    return Order.objects.latest("pk")


def test_pay_in_the_sandbox_then_pickup_code(client, w, django_capture_on_commit_callbacks):
    a, _ = member("A")
    at_point(client, w.a)
    sign_in(client, a)
    order = place(client, w)
    assert client.get(f"/shop/orders/{order.pk}/pay").status_code == 200
    assert client.post(f"/shop/orders/{order.pk}/pay", {"provider": "paypal"}).status_code == 400
    r = client.post(f"/shop/orders/{order.pk}/pay", {"provider": "alipay"})
    assert r.status_code == 302 and "/pay/sandbox/" in r["Location"]
    page = client.get(r["Location"]).content.decode()
    assert by_testid(page, "sandbox-pay") == f"确认支付 ¥{order.total_fen / 100:.2f}"
    done = client.post(r["Location"])
    assert done.status_code == 302 and done["Location"] == f"/shop/orders/{order.pk}"
    order.refresh_from_db()
    assert order.status == "allocated" and order.paid_fen == order.total_fen
    assert client.post(r["Location"]).status_code == 302  # paying twice is harmless
    html = client.get(f"/shop/orders/{order.pk}").content.decode()
    assert by_testid(html, "order-status") == "已支付，等待门店备货" and 'hx-trigger="every 5s"' in html

    shipment = Shipment.objects.get(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_mark_ready(shipment.pk, By(label="test"), pick_all=True)
    frag = client.get(f"/shop/orders/{order.pk}/status").content.decode()
    assert by_testid(frag, "order-status") == "已备好，待自提"
    assert re.fullmatch(r"\d{10}", by_testid(frag, "pickup-code"))
    assert "<svg" in frag and "自提二维码" in frag and "徐汇店" in frag


def test_another_members_order_is_404(client, w):
    a, _ = member("A")
    at_point(client, w.a)
    sign_in(client, a)
    order = place(client, w)
    b, _ = member("B")
    sign_in(client, b)
    for url in (f"/shop/orders/{order.pk}", f"/shop/orders/{order.pk}/status", f"/shop/orders/{order.pk}/pay",
                f"/shop/orders/{order.pk}/return", f"/shop/orders/{order.pk}/pay/sandbox/X1"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/shop/orders/{order.pk}/pay", {"provider": "wechat"}).status_code == 404
    assert client.get("/shop/me").status_code == 200 and order.number not in client.get("/shop/me").content.decode()


def test_a_completed_order_can_be_returned_once(client, w, django_capture_on_commit_callbacks):
    a, _ = member("A")
    at_point(client, w.a)
    sign_in(client, a)
    order = place(client, w)
    pay = client.post(f"/shop/orders/{order.pk}/pay", {"provider": "wechat"})
    client.post(pay["Location"])
    shipment = Shipment.objects.get(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        shipment_mark_ready(shipment.pk, By(label="test"), pick_all=True)
    code = by_testid(client.get(f"/shop/orders/{order.pk}").content.decode(), "pickup-code")
    assert client.get(f"/shop/orders/{order.pk}/return").status_code == 302  # not completed yet
    with django_capture_on_commit_callbacks(execute=True):
        pickup_verify(location_id=w.a.pk, by=By(label="test"), code=code)
    html = client.get(f"/shop/orders/{order.pk}").content.decode()
    assert by_testid(html, "order-status") == "已完成" and 'hx-trigger' not in html
    form = client.get(f"/shop/orders/{order.pk}/return").content.decode()
    line = order.lines.get()
    data = {f"qty_{line.pk}": "1", "method": "store", "location_id": w.b.pk, "reason": "买多了",
            "idem": hidden(form, "idem")}
    assert client.post(f"/shop/orders/{order.pk}/return", {**data, f"qty_{line.pk}": "abc"}).status_code == 400
    assert client.post(f"/shop/orders/{order.pk}/return", {**data, f"qty_{line.pk}": "5"}).status_code == 409
    key = hidden(form, "idem") + "-2"
    for _ in range(2):
        r = client.post(f"/shop/orders/{order.pk}/return", {**data, "idem": key})
        assert r.status_code == 302, r.content.decode()[-2000:]
    assert Return.objects.filter(order=order).count() == 1
    assert "已申请" in client.get("/shop/me").content.decode()
