"""The shop's checkout page places each option as quoted: express is offered beside same-city and
places an express shipment from the warehouse at the total shown (no more same_city->fastest mapping)."""

from __future__ import annotations

import re

import pytest

from o2o.orders.models import Order
from tests.e2e.web.test_shop_helpers import at_point, fresh_cache, hidden, sign_in
from tests.factories import member
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def option(html: str, kind: str) -> str:
    """The radio value of the option of ``kind`` (``kind:location:total``)."""
    m = re.search(rf'data-testid="option-{kind}">\s*<input type="radio" name="option" value="([^"]+)"', html)
    assert m, f"no option {kind}"
    return m.group(1)


@pytest.mark.parametrize(("kind", "source"), [("express", "w"), ("same_city", "a")])
def test_each_delivery_option_places_what_it_quoted(client, w, kind, source):
    m, _ = member()
    at_point(client, w.a)
    sign_in(client, m)
    client.post("/shop/cart/add", {"sku_id": w.s1.pk, "qty": 2})
    html = client.get("/shop/checkout").content.decode()
    assert 'disabled' not in html.split('data-testid="option-express"')[1].split("</label>")[0]
    value = option(html, kind)
    shown_total = int(value.rsplit(":", 1)[1])
    r = client.post("/shop/checkout", {"option": value, "idem": hidden(html, "idem"), "contact_name": "张三",
                                       "contact_phone": "13812345678", "address": "人民大道 200 号"})
    assert r.status_code == 302, r.content.decode()[:2000]
    order = Order.objects.get(member=m)
    assert order.choice == kind and order.total_fen == shown_total
    assert [(s.mode, s.location_id) for s in order.shipments.all()] == [(kind, getattr(w, source).pk)]
