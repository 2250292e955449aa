"""Availability near a customer: delivery radius, pickup reach, express warehouses, baskets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from o2o.common.errors import InvalidInput, NotFound
from o2o.core.geo import LatLng, gcj02_to_bd09, gcj02_to_wgs84
from o2o.inventory import selectors
from o2o.inventory.validation import Line
from o2o.stores.models import Location, LocationKind
from tests.factories import location, region, reserve, sku, stock_in

pytestmark = pytest.mark.django_db

LAT, LNG = 31.2304, 121.4737  # People's Square, GCJ-02
KM = 0.009  # about one kilometre of latitude


@pytest.fixture
def net():
    reg = region()
    near = location(reg, lat=LAT, lng=LNG, name="近店")  # 1 km from the customer
    mid = location(reg, lat=LAT + 6 * KM, lng=LNG, name="中店")  # 5 km: pickup only
    far = location(reg, lat=LAT + 25 * KM, lng=LNG, name="远店")  # 24 km: out of reach
    wh = location(reg, kind=LocationKind.WAREHOUSE, lat=LAT + 60 * KM, lng=LNG, name="中心仓",
                  can_pickup=False, can_same_city=False, can_express=True)
    closed = location(reg, lat=LAT + KM, lng=LNG, name="停业店")
    a, b = sku(), sku()
    for loc, qa, qb in ((near, 5, 0), (mid, 2, 2), (far, 9, 9), (wh, 100, 100), (closed, 9, 9)):
        if qa:
            stock_in(loc, a, qa)
        if qb:
            stock_in(loc, b, qb)
    Location.objects.filter(pk=closed.pk).update(active=False)
    selectors.clear_network_cache()
    return {"near": near, "mid": mid, "far": far, "wh": wh, "closed": closed, "a": a, "b": b}


CUSTOMER = (LAT + KM, LNG)


def test_single_sku_modes_distance_order_and_quantities(net):
    reserve(net["near"], {net["a"]: 2})
    out = selectors.availability(lat=CUSTOMER[0], lng=CUSTOMER[1], lines=[Line(net["a"].pk, 1)])
    nodes = out["nodes"]
    assert [n["location_id"] for n in nodes] == [net["near"].pk, net["mid"].pk, net["wh"].pk]
    assert [n["modes"] for n in nodes] == [["same_city", "pickup"], ["pickup"], ["express"]]
    assert [n["lines"][0]["available"] for n in nodes] == [3, 2, 100]  # reserved stock is not available
    assert 950 < nodes[0]["distance_m"] < 1050 and 4900 < nodes[1]["distance_m"] < 5100
    assert all(x["distance_m"] <= y["distance_m"] for x, y in zip(nodes, nodes[1:], strict=False))


def test_basket_tells_which_nodes_have_every_line(net):
    lines = [Line(net["a"].pk, 2), Line(net["b"].pk, 1)]
    nodes = selectors.availability(lat=CUSTOMER[0], lng=CUSTOMER[1], lines=lines)["nodes"]
    has_all = {n["location_id"]: n["has_all"] for n in nodes}
    assert has_all == {net["near"].pk: False, net["mid"].pk: True, net["wh"].pk: True}
    complete = selectors.availability(lat=CUSTOMER[0], lng=CUSTOMER[1], lines=lines, complete_only=True)
    assert [n["location_id"] for n in complete["nodes"]] == [net["mid"].pk, net["wh"].pk]


def test_other_datums_are_converted_first(net):
    gcj = LatLng(*CUSTOMER)
    lines = [Line(net["a"].pk, 1)]
    base = selectors.availability(lat=gcj.lat, lng=gcj.lng, lines=lines)
    wgs = gcj02_to_wgs84(gcj)
    bd = gcj02_to_bd09(gcj)
    for lat, lng, coord in ((wgs.lat, wgs.lng, "wgs84"), (bd.lat, bd.lng, "bd09")):
        out = selectors.availability(lat=lat, lng=lng, coord=coord, lines=lines)
        assert [(n["location_id"], n["distance_m"]) for n in out["nodes"]] == \
            [(n["location_id"], n["distance_m"]) for n in base["nodes"]]
        assert abs(out["point"]["lat"] - gcj.lat) < 1e-7


def test_bad_input_is_refused(net):
    with pytest.raises(InvalidInput):
        selectors.availability(lat=48.85, lng=2.35, lines=[Line(net["a"].pk, 1)])  # Paris
    with pytest.raises(InvalidInput):
        selectors.availability(lat=LAT, lng=LNG, coord="osgb36", lines=[Line(net["a"].pk, 1)])
    with pytest.raises(InvalidInput):
        selectors.availability(lat=LAT, lng=LNG, lines=[Line(net["a"].pk, 0)])
    with pytest.raises(NotFound):
        selectors.availability(lat=LAT, lng=LNG, lines=[Line(10**9, 1)])


def test_index_is_cached_and_rebuilt_when_locations_change(net):
    lines = [Line(net["a"].pk, 1)]
    selectors.availability(lat=LAT, lng=LNG, lines=lines)
    first = selectors.network()
    with CaptureQueriesContext(connection) as q:
        assert selectors.network() is first
    assert len(q.captured_queries) == 1  # the version check only
    Location.objects.filter(pk=net["mid"].pk).update(active=False)
    out = selectors.availability(lat=CUSTOMER[0], lng=CUSTOMER[1], lines=lines)
    assert net["mid"].pk not in [n["location_id"] for n in out["nodes"]]
    newer = location(lat=LAT + 2 * KM, lng=LNG)
    out = selectors.availability(lat=CUSTOMER[0], lng=CUSTOMER[1], lines=lines)
    assert newer.pk in [n["location_id"] for n in out["nodes"]]


def test_stock_selectors(net):
    near, a, b = net["near"], net["a"], net["b"]
    reserve(near, {a: 1})
    assert selectors.item_stock(location_id=near.pk, sku_id=a.pk) == {
        "location_id": near.pk, "sku_id": a.pk, "on_hand": 5, "reserved": 1, "available": 4, "buckets": 1}
    assert selectors.item_stock(location_id=near.pk, sku_id=b.pk)["on_hand"] == 0
    page = selectors.stock_list(location_id=net["mid"].pk, limit=1, offset=1)
    assert page["total"] == 2 and [i["sku_id"] for i in page["items"]] == [max(a.pk, b.pk)]
    ledger = selectors.ledger(location_id=near.pk, sku_id=a.pk, limit=1)
    assert ledger["items"][0]["kind"] == "reserve" and ledger["next_before_id"] is not None
    rest = selectors.ledger(location_id=near.pk, sku_id=a.pk, before_id=ledger["next_before_id"])
    assert [m["kind"] for m in rest["items"]] == ["receive"] and rest["next_before_id"] is None
