"""Catalog pages: availability for this customer, prices at the current store, bad ids never 500."""

from __future__ import annotations

import pytest

from o2o.web.shop.districts import DISTRICTS
from tests.e2e.web.test_shop_helpers import at_point, by_testid, fresh_cache
from tests.factories import price_override
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def test_product_page_shows_availability_at_the_current_store(client, w):
    price_override(w.s1, price_fen=w.s1.list_price_fen - 100, location=w.a)
    at_point(client, w.a)
    r = client.get(f"/shop/p/{w.s1.pk}")
    assert r.status_code == 200
    html = r.content.decode()
    headline = by_testid(html, "availability-headline")
    assert headline.startswith("徐汇店 有货 1.0 km") and "可自提" in headline
    assert 'data-testid="offer-same_city"' in html and "可配送 约" in html
    assert by_testid(html, "product-price") == f"¥{(w.s1.list_price_fen - 100) / 100:.2f}"
    assert 'data-testid="add-to-cart"' in html and "徐汇店" in by_testid(html, "current-store-name")


def test_lists_show_prices_and_badges(client, w):
    at_point(client, w.a)
    r = client.get(f"/shop/search?q={w.s1.name}")
    assert r.status_code == 200 and "门店有货" in r.content.decode()
    assert client.get("/shop/").status_code == 200
    cat = w.s1.product.category_id
    assert client.get(f"/shop/c/{cat}").status_code == 200


@pytest.mark.parametrize("url", ["/shop/p/999999", "/shop/p/99999999999999999999", "/shop/c/999999",
                                 "/shop/search?q=%00", "/shop/search?q=x&page=abc", "/shop/orders/99999999999999999999",
                                 "/shop/location?next=/shop/%00", "/shop/login?next=%00"])
def test_bad_ids_are_404_or_pages_never_500(client, w, url):
    assert client.get(url).status_code in (200, 302, 400, 404)


def test_location_by_district_and_store_choice(client, w):
    r = client.post("/shop/location", {"lat": "abc", "lng": "121.4"})
    assert r.status_code == 400 and "请输入数字" in r.content.decode()
    r = client.post("/shop/location", {"lat": "48.85", "lng": "2.35"})
    assert r.status_code == 400 and "不在中国境内" in r.content.decode()
    r = client.post("/shop/location", {"lat": "31.2304", "lng": "121.4737", "coord": "wgs84"})
    assert r.status_code == 302
    point = client.session["shop_point"]
    assert point["source"] == "gps" and point["lat"] != 31.2304  # WGS-84 converted to GCJ-02
    assert client.session["shop_store"]["id"] == w.a.pk  # the nearest store becomes current
    page = client.get("/shop/location").content.decode()
    assert f'data-testid="store-{w.b.pk}"' in page and "营业" in page
    assert client.post("/shop/location/store", {"location_id": w.b.pk, "next": "/shop/cart"})["Location"] == "/shop/cart"
    assert client.session["shop_store"]["id"] == w.b.pk
    assert client.post("/shop/location/store", {"location_id": w.w.pk}).status_code == 400  # a warehouse
    assert client.post("/shop/location", {"district": "nowhere"}).status_code == 400


def test_district_centres_are_in_shanghai():
    assert len(DISTRICTS) == 16 and len({d.name for d in DISTRICTS}) == 16
    for d in DISTRICTS:
        assert 30.6 < d.lat < 31.9 and 120.8 < d.lng < 122.2, d
    by = {d.name: d for d in DISTRICTS}
    assert by["徐汇区"].lat < by["静安区"].lat and by["浦东新区"].lng > by["黄浦区"].lng > by["徐汇区"].lng
