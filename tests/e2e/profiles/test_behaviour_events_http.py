"""Behaviour events over HTTP: a signed-in member's product page and search on the storefront, a cart add through
the API; visitors record nothing; the nightly tags then have real clickstream values."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from o2o.members import actions
from o2o.profiles import services
from o2o.profiles.models import BehaviourEvent, EventKind, MemberTag
from o2o.web.auth import SESSION_MEMBER
from tests.factories import auth, member, sku

pytestmark = pytest.mark.django_db


def signed_in(client, m) -> None:  # noqa: ANN001
    session = client.session
    session[SESSION_MEMBER] = m.pk
    session.save()


def add_to_cart(client, sku_id: int, token: str | None = None, cart_token: str = ""):  # noqa: ANN201
    headers = auth(token) if token else {}
    if cart_token:
        headers["HTTP_X_CART_TOKEN"] = cart_token
    return client.post("/api/v1/cart/lines", data=json.dumps({"sku_id": sku_id, "qty": 1}),
                       content_type="application/json", **headers)


def test_a_signed_in_product_view_is_one_event_a_day_and_a_visitor_none(client):
    s = sku(name="有机牛奶")
    r = client.get(f"/shop/p/{s.pk}")  # a visitor
    assert r.status_code == 200 and not BehaviourEvent.objects.exists()
    m, _ = member()
    signed_in(client, m)
    for _ in range(2):
        r = client.get(f"/shop/p/{s.pk}")
        assert r.status_code == 200 and "有机牛奶" in r.content.decode()
    ev = BehaviourEvent.objects.get()
    assert (ev.member_id, ev.kind, ev.sku_id, ev.channel) == (m.pk, EventKind.VIEW, s.pk, "h5")
    assert ev.day == timezone.localdate()
    assert client.get("/shop/p/999999999").status_code == 404  # no product: no event
    assert BehaviourEvent.objects.count() == 1


def test_a_signed_in_search_is_one_event_a_day(client):
    sku(name="葡萄酒")
    client.get("/shop/search?q=葡萄")  # a visitor
    assert not BehaviourEvent.objects.exists()
    m, _ = member()
    signed_in(client, m)
    client.get("/shop/search?q=")  # nothing searched
    assert not BehaviourEvent.objects.exists()
    assert client.get("/shop/search?q=葡萄").status_code == 200
    assert client.get("/shop/search?q=牛奶&page=2").status_code == 200
    ev = BehaviourEvent.objects.get()
    assert (ev.member_id, ev.kind, ev.sku_id) == (m.pk, EventKind.SEARCH, None)


def test_a_members_cart_add_through_the_api_is_an_event_and_a_visitors_is_not(client):
    a, b = sku(), sku()
    m, token = member()
    r = add_to_cart(client, a.pk, token)
    assert r.status_code == 200, r.content
    assert list(BehaviourEvent.objects.values_list("member_id", "kind", "sku_id")) == [(m.pk, "cart_add", a.pk)]
    r = add_to_cart(client, b.pk)  # a visitor's cart (a new token)
    assert r.status_code == 200 and r.json()["token"]
    assert BehaviourEvent.objects.count() == 1
    r = add_to_cart(client, 10**9, token)  # an unknown SKU: the 422 as before, no event
    assert r.status_code == 422 and BehaviourEvent.objects.count() == 1


def test_after_browsing_the_tags_have_real_clickstream_values(client):
    m, token = member("逛逛")
    a, b = sku(), sku()
    signed_in(client, m)
    client.get(f"/shop/p/{a.pk}")
    client.get(f"/shop/p/{b.pk}")
    client.get(f"/shop/p/{b.pk}")
    assert add_to_cart(client, a.pk, token).status_code == 200
    actions.sign_in(member_id=m.pk)
    services.tags_compute(as_of=timezone.now())
    t = {x.name: x for x in MemberTag.objects.filter(member=m)}
    assert t["views_30d"].value == 2 and t["cart_adds_30d"].value == 1 and t["sign_in_days_30d"].value == 1
    assert t["view_to_order_30d"].value == 0.0 and "orders 0 / views 2" in t["view_to_order_30d"].explanation
    assert t["last_seen_days"].value == 0.0 and t["events_30d"].value == 4
