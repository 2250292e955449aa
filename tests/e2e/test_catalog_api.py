"""Catalog API: search, one SKU, the category tree and resolved prices, with access and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import assert_error, auth, category, location, member, price_override, sku, sku_in, staff

pytestmark = pytest.mark.django_db



@pytest.fixture
def tree():
    dept = category("grocery", "食品杂货 Grocery")
    milk = category("grocery.milk", "Milk", dept)
    soda = category("grocery.soda", "Soda", dept)
    return {
        "dept": dept, "milk": milk, "soda": soda,
        "whole": sku_in(milk, name="Whole Milk 1 GA", code="CJ1001", barcode="6900000010017", price_fen=1940),
        "skim": sku_in(milk, name="Skim Milk 1 GA", code="CJ1002", barcode="6900000010024"),
        "cola": sku_in(soda, name="Cola 12 OZ", code="CJ2001", barcode="6900000020016"),
    }


# --- list and search ----------------------------------------------------------------------------

def test_list_needs_a_signed_in_caller(client):
    assert_error(client.get("/api/v1/catalog/skus"), 401, "unauthorized")


def test_list_is_paginated(client, tree):
    _, token = member()
    r = client.get("/api/v1/catalog/skus?page_size=2", **auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3 and len(body["items"]) == 2
    r2 = client.get("/api/v1/catalog/skus?page_size=2&page=2", **auth(token)).json()
    assert len(r2["items"]) == 1
    assert {i["id"] for i in body["items"] + r2["items"]} == {tree[k].pk for k in ("whole", "skim", "cola")}


@pytest.mark.parametrize(("q", "expected"), [
    ("milk", {"whole", "skim"}), ("CJ2001", {"cola"}), ("cj100", {"whole", "skim"}), ("6900000010017", {"whole"}),
    ("nothing-like-this", set()),
])
def test_search_by_name_code_or_barcode(client, tree, q, expected):
    _, token = staff("marketing")
    items = client.get("/api/v1/catalog/skus", {"q": q}, **auth(token)).json()["items"]
    assert {i["id"] for i in items} == {tree[k].pk for k in expected}


def test_category_filter_includes_subcategories(client, tree):
    _, token = member()
    items = client.get(f"/api/v1/catalog/skus?category_id={tree['milk'].pk}", **auth(token)).json()["items"]
    assert {i["id"] for i in items} == {tree["whole"].pk, tree["skim"].pk}
    items = client.get(f"/api/v1/catalog/skus?category_id={tree['dept'].pk}", **auth(token)).json()["items"]
    assert len(items) == 3
    assert items[0]["category_name"] in {"Milk", "Soda"}


def test_bad_category_filter(client, tree):
    _, token = member()
    assert_error(client.get("/api/v1/catalog/skus?category_id=999999", **auth(token)), 404, "unknown_category")
    assert_error(client.get("/api/v1/catalog/skus?category_id=milk", **auth(token)), 422, "invalid")
    assert_error(client.get("/api/v1/catalog/skus?page=0", **auth(token)), 422, "invalid")


def test_inactive_skus_are_hidden_from_members_only(client, tree):
    tree["cola"].active = False
    tree["cola"].save()
    _, member_token = member()
    _, staff_token = staff("hq_admin")
    assert client.get("/api/v1/catalog/skus", **auth(member_token)).json()["count"] == 2
    assert_error(client.get(f"/api/v1/catalog/skus/{tree['cola'].pk}", **auth(member_token)), 404, "unknown_sku")
    assert client.get("/api/v1/catalog/skus", **auth(staff_token)).json()["count"] == 3
    assert client.get("/api/v1/catalog/skus?active=false", **auth(staff_token)).json()["count"] == 1
    assert client.get(f"/api/v1/catalog/skus/{tree['cola'].pk}", **auth(staff_token)).json()["active"] is False


# --- one SKU and the tree -----------------------------------------------------------------------

def test_get_one_sku(client, tree):
    _, token = staff("clerk", loc=location())
    r = client.get(f"/api/v1/catalog/skus/{tree['whole'].pk}", **auth(token))
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == "CJ1001" and body["list_price_fen"] == 1940 and body["category_id"] == tree["milk"].pk


def test_get_unknown_or_malformed_sku(client):
    _, token = member()
    body = assert_error(client.get("/api/v1/catalog/skus/999999", **auth(token)), 404, "unknown_sku")
    assert body["details"] == {"sku_id": 999999}
    assert_error(client.get("/api/v1/catalog/skus/abc", **auth(token)), 422, "invalid")


def test_category_tree(client, tree):
    _, token = member()
    roots = client.get("/api/v1/catalog/categories", **auth(token)).json()
    grocery = next(r for r in roots if r["code"] == "grocery")
    assert grocery["name"] == "食品杂货 Grocery"
    assert [c["code"] for c in grocery["children"]] == ["grocery.milk", "grocery.soda"]
    assert grocery["children"][0]["children"] == []


# --- price --------------------------------------------------------------------------------------

def price(client, token, sku_id, **params):
    return client.get(f"/api/v1/catalog/skus/{sku_id}/price", params, **auth(token))


def test_price_follows_the_precedence(client):
    a, b = location(), location()
    s = sku(price_fen=1000)
    price_override(s, price_fen=900, channel="mini_program")
    _, token = staff("hq_admin")
    body = price(client, token, s.pk).json()
    assert (body["price_fen"], body["source"], body["override_id"]) == (1000, "list", None)
    assert price(client, token, s.pk, channel="mini_program").json()["source"] == "channel"
    store = price_override(s, price_fen=950, location=a)
    body = price(client, token, s.pk, location_id=a.pk, channel="mini_program").json()
    assert (body["price_fen"], body["source"], body["override_id"]) == (950, "store", store.pk)
    price_override(s, price_fen=880, location=a, channel="mini_program")
    assert price(client, token, s.pk, location_id=a.pk, channel="mini_program").json()["price_fen"] == 880
    assert price(client, token, s.pk, location_id=b.pk, channel="mini_program").json()["price_fen"] == 900
    assert price(client, token, s.pk, location_id=a.pk, channel="pos").json()["price_fen"] == 950


def test_price_windows(client):
    a = location()
    s = sku(price_fen=1000)
    now = timezone.now()
    price_override(s, price_fen=700, location=a, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1))
    _, token = member()
    assert price(client, token, s.pk, location_id=a.pk).json()["price_fen"] == 700
    later = (now + timedelta(days=2)).isoformat()
    body = price(client, token, s.pk, location_id=a.pk, at=later).json()
    assert body["price_fen"] == 1000 and body["source"] == "list"


def test_clerk_cannot_read_another_stores_price(client):
    a, b = location(), location()
    s = sku()
    _, token = staff("clerk", loc=a)
    assert price(client, token, s.pk, location_id=a.pk).status_code == 200
    body = assert_error(price(client, token, s.pk, location_id=b.pk), 403, "forbidden")
    assert body["details"]["location_id"] == b.pk


def test_members_may_price_any_active_store(client):
    a, b = location(), location(active=False)
    s = sku()
    _, token = member()
    assert price(client, token, s.pk, location_id=a.pk).status_code == 200
    assert_error(price(client, token, s.pk, location_id=b.pk), 404, "unknown_location")


def test_price_bad_input(client):
    s = sku()
    _, token = staff("hq_admin")
    assert_error(price(client, token, 999999), 404, "unknown_sku")
    assert_error(price(client, token, s.pk, location_id=999999), 404, "unknown_location")
    assert_error(price(client, token, s.pk, location_id="x"), 422, "invalid")
    assert_error(price(client, token, s.pk, channel="fax"), 422, "invalid")
    assert_error(price(client, token, s.pk, at="yesterday"), 422, "invalid")
    assert_error(client.get("/api/v1/catalog/skus/abc/price", **auth(token)), 422, "invalid")
