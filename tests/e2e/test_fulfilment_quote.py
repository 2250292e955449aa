"""POST /api/v1/fulfilment/quote: the checkout options, their exact fees and labels, and bad input."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from o2o.core.geo import LatLng, gcj02_to_wgs84, haversine_m
from o2o.core.routing import NodeKind
from o2o.fulfilment.models import RoutedShipment, RoutingDecision
from o2o.fulfilment.network import routing_config
from o2o.inventory.models import IdempotencyRecord, Movement, Reservation
from tests.factories import assert_error, location, sku, stock_in
from tests.integration.fulfilment.world import (
    P,
    build,
    express_fee,
    lines,
    pick_fee,
    post,
    same_city_fee,
    yuan,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/fulfilment/quote"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def body(w, *pairs, **kw):
    return {"lines": lines(*pairs), "lat": P.lat, "lng": P.lng, **kw}


def test_options_pickup_same_city_express_with_exact_fees(client, w):
    r = post(client, URL, body(w, (w.s1, 2), (w.s2, 1)), w.member)
    assert r.status_code == 200, r.content
    out = r.json()
    kinds = [o["kind"] for o in out["options"]]
    assert kinds == ["pickup", "pickup", "same_city", "express"]
    grams = [2 * w.s1.weight_g, 1 * w.s2.weight_g]
    cfg = routing_config()

    a_pick, b_pick = out["options"][0], out["options"][1]
    assert [a_pick["location_id"], b_pick["location_id"]] == [w.a.pk, w.b.pk]  # nearest first
    assert a_pick["fee_fen"] == pick_fee(NodeKind.STORE, 2)
    ready = w.now + timedelta(minutes=cfg.prep_min[NodeKind.STORE])
    assert a_pick["eta"]["earliest"] == a_pick["eta"]["latest"]
    assert a_pick["distance_m"] == round(haversine_m(P, LatLng(w.a.lat, w.a.lng)))
    km = f"{haversine_m(P, LatLng(w.a.lat, w.a.lng)) / 1000:.1f}"
    assert a_pick["label"] == f"门店自提 徐汇店 {km} km 今天 {ready:%H:%M} 前可取"
    assert a_pick["label_en"].startswith("Pickup at 徐汇店")
    assert a_pick["shipments"][0]["mode"] == "pickup"

    sc = out["options"][2]
    assert sc["fee_fen"] == same_city_fee(w.a, grams)
    assert [s["location_id"] for s in sc["shipments"]] == [w.a.pk]
    road = haversine_m(P, LatLng(w.a.lat, w.a.lng)) * cfg.circuity
    minutes = (cfg.prep_min[NodeKind.STORE] + cfg.courier_pickup_min
               + math.ceil(road / cfg.courier_speed_m_per_min))
    assert sc["label"] == f"同城配送 约 {minutes} 分钟 {yuan(sc['fee_fen'])}"
    assert sc["shipments"][0]["courier"] in {c.provider for c in cfg.couriers}
    assert sc["explanation"]

    ex = out["options"][3]
    assert ex["fee_fen"] == express_fee(grams)
    assert [s["location_id"] for s in ex["shipments"]] == [w.w.pk]
    assert ex["label"] == f"快递 明天送达 {yuan(ex['fee_fen'])}"
    assert ex["label_en"] == f"Express, delivered tomorrow, {yuan(ex['fee_fen'])}"
    assert ex["shipments"][0]["lines"] == lines((w.s1, 2), (w.s2, 1))
    # Stored nothing.
    assert RoutingDecision.objects.count() == 0 and Reservation.objects.count() == 0


def test_staff_may_quote_and_times_are_shanghai(client, w):
    r = post(client, URL, body(w, (w.s1, 1)), w.clerk_c)
    assert r.status_code == 200
    assert r.json()["options"][0]["eta"]["earliest"].endswith("+08:00")


def test_duplicate_lines_are_merged(client, w):
    r = post(client, URL, body(w, (w.s1, 1), (w.s1, 2)), w.member)
    assert r.status_code == 200
    out = r.json()
    assert out["lines"] == lines((w.s1, 3))
    assert out["options"][-1]["shipments"][0]["lines"] == lines((w.s1, 3))


def test_wgs84_and_bd09_points_are_converted(client, w):
    wgs = gcj02_to_wgs84(P)
    r = post(client, URL, {**body(w, (w.s1, 1)), "lat": wgs.lat, "lng": wgs.lng, "coord": "wgs84"}, w.member)
    assert r.status_code == 200
    d = r.json()["destination"]
    assert haversine_m(P, LatLng(d["lat"], d["lng"])) < 1


def test_a_store_that_cannot_fill_alone_is_not_a_pickup_option(client, w):
    # A does not carry it: only B (and the warehouse) do.
    big = sku(weight_g=100)
    stock_in(w.b, big, 20)
    stock_in(w.w, big, 50)
    r = post(client, URL, body(w, (big, 5)), w.member)
    pickups = [o for o in r.json()["options"] if o["kind"] == "pickup"]
    assert [o["location_id"] for o in pickups] == [w.b.pk]


def test_chosen_pickup_store_comes_first(client, w):
    r = post(client, URL, body(w, (w.s1, 1), pickup_location_id=w.b.pk), w.member)
    pickups = [o["location_id"] for o in r.json()["options"] if o["kind"] == "pickup"]
    assert pickups == [w.b.pk, w.a.pk]


def test_at_most_three_pickup_stores_within_reach(client, w):
    extra = [location(w.east, lat=31.2304 + 0.001 * i, lng=121.4737 - 0.01, name=f"店{i}") for i in range(3)]
    far = location(w.east, lat=31.2304, lng=121.4737 + 0.2, name="远店")  # ~19 km: beyond pickup reach
    for loc in [*extra, far]:
        stock_in(loc, w.s1, 10)
    r = post(client, URL, body(w, (w.s1, 1)), w.member)
    pickups = [o for o in r.json()["options"] if o["kind"] == "pickup"]
    assert len(pickups) == 3 and far.pk not in [o["location_id"] for o in pickups]
    dists = [o["distance_m"] for o in pickups]
    assert dists == sorted(dists)


def test_only_express_when_no_store_has_it(client, w):
    only_w = sku(weight_g=2000)
    stock_in(w.w, only_w, 5)
    r = post(client, URL, body(w, (only_w, 2)), w.member)
    assert [o["kind"] for o in r.json()["options"]] == ["express"]
    assert r.json()["options"][0]["fee_fen"] == express_fee([4000])


def test_cannot_fill_lists_each_line_and_reasons(client, w):
    none = sku()
    r = post(client, URL, body(w, (w.s1, 1), (none, 1)), w.member)
    err = assert_error(r, 422, "cannot_fill")
    by_sku = {ln["sku_id"]: ln for ln in err["details"]["lines"]}
    # The pickup reasons are those of the nearest pickup store (A).
    assert by_sku[none.pk]["by_option"] == {"pickup": "pickup_store_short", "same_city": "no_stock",
                                            "express": "no_stock"}
    assert by_sku[none.pk]["reasons"] == ["no_stock", "pickup_store_short"]
    assert by_sku[w.s1.pk]["reasons"] == []


def test_too_much_for_any_node_is_cannot_fill(client, w):
    r = post(client, URL, body(w, (w.s1, 101)), w.member)
    err = assert_error(r, 422, "cannot_fill")
    assert err["details"]["lines"][0]["reasons"]


def test_queries_do_not_grow_with_the_network(client, w):
    token = w.member

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert post(client, URL, body(w, (w.s1, 1), (w.s2, 1)), token).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for i in range(8):
        loc = location(w.east, lat=31.2304 - 0.002 * i, lng=121.4737 + 0.003 * i)
        stock_in(loc, w.s1, 10)
        stock_in(loc, w.s2, 10)
    assert count() == before <= 6  # token, SKUs, locations, stock, routed shipments (+1 spare)


# --- bad input: the error shape, a 4xx, nothing stored ------------------------------------

def snapshot():
    return (RoutingDecision.objects.count(), RoutedShipment.objects.count(), Reservation.objects.count(),
            Movement.objects.count(), IdempotencyRecord.objects.count())


@pytest.mark.parametrize(("make", "status", "code"), [
    (lambda w: {"lines": [], "lat": P.lat, "lng": P.lng}, 422, "empty_basket"),
    (lambda w: {"lines": [{"sku_id": 987654321, "qty": 1}], "lat": P.lat, "lng": P.lng}, 422, "unknown_sku"),
    (lambda w: body(w, (w.s1, 0)), 422, "invalid"),
    (lambda w: body(w, (w.s1, -3)), 422, "invalid"),
    (lambda w: body(w, (w.s1, 10**12)), 422, "invalid"),
    (lambda w: body(w, (w.s1, 2**63)), 422, "invalid"),
    (lambda w: body(w, (w.s1, 600_000), (w.s1, 600_000)), 422, "invalid_quantity"),
    (lambda w: {"lines": [{"sku_id": 2**63, "qty": 1}], "lat": P.lat, "lng": P.lng}, 422, "invalid"),
    (lambda w: {"lines": [{"sku_id": "x", "qty": 1}], "lat": P.lat, "lng": P.lng}, 422, "invalid"),
    (lambda w: {**body(w, (w.s1, 1)), "lat": 48.8566, "lng": 2.3522}, 422, "coords_outside_china"),
    (lambda w: {**body(w, (w.s1, 1)), "lat": 121.47, "lng": 31.23}, 422, "coords_outside_china"),
    (lambda w: {**body(w, (w.s1, 1)), "lat": 1e400, "lng": 121.47}, 422, "coords_outside_china"),
    (lambda w: {**body(w, (w.s1, 1)), "coord": "utm"}, 422, "invalid"),
    (lambda w: {"lines": lines((w.s1, 1))}, 422, "invalid"),
    (lambda w: {**body(w, (w.s1, 1)), "pickup_location_id": 987654321}, 422, "unknown_pickup_location"),
    (lambda w: {**body(w, (w.s1, 1)), "pickup_location_id": w.w.pk}, 422, "unknown_pickup_location"),
    (lambda w: {**body(w, (w.s1, 1)), "pickup_location_id": 0}, 422, "invalid"),
    (lambda w: {"lines": [{"sku_id": i + 1, "qty": 1} for i in range(101)], "lat": P.lat, "lng": P.lng}, 422, "invalid"),
    (lambda w: "{not json", 400, None),
    (lambda w: '{"lines": [], "lat": NaN, "lng": 121.4}', 422, None),
    (lambda w: '{"lines": [{"sku_id": SKU, "qty": 1}], "lat": NaN, "lng": 121.4}'.replace("SKU", str(w.s1.pk)), 422,
     "coords_outside_china"),
    (lambda w: '{"lines": [{"sku_id": SKU, "qty": 1}], "lat": 31.2, "lng": Infinity}'.replace("SKU", str(w.s1.pk)), 422,
     "coords_outside_china"),
    (lambda w: [1, 2], 422, "invalid"),
])
def test_bad_input_is_a_4xx_error_and_stores_nothing(client, w, make, status, code):
    before = snapshot()
    assert_error(post(client, URL, make(w), w.member), status, code)
    assert snapshot() == before


def test_inactive_sku_is_unknown(client, w):
    gone = sku(active=False)
    err = assert_error(post(client, URL, body(w, (w.s1, 1), (gone, 1)), w.member), 422, "unknown_sku")
    assert err["details"]["sku_ids"] == [gone.pk]


def test_quote_needs_a_sign_in(client, w):
    assert_error(post(client, URL, body(w, (w.s1, 1)), None), 401, "unauthorized")
    assert_error(post(client, URL, body(w, (w.s1, 1)), "not-a-token"), 401, "unauthorized")
