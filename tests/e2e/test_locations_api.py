"""Locations API: scoped lists, one location, nearby search across datums, access and bad input."""

from __future__ import annotations

import pytest

from o2o.core.geo import LatLng, gcj02_to_bd09, gcj02_to_wgs84, haversine_m
from o2o.stores.models import LocationKind
from tests.factories import assert_error, auth, location, member, region, staff

pytestmark = pytest.mark.django_db

PEOPLE_SQUARE = LatLng(31.2304, 121.4737)  # GCJ-02



@pytest.fixture
def net():
    east, west = region("浦东"), region("徐汇")
    return {
        "east": east, "west": west,
        # ~300 m and ~1.2 km from People's Square, in the east region
        "a": location(east, lat=31.2331, lng=121.4737, name="A店"),
        "b": location(east, lat=31.2304, lng=121.4864, name="B店"),
        # ~5.5 km away, in the west region
        "c": location(west, lat=31.1950, lng=121.4350, name="C店"),
        "wh": location(west, kind=LocationKind.WAREHOUSE, lat=31.2310, lng=121.4740, name="仓", can_pickup=False),
        "closed": location(west, lat=31.2305, lng=121.4738, name="关店", active=False),
    }


def ids(items) -> set[int]:
    return {i["id"] for i in items}


# --- list -----------------------------------------------------------------------------------------

def test_list_is_scoped(client, net):
    _, hq = staff("hq_admin")
    _, clerk = staff("clerk", loc=net["a"])
    _, rm = staff("region_manager", reg=net["east"])
    _, cust = member()
    every = {net[k].pk for k in ("a", "b", "c", "wh", "closed")}
    assert ids(client.get("/api/v1/locations", **auth(hq)).json()["items"]) == every
    assert ids(client.get("/api/v1/locations", **auth(clerk)).json()["items"]) == {net["a"].pk}
    assert ids(client.get("/api/v1/locations", **auth(rm)).json()["items"]) == {net["a"].pk, net["b"].pk}
    # Members: active stores only, without the staff-only facts.
    items = client.get("/api/v1/locations", **auth(cust)).json()["items"]
    assert ids(items) == {net["a"].pk, net["b"].pk, net["c"].pk}
    assert all(i["region_id"] is None and i["pick_capacity_per_hour"] is None for i in items)


def test_list_filters_and_pagination(client, net):
    _, hq = staff("hq_admin")
    body = client.get("/api/v1/locations?kind=warehouse", **auth(hq)).json()
    assert body["count"] == 1 and body["items"][0]["id"] == net["wh"].pk and body["items"][0]["region_id"]
    assert client.get(f"/api/v1/locations?region_id={net['west'].pk}", **auth(hq)).json()["count"] == 3
    assert ids(client.get("/api/v1/locations", {"q": "B店"}, **auth(hq)).json()["items"]) == {net["b"].pk}
    assert len(client.get("/api/v1/locations?page_size=2", **auth(hq)).json()["items"]) == 2
    assert_error(client.get("/api/v1/locations?kind=castle", **auth(hq)), 422, "invalid")
    assert_error(client.get("/api/v1/locations?region_id=east", **auth(hq)), 422, "invalid")


def test_list_needs_sign_in(client):
    assert_error(client.get("/api/v1/locations"), 401, "unauthorized")


# --- one ------------------------------------------------------------------------------------------

def test_clerk_reads_own_store_but_not_another(client, net):
    _, clerk = staff("clerk", loc=net["a"])
    r = client.get(f"/api/v1/locations/{net['a'].pk}", **auth(clerk))
    assert r.status_code == 200 and r.json()["code"] == net["a"].code and r.json()["region_id"] == net["east"].pk
    body = assert_error(client.get(f"/api/v1/locations/{net['b'].pk}", **auth(clerk)), 403, "forbidden")
    assert body["details"] == {"permission": "location.view", "location_id": net["b"].pk}


def test_region_manager_reads_own_region_only(client, net):
    _, rm = staff("region_manager", reg=net["east"])
    assert client.get(f"/api/v1/locations/{net['b'].pk}", **auth(rm)).status_code == 200
    assert_error(client.get(f"/api/v1/locations/{net['c'].pk}", **auth(rm)), 403, "forbidden")


def test_members_see_public_stores_only(client, net):
    _, cust = member()
    assert client.get(f"/api/v1/locations/{net['c'].pk}", **auth(cust)).json()["can_express"] is None
    assert_error(client.get(f"/api/v1/locations/{net['wh'].pk}", **auth(cust)), 404, "unknown_location")
    assert_error(client.get(f"/api/v1/locations/{net['closed'].pk}", **auth(cust)), 404, "unknown_location")


def test_unknown_and_malformed_ids(client, net):
    _, clerk = staff("clerk", loc=net["a"])
    _, cust = member()
    for token in (clerk, cust):
        body = assert_error(client.get("/api/v1/locations/999999", **auth(token)), 404, "unknown_location")
        assert body["details"] == {"location_id": 999999}
        assert_error(client.get("/api/v1/locations/abc", **auth(token)), 422, "invalid")


# --- nearby ---------------------------------------------------------------------------------------

def nearby(client, token, **params):
    return client.get("/api/v1/locations/nearby", params, **auth(token))


def test_nearby_is_sorted_and_scoped(client, net):
    _, hq = staff("hq_admin")
    p = PEOPLE_SQUARE
    items = nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=3000).json()
    got = [i["location"]["id"] for i in items]
    assert got == [net["wh"].pk, net["a"].pk, net["b"].pk]  # the closed store is left out
    dists = [i["distance_m"] for i in items]
    assert dists == sorted(dists)
    assert abs(dists[1] - haversine_m(p, LatLng(net["a"].lat, net["a"].lng))) < 0.1
    assert items[1]["delivers_here"] is True
    assert len(nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=10_000).json()) == 4
    assert len(nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=10_000, limit=2).json()) == 2

    _, cust = member()
    got = [i["location"]["id"] for i in nearby(client, cust, lat=p.lat, lng=p.lng, radius_m=10_000).json()]
    assert got == [net["a"].pk, net["b"].pk, net["c"].pk]  # no warehouse for customers

    _, clerk = staff("clerk", loc=net["b"])
    got = [i["location"]["id"] for i in nearby(client, clerk, lat=p.lat, lng=p.lng, radius_m=10_000).json()]
    assert got == [net["b"].pk]


@pytest.mark.parametrize("datum", ["wgs84", "bd09"])
def test_nearby_converts_datums(client, net, datum):
    _, hq = staff("hq_admin")
    p = PEOPLE_SQUARE
    q = gcj02_to_wgs84(p) if datum == "wgs84" else gcj02_to_bd09(p)
    base = nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=3000).json()
    got = nearby(client, hq, lat=q.lat, lng=q.lng, radius_m=3000, coord=datum).json()
    assert [i["location"]["id"] for i in got] == [i["location"]["id"] for i in base]
    for a, b in zip(got, base, strict=True):
        assert abs(a["distance_m"] - b["distance_m"]) < 0.5
    # Unconverted, the same numbers land hundreds of metres away.
    raw = nearby(client, hq, lat=q.lat, lng=q.lng, radius_m=3000).json()
    assert abs(raw[0]["distance_m"] - base[0]["distance_m"]) > 50


@pytest.mark.parametrize(("lat", "lng"), [(48.8566, 2.3522), (121.47, 31.23), (0, 0), ("nan", 121.47), (91, 121)])
def test_nearby_outside_china_is_422(client, net, lat, lng):
    _, hq = staff("hq_admin")
    body = assert_error(nearby(client, hq, lat=lat, lng=lng), 422)
    assert body["code"] in {"out_of_china", "invalid"}
    if lat == 48.8566:
        assert body["code"] == "out_of_china" and body["details"]["coord"] == "gcj02"


@pytest.mark.parametrize("params", [
    {"lat": "north", "lng": 121.47}, {"lng": 121.47}, {"lat": 31.23, "lng": 121.47, "radius_m": 0},
    {"lat": 31.23, "lng": 121.47, "radius_m": 10_000_000}, {"lat": 31.23, "lng": 121.47, "coord": "mars"},
    {"lat": 31.23, "lng": 121.47, "limit": 0},
])
def test_nearby_bad_input_is_422(client, net, params):
    _, hq = staff("hq_admin")
    assert_error(client.get("/api/v1/locations/nearby", params, **auth(hq)), 422, "invalid")


def test_nearby_index_follows_changes(client, net):
    _, hq = staff("hq_admin")
    p = PEOPLE_SQUARE
    before = {i["location"]["id"] for i in nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=1000).json()}
    assert net["c"].pk not in before
    c = net["c"]
    c.lat, c.lng = 31.2300, 121.4740
    c.save()
    after = {i["location"]["id"] for i in nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=1000).json()}
    assert net["c"].pk in after
    new = location(net["east"], lat=31.2306, lng=121.4736)
    assert new.pk in {i["location"]["id"] for i in nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=1000).json()}
    net["a"].active = False
    net["a"].save()
    assert net["a"].pk not in {i["location"]["id"] for i in
                               nearby(client, hq, lat=p.lat, lng=p.lng, radius_m=1000).json()}
