"""The store's work queue and alerts over HTTP: what a clerk sees, the timers, who may look."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.orders.models import DeliveryAlert, OrderEvent, Shipment
from o2o.orders.pickup import pickups_expire
from tests.e2e.orders.picking import PICK_ALL
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import assert_error, auth, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    # Store B has no stock: the fastest courier orders below can only come from store A. With stock at
    # both, A (1.0 km, one order queued) and B (1.9 km, none queued) are minutes apart, and which one is
    # faster turned on the seconds of the wall clock the order was placed at.
    return build(monkeypatch, b_stock=0)


def place(client, w, token, key) -> dict:  # noqa: ANN001
    body = {"lines": lines((w.s1, 1)), "channel": "app", "choice": "fastest", "lat": P.lat, "lng": P.lng,
            "contact_name": "赵六", "contact_phone": "13700003333"}
    r = post(client, "/api/v1/orders", body, token, key)
    assert r.status_code == 201, r.content
    return r.json()


def get(client, token, url):  # noqa: ANN001
    return client.get(url, **auth(token))


@pytest.fixture
def busy(client, w):
    """Store A: one pickup ready, one delivery to pick (late), one being picked, one unpaid."""
    _, token = member()
    ready = place_pickup(client, w, token, (w.s2, 1), key="p1")
    pay(ready["id"])
    rid = ready["shipments"][0]["id"]
    assert post(client, f"/api/v1/store/shipments/{rid}/ready", PICK_ALL, w.clerk_a).status_code == 200
    late = place(client, w, token, "d1")
    pay(late["id"])
    lid = late["shipments"][0]["id"]
    Shipment.objects.filter(pk=lid).update(eta_latest=timezone.now() - timedelta(minutes=30),
                                           eta_earliest=timezone.now() - timedelta(minutes=60))
    picking = place(client, w, token, "d2")
    pay(picking["id"])
    pid = picking["shipments"][0]["id"]
    assert post(client, f"/api/v1/store/shipments/{pid}/start", {}, w.clerk_a).status_code == 200
    unpaid = place(client, w, token, "d3")
    return {"ready": rid, "late": lid, "picking": pid, "unpaid": unpaid["shipments"][0]["id"], "token": token}


def test_clerk_sees_their_store_queue_most_urgent_first(client, w, busy):
    r = get(client, w.clerk_a, "/api/v1/store/queue")
    assert r.status_code == 200, r.content
    q = r.json()
    assert q["location_id"] == w.a.pk
    assert [s["id"] for s in q["to_pick"]] == [busy["late"], busy["picking"]]
    assert [s["id"] for s in q["ready_for_pickup"]] == [busy["ready"]]
    assert q["with_courier"] == [] and q["late"] == 1
    late, picking = q["to_pick"]
    assert late["late"] is True and -31 <= late["minutes_left"] <= -30
    assert picking["late"] is False and picking["status"] == "picking"
    ready = q["ready_for_pickup"][0]
    assert ready["promise_at"] == ready["pickup_deadline"] and 72 * 60 - 2 <= ready["minutes_left"] < 72 * 60
    assert ready["lines"] == [{"sku_id": w.s2.pk, "qty": 1, "name": w.s2.name, "picked_qty": 1}]  # pick_all
    assert late["contact_name"] == "赵六" and late["contact_phone"] == "137****3333"
    assert busy["unpaid"] not in [s["id"] for group in ("to_pick", "ready_for_pickup") for s in q[group]]
    only = get(client, w.clerk_a, "/api/v1/store/queue?status=ready_for_pickup").json()
    assert [s["id"] for s in only["ready_for_pickup"]] == [busy["ready"]] and only["to_pick"] == []


def test_who_may_see_a_queue(client, w, busy):
    assert_error(get(client, w.clerk_a, f"/api/v1/store/queue?location_id={w.b.pk}"), 403)
    assert_error(get(client, w.clerk_c, f"/api/v1/store/queue?location_id={w.a.pk}"), 403)
    assert_error(get(client, busy["token"], "/api/v1/store/queue"), 403, "staff_only")
    assert_error(get(client, w.admin, "/api/v1/store/queue"), 422, "location_required")
    assert_error(get(client, w.clerk_a, "/api/v1/store/queue?status=shipped"), 422, "invalid_status")
    assert_error(get(client, w.clerk_a, "/api/v1/store/queue?location_id=abc"), 422)
    assert_error(get(client, w.admin, "/api/v1/store/queue?location_id=987654"), 404, "unknown_location")
    assert len(get(client, w.admin, f"/api/v1/store/queue?location_id={w.a.pk}").json()["to_pick"]) == 2
    assert len(get(client, w.mgr_east, f"/api/v1/store/queue?location_id={w.a.pk}").json()["to_pick"]) == 2
    assert get(client, w.clerk_c, "/api/v1/store/queue").json()["to_pick"] == []


def test_alerts_listed_and_resolved_once(client, w, busy, settings):
    settings.O2O = {**settings.O2O, "PICKUP_EXPIRED_POLICY": "keep"}
    assert pickups_expire(now=timezone.now() + timedelta(hours=73)) == {"cancelled": 0, "kept": 1, "failed": 0}
    alerts = get(client, w.clerk_a, "/api/v1/store/alerts").json()
    assert [(a["kind"], a["shipment_id"]) for a in alerts] == [("pickup_expired", busy["ready"])]
    assert get(client, w.clerk_a, "/api/v1/store/queue").json()["alerts"] == alerts
    assert get(client, w.clerk_b, "/api/v1/store/alerts").json() == []
    aid = alerts[0]["id"]
    assert_error(post(client, f"/api/v1/store/alerts/{aid}/resolve", {}, w.clerk_c), 403)
    assert_error(post(client, f"/api/v1/store/alerts/{aid}/resolve", {}, busy["token"]), 403, "staff_only")
    assert_error(post(client, "/api/v1/store/alerts/424242/resolve", {}, w.clerk_a), 404, "unknown_alert")
    r = post(client, f"/api/v1/store/alerts/{aid}/resolve", {}, w.clerk_a, "a1")
    assert r.status_code == 200 and r.json()["resolved_at"] and r.json()["resolved_by"] is not None
    assert post(client, f"/api/v1/store/alerts/{aid}/resolve", {}, w.clerk_a, "a1").json() == r.json()
    assert_error(post(client, f"/api/v1/store/alerts/{aid}/resolve", {}, w.clerk_a, "a2"), 409, "already_resolved")
    assert get(client, w.clerk_a, "/api/v1/store/alerts").json() == []
    assert len(get(client, w.clerk_a, "/api/v1/store/alerts?open=false").json()) == 1
    assert DeliveryAlert.objects.get(pk=aid).resolved_by_id is not None
    assert OrderEvent.objects.filter(shipment_id=busy["ready"], reason__contains=f"#{aid}").count() == 1
