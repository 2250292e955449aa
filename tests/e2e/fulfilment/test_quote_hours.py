"""Quotes and decisions keep to the stores' opening hours: nothing promised from a closed store."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from o2o.core.geo import LatLng, haversine_m
from o2o.core.routing import NodeKind
from o2o.fulfilment.network import routing_config
from o2o.fulfilment.quotes import round_up_quarter
from o2o.stores.hours import routing_hours
from o2o.stores.network import STORE_HOURS
from tests.integration.fulfilment.world import (
    P,
    at,
    build_with_hours,
    lines,
    post,
    same_city_fee,
    yuan,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/fulfilment"


@pytest.fixture
def w(monkeypatch):
    return build_with_hours(monkeypatch)  # stores 07:00-22:00, the warehouse round the clock


def quote(client, w, *pairs):  # noqa: ANN001, ANN201
    r = post(client, f"{API}/quote", {"lines": lines(*(pairs or ((w.s1, 1),))), "lat": P.lat, "lng": P.lng},
             w.member)
    assert r.status_code == 200, r.content
    return {o["kind"]: o for o in reversed(r.json()["options"])}  # the first pickup (nearest) wins


def dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_at_0041_pickup_is_ready_after_the_opening_and_same_city_gives_a_time(client, w):
    now = at(w, 0, 41)
    cfg = routing_config()
    prep = cfg.prep_min[NodeKind.STORE]
    opts = quote(client, w)
    opening = now.replace(hour=7, minute=0)
    pick = opts["pickup"]
    assert dt(pick["eta"]["earliest"]) == opening + timedelta(minutes=prep)
    assert pick["location_id"] == w.a.pk and "今天 07:15 前可取" in pick["label"]  # same calendar day
    sc = opts["same_city"]
    road = haversine_m(P, LatLng(w.a.lat, w.a.lng)) * cfg.circuity
    earliest = opening + timedelta(minutes=prep + cfg.courier_pickup_min + math.ceil(road / cfg.courier_speed_m_per_min))
    assert dt(sc["eta"]["earliest"]) == earliest
    by = round_up_quarter(dt(sc["eta"]["latest"]))
    assert sc["label"] == f"同城配送 今天 {by:%H:%M} 前送达 {yuan(sc['fee_fen'])}" and "约" not in sc["label"]
    # The rider is called at 07:15, out of the night window: the daytime fee.
    assert sc["fee_fen"] == same_city_fee(w.a, [w.s1.weight_g])


def test_late_evening_is_tomorrow_and_a_store_without_hours_still_answers_now(client, w):
    at(w, 23, 30)
    opts = quote(client, w)
    assert "明天 07:15 前可取" in opts["pickup"]["label"]
    assert "明天" in opts["same_city"]["label"] and "约" not in opts["same_city"]["label"]
    w.b.opening_hours = {}  # hours not given: open, as before
    w.b.save()
    opts = quote(client, w)
    assert opts["same_city"]["shipments"][0]["location_id"] == w.b.pk  # the open store delivers now
    assert "约" in opts["same_city"]["label"]


def test_2155_at_a_store_closing_at_2200_is_the_next_morning(client, w):
    now = at(w, 21, 55)
    opts = quote(client, w)
    tomorrow = (now + timedelta(days=1)).replace(hour=7, minute=15)
    assert dt(opts["pickup"]["eta"]["earliest"]) == tomorrow and "明天 07:15 前可取" in opts["pickup"]["label"]
    # Half an hour earlier: still tonight, ready 15 min before closing at the latest.
    at(w, 21, 25)
    assert "今天 21:45 前可取" in quote(client, w)["pickup"]["label"]


def test_a_decision_at_night_promises_the_morning_and_records_what_was_closed(client, w):
    at(w, 23, 30)
    body = {"order_ref": "HRS-1", "lines": lines((w.s1, 1)), "lat": P.lat, "lng": P.lng, "choice": "pickup",
            "pickup_location_id": w.a.pk}
    r = post(client, f"{API}/decisions", body, w.admin, "hrs-1")
    assert r.status_code == 201, r.content
    d = r.json()
    [sh] = d["shipments"]
    assert dt(sh["eta"]["earliest"]) == (w.now + timedelta(days=1)).replace(hour=7, minute=15)
    network = d["inputs"]["network"]
    assert w.a.pk in network["closed_now"] and w.w.pk not in network["closed_now"]


def test_location_hours_as_the_engine_reads_them():
    assert routing_hours({}) is None and routing_hours(None) is None and routing_hours([]) is None
    assert routing_hours(STORE_HOURS) == (((7 * 60, 22 * 60),),) * 7
    week = routing_hours({"mon": [], "tue": [["09:00", "12:00"], ["13:00", "24:00"]], "wed": [["bad"]]})
    assert week[0] == () and week[1] == ((540, 720), (780, 1440)) and week[2] == ()
    assert week[3:] == (((0, 1440),),) * 4  # days not given: open all day
