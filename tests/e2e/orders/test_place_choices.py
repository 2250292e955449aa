"""POST /api/v1/orders with the checkout option's kind as the choice: it places exactly what was quoted."""

from __future__ import annotations

import pytest

from o2o.fulfilment.models import RoutingDecision
from o2o.inventory import checks
from o2o.orders.models import Order
from tests.factories import assert_error, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def quoted(client, token, w, kind):
    r = post(client, "/api/v1/checkout/quote", {"lines": lines((w.s1, 2), (w.s2, 1)), "lat": P.lat, "lng": P.lng},
             token)
    assert r.status_code == 200, r.content
    return next(o for o in r.json()["options"] if o["kind"] == kind)


def place(client, token, w, choice, key="k1", **kw):
    body = {"lines": lines((w.s1, 2), (w.s2, 1)), "channel": "h5", "choice": choice, "lat": P.lat, "lng": P.lng,
            "address": "上海市黄浦区人民大道 200 号", "contact_name": "张三", "contact_phone": "13812345678", **kw}
    return post(client, "/api/v1/orders", body, token, key)


def test_express_places_an_express_shipment_from_the_warehouse_at_the_quoted_total(client, w):
    _, token = member()
    opt = quoted(client, token, w, "express")
    r = place(client, token, w, "express", expected_total_fen=opt["total_fen"])
    assert r.status_code == 201, r.content
    o = r.json()
    assert o["choice"] == "express" and o["total_fen"] == opt["total_fen"]
    assert o["delivery_fee_fen"] == opt["delivery_fee_fen"] == 1000  # the express fee, not the same-city one
    [sh] = o["shipments"]
    assert sh["mode"] == "express" and sh["location_id"] == w.w.pk
    assert sh["location_id"] == opt["detail"]["shipments"][0]["location_id"]
    order = Order.objects.get(pk=o["id"])
    assert order.choice == "express" and order.routing_decision.choice == "express"
    assert checks.run() == []


def test_same_city_places_a_same_city_shipment_at_the_quoted_total(client, w):
    _, token = member()
    opt = quoted(client, token, w, "same_city")
    r = place(client, token, w, "same_city", expected_total_fen=opt["total_fen"])
    assert r.status_code == 201, r.content
    o = r.json()
    assert o["choice"] == "same_city" and o["total_fen"] == opt["total_fen"]
    assert [(s["mode"], s["location_id"]) for s in o["shipments"]] == [("same_city", w.a.pk)]
    assert RoutingDecision.objects.get().inputs["modes"] == ["same_city"]


@pytest.mark.parametrize("choice", ["teleport", "counter", "", None])
def test_a_bad_choice_is_422_json_and_creates_nothing(client, w, choice):
    _, token = member()
    r = place(client, token, w, choice)
    assert r.status_code == 422 and r["Content-Type"].startswith("application/json")
    assert_error(r, 422)
    assert Order.objects.count() == 0 and RoutingDecision.objects.count() == 0


def test_the_routing_api_takes_the_new_choices(client, w):
    body = {"order_ref": "WX-EXP", "lines": lines((w.s1, 1)), "lat": P.lat, "lng": P.lng, "choice": "express"}
    r = post(client, "/api/v1/fulfilment/decisions", body, w.admin, "k-exp")
    assert r.status_code == 201, r.content
    d = r.json()
    assert d["choice"] == "express" and [s["mode"] for s in d["shipments"]] == ["express"]
    assert_error(post(client, "/api/v1/fulfilment/decisions", {**body, "order_ref": "WX-BAD", "choice": "teleport"},
                      w.admin, "k-bad"), 422)
