"""Routing decisions end to end: create (with reservations), replay, reject and re-route, history, access."""

from __future__ import annotations

import pytest

from o2o.fulfilment.models import RoutedShipment, RoutingDecision, ShipmentStatus
from o2o.inventory import checks
from o2o.inventory.ledger import Who
from o2o.inventory.models import Movement, Reservation, ReservationStatus, Stock
from o2o.inventory.stock import stock_adjust
from tests.factories import assert_error, auth, figures, sku, stock_in
from tests.integration.fulfilment.world import P, build, lines, post, same_city_fee

pytestmark = pytest.mark.django_db

API = "/api/v1/fulfilment"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def order(w, ref="WX-1001", *pairs, **kw):
    return {"order_ref": ref, "lines": lines(*(pairs or ((w.s1, 2), (w.s2, 1)))), "lat": P.lat, "lng": P.lng,
            "choice": "fastest", **kw}


def snapshot():
    return (RoutingDecision.objects.count(), RoutedShipment.objects.count(), Reservation.objects.count(),
            Movement.objects.count(),
            sorted(Stock.objects.values_list("location_id", "sku_id", "bucket", "on_hand", "reserved")))


def create(client, w, key="k1", **kw):
    r = post(client, f"{API}/decisions", order(w, **kw), w.admin, key)
    assert r.status_code == 201, r.content
    return r.json()


# --- create -------------------------------------------------------------------------------

def test_decision_reserves_exactly_the_quantities(client, w):
    before = {s: figures(w.a, s) for s in (w.s1, w.s2)}
    d = create(client, w)
    assert d["trigger"] == "initial" and d["parent_id"] is None and d["order_ref"] == "WX-1001"
    assert d["unfilled"] == [] and d["explanation"]
    [sh] = d["shipments"]
    assert sh["location_id"] == w.a.pk and sh["mode"] == "same_city" and sh["status"] == "reserved"
    assert sh["lines"] == lines((w.s1, 2), (w.s2, 1))
    assert d["cash_fen"] == same_city_fee(w.a, [2 * w.s1.weight_g, w.s2.weight_g])
    assert figures(w.a, w.s1) == (before[w.s1][0], before[w.s1][1] + 2)
    assert figures(w.a, w.s2) == (before[w.s2][0], before[w.s2][1] + 1)
    res = Reservation.objects.get(pk=sh["reservation_id"])
    assert res.status == ReservationStatus.ACTIVE and res.reference == "WX-1001" and res.location_id == w.a.pk
    stored = RoutingDecision.objects.get(pk=d["id"])
    assert stored.plan["shipments"][0]["cost"]["cash_fen"] == d["cash_fen"]
    assert stored.inputs["lines"][0]["unit_weight_g"] == w.s1.weight_g and stored.inputs["candidates"] >= 1
    assert stored.created_by is not None and checks.run() == []


def test_replay_returns_the_first_answer_and_routes_once(client, w):
    first = create(client, w, key="same")
    before = snapshot()
    again = post(client, f"{API}/decisions", order(w), w.admin, "same")
    assert again.status_code == 201 and again.json() == first
    assert snapshot() == before
    assert_error(post(client, f"{API}/decisions", order(w, "WX-2"), w.admin, "same"), 409, "idempotency_key_reused")
    # Another key for the same order: it is already routed.
    err = assert_error(post(client, f"{API}/decisions", order(w), w.admin, "other"), 409, "already_routed")
    assert err["details"]["decision_id"] == first["id"]
    assert snapshot() == before


def test_failed_reservation_stores_nothing(client, w, monkeypatch):
    """Two shipments (A same-city for s1, W express for a SKU only W has); W's stock vanishes
    between routing and reserving: 409 naming the line, and A's reservation is undone too."""
    only_w = sku(weight_g=300)
    stock_in(w.w, only_w, 5)
    from o2o.fulfilment import decisions

    real = decisions.reservation_create

    def racing(*, location_id, **kw):
        if location_id == w.w.pk:  # someone takes W's stock first
            stock_adjust(location_id=w.w.pk, sku_id=only_w.pk, delta=-5, reason="damage", who=Who(label="t"))
        return real(location_id=location_id, **kw)

    monkeypatch.setattr(decisions, "reservation_create", racing)
    before = snapshot()
    r = post(client, f"{API}/decisions", order(w, "WX-9", (w.s1, 1), (only_w, 2), choice="any"), w.admin, "k")
    err = assert_error(r, 409, "insufficient_stock")
    assert err["details"]["lines"][0]["sku_id"] == only_w.pk and err["details"]["lines"][0]["location_id"] == w.w.pk
    assert snapshot() == before


def test_cannot_fill_is_422_and_stores_nothing(client, w):
    before = snapshot()
    err = assert_error(post(client, f"{API}/decisions", order(w, "WX-3", (sku(), 1)), w.admin), 422, "cannot_fill")
    assert err["details"]["lines"][0]["reasons"] == ["no_stock"]
    assert snapshot() == before


@pytest.mark.parametrize(("patch", "code"), [
    ({"choice": "pickup"}, "pickup_location_required"),
    ({"choice": "fastest", "pickup_location_id": 1}, "pickup_location_unexpected"),
    ({"order_ref": ""}, "invalid"),
    ({"order_ref": "has space"}, "invalid"),
    ({"order_ref": "x" * 101}, "invalid"),
    ({"choice": "teleport"}, "invalid"),
    ({"lines": []}, "empty_basket"),
    ({"lat": 0, "lng": 0}, "coords_outside_china"),
])
def test_bad_decision_input(client, w, patch, code):
    before = snapshot()
    assert_error(post(client, f"{API}/decisions", {**order(w), **patch}, w.admin), 422, code)
    assert snapshot() == before


def test_pickup_decision_reserves_at_the_chosen_store(client, w):
    d = create(client, w, ref="WX-P", choice="pickup", pickup_location_id=w.b.pk)
    assert [(s["location_id"], s["mode"]) for s in d["shipments"]] == [(w.b.pk, "pickup")]
    assert d["pickup_location_id"] == w.b.pk


@pytest.mark.parametrize("who", ["clerk_a", "mgr_east", "member"])
def test_only_hq_routes(client, w, who):
    before = snapshot()
    assert_error(post(client, f"{API}/decisions", order(w), getattr(w, who)), 403, "forbidden")
    assert snapshot() == before


# --- reject and re-route ------------------------------------------------------------------

def test_clerk_of_another_store_cannot_reject(client, w):
    d = create(client, w)
    sh = d["shipments"][0]["id"]
    before = snapshot()
    for token in (w.clerk_b, w.clerk_c, w.mgr_west, w.member):
        assert_error(post(client, f"{API}/shipments/{sh}/reject", {"reason": "busy"}, token), 403)
    assert_error(post(client, f"{API}/shipments/987654/reject", {"reason": "busy"}, w.admin), 404, "unknown_shipment")
    assert snapshot() == before
    assert RoutedShipment.objects.get(pk=sh).status == ShipmentStatus.RESERVED


def test_reject_reroutes_elsewhere_and_history_shows_both(client, w):
    d = create(client, w)
    old = d["shipments"][0]
    a_before, b_before = figures(w.a, w.s1), figures(w.b, w.s1)
    r = post(client, f"{API}/shipments/{old['id']}/reject", {"reason": "店员不足 short of staff"}, w.clerk_a, "rj1")
    assert r.status_code == 201, r.content
    new = r.json()
    assert new["parent_id"] == d["id"] and new["trigger"] == "store_rejected"
    assert new["source_shipment_id"] == old["id"] and new["excluded_location_ids"] == [w.a.pk]
    assert new["unfilled"] == []
    # The clerk of A is told its shipment went elsewhere, not where (B's shipment is B's).
    assert new["shipments"] == [] and new["hidden_shipments"] == 1 and new["explanation"] == ""
    assert client.get(f"{API}/decisions/{new['id']}", **auth(w.clerk_a)).json() == new
    whole = client.get(f"{API}/decisions/{new['id']}", **auth(w.admin)).json()
    assert "excluding" in whole["explanation"] and whole["hidden_shipments"] == 0
    [moved] = whole["shipments"]
    assert moved["location_id"] == w.b.pk and moved["lines"] == old["lines"]
    assert Reservation.objects.get(pk=old["reservation_id"]).status == ReservationStatus.RELEASED
    assert Reservation.objects.get(pk=moved["reservation_id"]).status == ReservationStatus.ACTIVE
    assert figures(w.a, w.s1) == (a_before[0], a_before[1] - 2)
    assert figures(w.b, w.s1) == (b_before[0], b_before[1] + 2)
    shipment = RoutedShipment.objects.get(pk=old["id"])
    assert shipment.status == ShipmentStatus.REJECTED and shipment.status_reason == "店员不足 short of staff"

    h = client.get(f"{API}/decisions?order_ref=WX-1001", **auth(w.admin)).json()
    assert [x["id"] for x in h["decisions"]] == [d["id"], new["id"]]
    assert [x["trigger"] for x in h["decisions"]] == ["initial", "store_rejected"]
    assert h["decisions"][0]["shipments"][0]["status"] == "rejected"

    # Rejecting again: the same key replays; another key is a 409.
    again = post(client, f"{API}/shipments/{old['id']}/reject", {"reason": "店员不足 short of staff"}, w.clerk_a, "rj1")
    assert again.status_code == 201 and again.json() == new
    before = snapshot()
    assert_error(post(client, f"{API}/shipments/{old['id']}/reject", {"reason": "x"}, w.clerk_a, "rj2"),
                 409, "shipment_not_open")
    assert snapshot() == before
    assert checks.run() == []


def test_second_rejection_excludes_the_whole_chain(client, w):
    d = create(client, w)
    first = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "a"}, w.clerk_a).json()
    first = client.get(f"{API}/decisions/{first['id']}", **auth(w.clerk_b)).json()  # B sees its shipment
    second = post(client, f"{API}/shipments/{first['shipments'][0]['id']}/reject", {"reason": "b"}, w.clerk_b)
    assert second.status_code == 201, second.content
    assert second.json()["shipments"] == [] and second.json()["hidden_shipments"] == 1  # W's, not B's
    out = client.get(f"{API}/decisions/{second.json()['id']}", **auth(w.admin)).json()
    assert out["parent_id"] == first["id"] and out["excluded_location_ids"] == sorted([w.a.pk, w.b.pk])
    assert [s["location_id"] for s in out["shipments"]] == [w.w.pk]  # only the warehouse is left
    assert [s["mode"] for s in out["shipments"]] == ["express"]


def test_reject_when_nothing_else_can_fill_records_the_reasons(client, w):
    only_a = sku(weight_g=100)
    stock_in(w.a, only_a, 10)
    d = post(client, f"{API}/decisions", order(w, "WX-A", (only_a, 1)), w.admin).json()
    r = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "closed"}, w.clerk_a)
    assert r.status_code == 201
    new = r.json()
    assert new["shipments"] == [] and [u["sku_id"] for u in new["unfilled"]] == [only_a.pk]
    assert new["unfilled"][0]["reason"] == "excluded"
    assert figures(w.a, only_a) == (10, 0)


def test_reject_needs_a_reason(client, w):
    d = create(client, w)
    before = snapshot()
    assert_error(post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {}, w.clerk_a), 422)
    assert_error(post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": ""}, w.clerk_a), 422)
    assert_error(post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "  "}, w.clerk_a), 422)
    assert_error(post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", "{bad", w.clerk_a), 400)
    assert snapshot() == before


# --- reading ------------------------------------------------------------------------------

def test_who_may_read_a_decision(client, w):
    d = create(client, w)
    url = f"{API}/decisions/{d['id']}"
    for token in (w.admin, w.clerk_a, w.mgr_east):
        r = client.get(url, **auth(token))
        assert r.status_code == 200 and r.json()["id"] == d["id"]
    for token in (w.clerk_b, w.clerk_c, w.mgr_west):
        assert_error(client.get(url, **auth(token)), 403, "forbidden")
        h = client.get(f"{API}/decisions?order_ref=WX-1001", **auth(token))
        assert h.status_code == 200 and h.json()["decisions"] == []
    assert_error(client.get(url, **auth(w.member)), 403)
    assert_error(client.get(f"{API}/decisions?order_ref=WX-1001", **auth(w.member)), 403)
    assert_error(client.get(f"{API}/decisions/987654", **auth(w.admin)), 404, "unknown_decision")
    assert_error(client.get(f"{API}/decisions", **auth(w.admin)), 422)


def test_store_staff_see_the_part_of_the_history_at_their_store(client, w):
    d = create(client, w)
    new = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "a"}, w.clerk_a).json()
    ids = lambda token: [x["id"] for x in client.get(f"{API}/decisions?order_ref=WX-1001", **auth(token)).json()["decisions"]]  # noqa: E731
    # A sees its shipment and what became of it (the re-route, without B's shipment); B sees
    # only the re-route, with its own shipment; C nothing.
    assert ids(w.clerk_a) == [d["id"], new["id"]]
    assert ids(w.clerk_b) == [new["id"]]
    assert ids(w.clerk_c) == []
    assert ids(w.mgr_east) == [d["id"], new["id"]]
    seen_by_a = client.get(f"{API}/decisions?order_ref=WX-1001", **auth(w.clerk_a)).json()["decisions"]
    assert [len(x["shipments"]) for x in seen_by_a] == [1, 0] and seen_by_a[1]["hidden_shipments"] == 1
    seen_by_b = client.get(f"{API}/decisions?order_ref=WX-1001", **auth(w.clerk_b)).json()["decisions"]
    assert [s["location_id"] for s in seen_by_b[0]["shipments"]] == [w.b.pk]


# --- picking short, through the POS API ---------------------------------------------------

def test_a_pos_sale_that_shorts_the_order_reroutes_it(client, w, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    d = create(client, w)
    old = d["shipments"][0]
    sale = {"location_id": w.a.pk, "device_id": "till-1", "events": [
        {"kind": "sale", "pos_event_id": "e1", "seq": 1, "sku_id": w.s1.pk, "qty": 10,
         "occurred_at": (timezone.now() - timedelta(minutes=1)).isoformat()}]}
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, "/api/v1/pos/stock-events", sale, w.clerk_a)
    assert r.status_code == 200 and r.json()["shorted_reservations"] == [old["reservation_id"]]
    h = client.get(f"{API}/decisions?order_ref=WX-1001", **auth(w.admin)).json()["decisions"]
    assert [x["trigger"] for x in h] == ["initial", "pick_short"]
    assert h[0]["shipments"][0]["status"] == "short"
    assert h[1]["parent_id"] == d["id"] and h[1]["source_shipment_id"] == old["id"]
    assert [(s["location_id"], s["lines"]) for s in h[1]["shipments"]] == [(w.b.pk, old["lines"])]
    # The same batch again is a duplicate: nothing is shorted or re-routed twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, "/api/v1/pos/stock-events", sale, w.clerk_a)
    assert again.json()["duplicates"] == ["e1"]
    assert RoutingDecision.objects.filter(order_ref="WX-1001").count() == 2
