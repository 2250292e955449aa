"""The storefront's place search: type a place name, pick one of the real places, see the nearest stores.

Places come from the public data (``settings.DATA_DIR``: the 商圈 of the POI file, the districts, the named
shops of the brand-store file), BD-09 converted to GCJ-02; without the data the search box is not shown.
"""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from o2o.core.geo import LatLng, haversine_m
from o2o.web.shop import districts
from tests.e2e.web.test_shop_helpers import by_testid, fresh_cache
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def _places(html: str) -> list[tuple[str, str]]:
    """(key, name) of each suggested place, in order."""
    return [(k, re.sub(r"<[^>]+>.*", "", name, flags=re.S).strip())
            for k, name in re.findall(r'data-testid="place-([a-z]\d+)"[^>]*>(.*?)</button>', html, re.S)]


def test_data_places_are_real_and_converted():
    every = districts.places()
    assert len(every) > 1300  # 4 商圈 + 18 districts + the named shops inside Shanghai
    by_name = {p.name: p for p in every}
    xuhui = by_name["徐汇区"]
    # BD-09 -> GCJ-02 moves a point some 0.006°: the data's 徐汇 point lands near AMap's district centre
    assert haversine_m(LatLng(xuhui.lat, xuhui.lng), LatLng(districts.BY_CODE["xuhui"].lat,
                                                             districts.BY_CODE["xuhui"].lng)) < 1500
    assert {"北外滩商圈", "大宁商圈", "卢湾商圈", "三林商圈"} <= set(by_name)
    assert all(30.6 < p.lat < 31.95 and 120.8 < p.lng < 122.2 for p in every)


def test_query_suggests_chinese_names_htmx_and_full_page(client, w):
    r = client.get("/shop/location", {"q": "徐汇"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200
    html = r.content.decode()
    assert "<html" not in html and 'id="place-results"' in html  # the fragment only
    found = _places(html)
    assert 1 < len(found) <= 8 and found[0][1] == "徐汇区"  # the district first, then shops named 徐汇
    assert all("徐汇" in name for _, name in found)
    full = client.get("/shop/location", {"q": "ＤＡ宁"})  # full-width letters, no JavaScript: the whole page
    assert full.status_code == 200 and "<html" in full.content.decode()
    assert client.get("/shop/location", {"q": "大宁"}).content.decode().count('data-testid="place-') >= 1
    two_words = _places(client.get("/shop/location", {"q": "星巴克 漕河泾"}, HTTP_HX_REQUEST="true").content.decode())
    assert sorted(n for _, n in two_words) == ["星巴克(漕河泾二店)", "星巴克(漕河泾店)"]
    many = _places(client.get("/shop/location", {"q": "星巴克"}, HTTP_HX_REQUEST="true").content.decode())
    assert len(many) == 8  # 165 in the data: the top 8


def test_choosing_a_place_sets_the_point_and_lists_nearest_stores(client, w):
    key, name = _places(client.get("/shop/location", {"q": "徐汇区"}, HTTP_HX_REQUEST="true").content.decode())[0]
    assert name == "徐汇区"
    r = client.post("/shop/location", {"place": key, "next": "/shop/cart"})
    assert r.status_code == 302 and r["Location"].startswith("/shop/location")
    point = client.session["shop_point"]
    p = districts.place(key)
    assert point == {"lat": p.lat, "lng": p.lng, "label": "徐汇区", "source": "place"}
    page = client.get("/shop/location").content.decode()
    assert by_testid(page, "current-point") == "徐汇区"
    shown = re.findall(r'data-testid="store-(\d+)".*?<span class="nowrap">([^<]+)</span>', page, re.S)
    assert [int(i) for i, _ in shown][:2] == sorted([w.a.pk, w.b.pk], key=lambda i: haversine_m(
        LatLng(p.lat, p.lng), LatLng(*(w.a.lat, w.a.lng) if i == w.a.pk else (w.b.lat, w.b.lng))))
    assert all("km" in d or " m" in d for _, d in shown)
    assert client.session["shop_store"]["id"] == int(shown[0][0])  # the nearest store became current


@pytest.mark.parametrize("q", ["", "   ", "%%%", "！？。", "<>&\"'", "x" * 41])
def test_empty_or_garbage_query_is_a_field_error(client, w, q):
    r = client.get("/shop/location", {"q": q}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400
    error = by_testid(r.content.decode(), "place-error")
    assert error and ("地名" in error or "名字" in error)
    full = client.get("/shop/location", {"q": q})
    html = full.content.decode()
    assert full.status_code == 400 and 'data-testid="place-error"' in html
    box = re.search(r'<input[^>]*\bid="id_q"[^>]*>', html).group(0)  # the error is tied to the box
    assert 'aria-invalid="true"' in box and "id_q_error" in box and html.count('id="id_q_error"') == 1


def test_nul_in_the_query_is_a_400_page_never_500(client, w):
    assert client.get("/shop/location", {"q": "徐\x00汇"}).status_code == 400


def test_no_match_is_a_friendly_error(client, w):
    r = client.get("/shop/location", {"q": "zzqqxx不存在的地方"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "没有找到" in by_testid(r.content.decode(), "place-error")
    assert _places(r.content.decode()) == []


def test_unknown_place_key_is_refused(client, w):
    for key in ("s999999", "x1", "<script>", "a" * 30):
        r = client.post("/shop/location", {"place": key})
        assert r.status_code == 400 and "shop_point" not in client.session
    assert "重新搜索" in client.post("/shop/location", {"place": "s999999"}).content.decode()


def test_without_the_data_the_search_hides_itself(client, w, tmp_path):
    with override_settings(DATA_DIR=tmp_path / "missing"):
        assert districts.places() == () and districts.search("徐汇") == []
        page = client.get("/shop/location")
        assert page.status_code == 200 and 'data-testid="place-search"' not in page.content.decode()
        assert client.get("/shop/location", {"q": "徐汇"}).status_code == 200
        assert client.post("/shop/location", {"place": "d2"}).status_code == 400
        assert client.post("/shop/location", {"district": "xuhui"}).status_code == 302  # the rest still works
