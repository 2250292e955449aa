"""Whatever a client sends, the answer is the JSON error shape with a 4xx, and nothing changes."""

from __future__ import annotations

import json

import pytest

from o2o.inventory.models import Movement, Reservation, Stock
from tests.factories import auth, location, sku, staff

pytestmark = pytest.mark.django_db

HUGE = 2**63  # one past the largest 64-bit integer: SQLite refuses it in filters


@pytest.fixture
def world():
    loc = location()
    item = sku()
    _, admin = staff("hq_admin")
    return loc, item, admin


def snapshot():
    return (Movement.objects.count(), Reservation.objects.count(),
            list(Stock.objects.order_by("pk").values_list("on_hand", "reserved")))


def assert_shape(r, lo=400, hi=499):
    assert lo <= r.status_code <= hi, (r.status_code, r.content[:300])
    body = r.json()
    assert set(body) == {"code", "message", "details"}, body


def post(client, path, body, token):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **auth(token))


@pytest.mark.parametrize("body", [
    {"location_id": "LOC", "lines": [{"sku_id": "{sku}", "qty": 1}]},
    {"location_id": "{loc}", "lines": [{"sku_id": HUGE, "qty": 1}]},
    {"location_id": HUGE, "lines": [{"sku_id": "{sku}", "qty": 1}]},
    {"location_id": "{loc}", "lines": [{"sku_id": "{sku}", "qty": HUGE}]},
    {"location_id": "{loc}", "lines": [{"sku_id": "{sku}", "qty": 1e400}]},
    {"location_id": "{loc}", "lines": []},
    {"location_id": "{loc}", "lines": [{"sku_id": "{sku}", "qty": 1}], "reference": "a\x00b"},
    {"location_id": "{loc}", "lines": [{"sku_id": "{sku}", "qty": 1}], "ttl_s": -5},
    {"location_id": "{loc}", "lines": [{"sku_id": "{sku}", "qty": 1}] * 2},
    [1, 2, 3],
    "null",
    "{\"location_id\": ",
])
def test_reservation_garbage_is_a_4xx_and_changes_nothing(client, world, body):
    loc, item, admin = world
    text = json.dumps(body) if not isinstance(body, str) else body
    text = text.replace('"{loc}"', str(loc.pk)).replace('"{sku}"', str(item.pk))
    before = snapshot()
    assert_shape(post(client, "/api/v1/inventory/reservations", text, admin))
    assert snapshot() == before


@pytest.mark.parametrize("path", [
    "/api/v1/inventory/locations/{loc}/ledger?sku_id=" + str(HUGE),
    "/api/v1/locations?region_id=" + str(HUGE),
])
def test_filters_with_out_of_range_ids_find_nothing_or_refuse(client, world, path):
    """An id no row can have: PostgreSQL finds nothing (200, empty), SQLite refuses the number
    (422). Either is an honest answer; a 500 is not."""
    loc, _, admin = world
    r = client.get(path.replace("{loc}", str(loc.pk)), **auth(admin))
    if r.status_code == 200:
        assert r.json()["items"] == []
    else:
        assert_shape(r)


@pytest.mark.parametrize("path", [
    "/api/v1/inventory/availability?sku_id=" + str(HUGE) + "&lat=31.2&lng=121.4",
    "/api/v1/inventory/availability?sku_id=1&lat=NaN&lng=121.4",
    "/api/v1/inventory/availability?sku_id=1&lat=31.2&lng=Infinity",
    "/api/v1/inventory/locations/" + str(HUGE) + "/stock",
    "/api/v1/inventory/locations/{loc}/stock?offset=" + str(HUGE),
    "/api/v1/inventory/locations/{loc}/stock?limit=-1",
    "/api/v1/catalog/skus?q=%00",
    "/api/v1/catalog/skus/" + str(HUGE),
])
def test_reads_with_out_of_range_values_are_4xx(client, world, path):
    loc, _, admin = world
    assert_shape(client.get(path.replace("{loc}", str(loc.pk)), **auth(admin)))


def test_post_without_credentials_is_401_not_a_csrf_403(client, world):
    loc, item, _ = world
    r = client.post("/api/v1/inventory/reservations", data=json.dumps(
        {"location_id": loc.pk, "lines": [{"sku_id": item.pk, "qty": 1}]}), content_type="application/json")
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_wrong_content_type_is_4xx(client, world):
    loc, item, admin = world
    r = client.post("/api/v1/inventory/reservations", data="location_id=1", content_type="text/plain",
                    **auth(admin))
    assert_shape(r)
