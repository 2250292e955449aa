"""Review of the fulfilment API: who sees what, bad input, lock order, races, query counts, time.

Each test states a rule a retailer relies on and fails if the code breaks it.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from o2o.core.routing import NodeKind
from o2o.fulfilment import clock, decisions, reroute
from o2o.fulfilment.models import RoutedShipment, RoutingDecision, ShipmentStatus
from o2o.fulfilment.network import routing_config
from o2o.inventory import checks
from o2o.inventory.ledger import Who
from o2o.inventory.models import Movement, Reservation, ReservationStatus, Stock
from o2o.inventory.stock import stock_adjust
from tests.factories import assert_error, auth, figures, location, sku, stock_in
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db

API = "/api/v1/fulfilment"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def order(w, ref="RV-1", *pairs, **kw):
    return {"order_ref": ref, "lines": lines(*(pairs or ((w.s1, 2), (w.s2, 1)))), "lat": P.lat, "lng": P.lng,
            "choice": "fastest", **kw}


def create(client, w, ref="RV-1", *pairs, **kw):
    r = post(client, f"{API}/decisions", order(w, ref, *pairs, **kw), w.admin)
    assert r.status_code == 201, r.content
    return r.json()


def get(client, token, decision_id):
    return client.get(f"{API}/decisions/{decision_id}", **auth(token))


def stored():
    """Everything a routing writes (idempotency records aside: a stored 4xx is by design)."""
    return (RoutingDecision.objects.count(), RoutedShipment.objects.count(), Reservation.objects.count(),
            Movement.objects.count(),
            sorted(Stock.objects.values_list("location_id", "sku_id", "bucket", "on_hand", "reserved")),
            sorted(RoutedShipment.objects.values_list("pk", "status")),
            sorted(Reservation.objects.values_list("pk", "status")))


# --- access: a store sees its own shipments only -----------------------------------------

def split_order(client, w):
    """One order, two parcels: A (east) has one SKU, only the warehouse W (west) the other."""
    only_a, only_w = sku(weight_g=200), sku(weight_g=300)
    stock_in(w.a, only_a, 10)
    stock_in(w.w, only_w, 10)
    d = create(client, w, "RV-SPLIT", (only_a, 1), (only_w, 1), choice="any")
    assert sorted(s["location_id"] for s in d["shipments"]) == sorted([w.a.pk, w.w.pk])
    return d


def test_a_split_decision_shows_each_store_only_its_own_shipment(client, w):
    d = split_order(client, w)
    whole = get(client, w.admin, d["id"]).json()
    assert whole == d and whole["hidden_shipments"] == 0 and len(whole["plan"]["shipments"]) == 2
    for token, here in ((w.clerk_a, w.a), (w.mgr_east, w.a), (w.mgr_west, w.w)):
        seen = get(client, token, d["id"]).json()
        assert [s["location_id"] for s in seen["shipments"]] == [here.pk]
        assert seen["hidden_shipments"] == 1 and seen["explanation"] == ""
        assert [s["location_id"] for s in seen["plan"]["shipments"]] == [here.pk]
        assert "cash_fen" not in seen["plan"] and "explanation" not in seen["plan"]
        history = client.get(f"{API}/decisions?order_ref=RV-SPLIT", **auth(token)).json()["decisions"]
        assert history == [seen]
    for token in (w.clerk_b, w.clerk_c):
        assert_error(get(client, token, d["id"]), 403, "forbidden")
        assert client.get(f"{API}/decisions?order_ref=RV-SPLIT", **auth(token)).json()["decisions"] == []
    assert_error(get(client, w.member, d["id"]), 403, "forbidden")


def test_the_network_summary_shows_a_store_only_its_own_queue_and_capacity(client, w):
    w.b.pick_capacity_per_hour = 1
    w.b.save()
    create(client, w, "RV-B", (w.s1, 1), choice="pickup", pickup_location_id=w.b.pk)  # B: queue 1, capacity 0
    d = create(client, w, "RV-A", (w.s2, 1))
    whole = get(client, w.admin, d["id"]).json()["inputs"]["network"]
    assert whole["queues"] == {str(w.b.pk): 1} and whole["no_capacity"] == [w.b.pk]
    mine = get(client, w.clerk_a, d["id"]).json()["inputs"]["network"]
    assert mine["queues"] == {} and mine["no_capacity"] == []
    assert mine["nodes"] == whole["nodes"]


def test_a_clerk_cannot_act_on_the_shipment_its_rejection_sent_elsewhere(client, w):
    d = create(client, w)
    new = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "busy"}, w.clerk_a).json()
    assert new["shipments"] == [] and new["hidden_shipments"] == 1
    [at_b] = get(client, w.admin, new["id"]).json()["shipments"]
    assert at_b["location_id"] == w.b.pk
    before = stored()
    for token in (w.clerk_a, w.clerk_c, w.mgr_west, w.member):
        assert_error(post(client, f"{API}/shipments/{at_b['id']}/reject", {"reason": "x"}, token), 403, "forbidden")
    assert stored() == before
    # B's clerk sees it whole and may reject it.
    seen = get(client, w.clerk_b, new["id"]).json()
    assert [s["id"] for s in seen["shipments"]] == [at_b["id"]] and seen["hidden_shipments"] == 0
    assert post(client, f"{API}/shipments/{at_b['id']}/reject", {"reason": "x"}, w.clerk_b).status_code == 201


# --- bad input: a 4xx in the error shape, nothing stored ----------------------------------

@pytest.mark.parametrize(("make", "status", "code"), [
    (lambda w: {**order(w), "lines": [{"sku_id": w.s1.pk, "qty": 0}]}, 422, "invalid"),
    (lambda w: {**order(w), "lines": [{"sku_id": w.s1.pk, "qty": -1}]}, 422, "invalid"),
    (lambda w: {**order(w), "lines": [{"sku_id": w.s1.pk, "qty": 10**12}]}, 422, "invalid"),
    (lambda w: {**order(w), "lines": [{"sku_id": w.s1.pk, "qty": 600_000}] * 2}, 422, "invalid_quantity"),
    (lambda w: {**order(w), "lines": [{"sku_id": 2**63 - 1, "qty": 1}]}, 422, "unknown_sku"),
    (lambda w: {**order(w), "lines": [{"sku_id": 2**63, "qty": 1}]}, 422, "invalid"),
    (lambda w: {**order(w), "lines": [{"sku_id": sku(active=False).pk, "qty": 1}]}, 422, "unknown_sku"),
    (lambda w: {**order(w), "lat": "abc"}, 422, "invalid"),
    (lambda w: {**order(w), "lat": 1e400}, 422, "coords_outside_china"),
    (lambda w: '{"order_ref": "X", "lines": [], "lat": NaN, "lng": 121.4}', 422, None),
    (lambda w: {**order(w), "coord": "utm"}, 422, "invalid"),
    (lambda w: {**order(w), "lng": P.lat, "lat": P.lng}, 422, "coords_outside_china"),
    (lambda w: {**order(w), "choice": "pickup", "pickup_location_id": w.w.pk}, 422, "unknown_pickup_location"),
    (lambda w: {**order(w), "choice": "pickup", "pickup_location_id": 987654321}, 422, "unknown_pickup_location"),
    (lambda w: {**order(w), "choice": "pickup", "pickup_location_id": 0}, 422, "invalid"),
    (lambda w: {**order(w), "order_ref": "x" * 10_000}, 422, "invalid"),
    (lambda w: {**order(w), "order_ref": "a\x00b"}, 422, "invalid_characters"),
    (lambda w: {**order(w), "order_ref": "单号1"}, 422, "invalid"),
    (lambda w: "", 422, "invalid"),
    (lambda w: "{", 400, None),
    (lambda w: "[]", 422, "invalid"),
])
def test_bad_decision_input(client, w, make, status, code):
    body = make(w)
    before = stored()
    assert_error(post(client, f"{API}/decisions", body, w.admin), status, code)
    assert_error(post(client, f"{API}/decisions", body, w.admin, "bad-1"), status, code)
    assert stored() == before


def test_an_inactive_pickup_store_cannot_be_chosen(client, w):
    w.b.active = False
    w.b.save()
    before = stored()
    assert_error(post(client, f"{API}/decisions", order(w, choice="pickup", pickup_location_id=w.b.pk), w.admin),
                 422, "unknown_pickup_location")
    assert_error(post(client, f"{API}/quote", {"lines": lines((w.s1, 1)), "lat": P.lat, "lng": P.lng,
                                               "pickup_location_id": w.b.pk}, w.member), 422, "unknown_pickup_location")
    assert stored() == before


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"reason": "x" * 10_000}, 422, "invalid"),
    ({"reason": "a\x00b"}, 422, "invalid_characters"),
    ({"reason": 5}, 422, "invalid"),
    ({"reason": None}, 422, "invalid"),
    ({}, 422, "invalid"),
    ("", 422, "invalid"),
])
def test_bad_reject_input(client, w, body, status, code):
    d = create(client, w)
    before = stored()
    assert_error(post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", body, w.clerk_a), status, code)
    assert stored() == before


@pytest.mark.parametrize("shipment_id", [987654, 2**63 - 1, 2**63, 10**30, 0, -1])
def test_unknown_shipment_ids_are_404(client, w, shipment_id):
    assert_error(post(client, f"{API}/shipments/{shipment_id}/reject", {"reason": "x"}, w.admin), 404,
                 "unknown_shipment")
    assert_error(get(client, w.admin, shipment_id), 404, "unknown_decision")


# --- idempotency --------------------------------------------------------------------------

def test_reject_idempotency(client, w):
    d = create(client, w)
    other = create(client, w, "RV-2", (w.s2, 1))
    url = f"{API}/shipments/{d['shipments'][0]['id']}/reject"
    first = post(client, url, {"reason": "busy"}, w.clerk_a, "rj")
    assert first.status_code == 201
    before = stored()
    again = post(client, url, {"reason": " busy "}, w.clerk_a, "rj")  # the same reason, trimmed
    assert again.status_code == 201 and again.json() == first.json()
    assert_error(post(client, url, {"reason": "closed"}, w.clerk_a, "rj"), 409, "idempotency_key_reused")
    assert_error(post(client, f"{API}/shipments/{other['shipments'][0]['id']}/reject", {"reason": "busy"},
                      w.clerk_a, "rj"), 409, "idempotency_key_reused")
    assert stored() == before


# --- all or nothing, lock order, races ----------------------------------------------------

def test_a_concurrent_duplicate_is_already_routed_and_stores_nothing(client, w, monkeypatch):
    """Another request routes the same order between our check and our insert (UNIQUE)."""
    real = decisions.load_network
    theirs: list[int] = []

    def racing(**kw):
        if not theirs:
            theirs.append(RoutingDecision.objects.create(order_ref="RV-1", choice="fastest", dest_lat=P.lat,
                                                         dest_lng=P.lng).pk)
        return real(**kw)

    monkeypatch.setattr(decisions, "load_network", racing)
    for key in (None, "dup-key"):
        before = stored()
        err = assert_error(post(client, f"{API}/decisions", order(w), w.admin, key), 409, "already_routed")
        assert err["details"]["decision_id"] == theirs[0]
        assert stored() == before
        RoutingDecision.objects.filter(pk=theirs.pop()).delete()


def calls(monkeypatch) -> list[tuple[str, int]]:
    """Record the order in which a re-route releases and reserves, by location."""
    seen: list[tuple[str, int]] = []
    real_create, real_release = decisions.reservation_create, reroute.reservation_release

    def create_(*, location_id, **kw):
        seen.append(("reserve", location_id))
        return real_create(location_id=location_id, **kw)

    def release_(*, reservation_id, **kw):
        seen.append(("release", Reservation.objects.get(pk=reservation_id).location_id))
        return real_release(reservation_id=reservation_id, **kw)

    monkeypatch.setattr(decisions, "reservation_create", create_)
    monkeypatch.setattr(reroute, "reservation_release", release_)
    return seen


def test_a_reroute_locks_locations_in_id_order(client, w, monkeypatch):
    """Release and new reservations run in location-id order (the inventory's lock order), so
    two stores rejecting towards each other cannot deadlock."""
    assert w.a.pk < w.b.pk
    x = sku(weight_g=100)
    stock_in(w.b, x, 10)
    d = create(client, w, "RV-BA", (x, 1))
    assert d["shipments"][0]["location_id"] == w.b.pk
    stock_in(w.a, x, 10)  # now A, nearer, has it too
    seen = calls(monkeypatch)
    assert post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "x"}, w.clerk_b).status_code == 201
    assert seen == [("reserve", w.a.pk), ("release", w.b.pk)]
    seen.clear()
    d = create(client, w, "RV-AB", (w.s1, 1))
    assert seen == [("reserve", w.a.pk)]
    seen.clear()
    assert post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "x"}, w.clerk_a).status_code == 201
    assert seen == [("release", w.a.pk), ("reserve", w.b.pk)]
    assert checks.run() == []


def test_a_reject_routes_again_when_the_stock_is_taken_meanwhile(client, w, monkeypatch):
    d = create(client, w)
    real = reroute.reroute
    plans = []

    def racing(*args, **kw):
        plan = real(*args, **kw)
        if not plans:  # the plan says B; a walk-in empties B before it is reserved
            for s in (w.s1, w.s2):
                stock_adjust(location_id=w.b.pk, sku_id=s.pk, delta=-10, reason="sold", who=Who(label="t"))
        plans.append([s.node_id for s in plan.shipments])
        return plan

    monkeypatch.setattr(reroute, "reroute", racing)
    r = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "busy"}, w.clerk_a)
    assert r.status_code == 201, r.content
    whole = get(client, w.admin, r.json()["id"]).json()
    assert plans == [[w.b.pk], [w.w.pk]]
    assert [s["location_id"] for s in whole["shipments"]] == [w.w.pk] and whole["unfilled"] == []
    assert Reservation.objects.get(pk=d["shipments"][0]["reservation_id"]).status == ReservationStatus.RELEASED
    assert figures(w.b, w.s1) == (0, 0) and figures(w.w, w.s1)[1] == 2
    assert checks.run() == []


def test_a_reject_that_cannot_reserve_changes_nothing(client, w, monkeypatch):
    d = create(client, w)
    monkeypatch.setattr(reroute, "ATTEMPTS", 1)
    real = decisions.reservation_create

    def racing(*, location_id, **kw):
        stock_adjust(location_id=location_id, sku_id=w.s1.pk, delta=-10, reason="sold", who=Who(label="t"))
        return real(location_id=location_id, **kw)

    before = stored()
    monkeypatch.setattr(decisions, "reservation_create", racing)
    assert_error(post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "x"}, w.clerk_a),
                 409, "insufficient_stock")
    assert stored() == before
    assert RoutedShipment.objects.get(pk=d["shipments"][0]["id"]).status == ShipmentStatus.RESERVED


def test_a_delisted_sku_is_reported_unfilled_when_rerouting(client, w):
    d = create(client, w)
    w.s2.active = False
    w.s2.save()
    r = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "x"}, w.clerk_a)
    assert r.status_code == 201, r.content
    whole = get(client, w.admin, r.json()["id"]).json()
    assert [(u["sku_id"], u["reason"]) for u in whole["unfilled"]] == [(w.s2.pk, "no_stock")]
    [moved] = whole["shipments"]
    assert moved["location_id"] == w.b.pk and moved["lines"] == lines((w.s1, 2))
    assert checks.run() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("keyed", [False, True])
def test_concurrent_creates_of_one_order_make_one_decision(monkeypatch, keyed):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    w = build(monkeypatch)
    token, body = w.admin, order(w, "RV-RACE", (w.s1, 1))
    start, out, errors = threading.Barrier(4), [], []

    def run(i: int) -> None:
        try:
            start.wait(20)
            r = post(Client(), f"{API}/decisions", body, token, f"k{i}" if keyed else None)
            out.append((r.status_code, r.json().get("code")))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and sorted(out) == [(201, None)] + [(409, "already_routed")] * 3
    assert RoutingDecision.objects.count() == 1 and Reservation.objects.count() == 1
    assert checks.run() == []


# --- queries, time ------------------------------------------------------------------------

def test_quote_queries_do_not_grow_with_pickup_stores(client, w):
    body = {"lines": lines((w.s1, 1), (w.s2, 1)), "lat": P.lat, "lng": P.lng, "pickup_location_id": w.c.pk}
    stock_in(w.c, w.s1, 5)
    stock_in(w.c, w.s2, 5)
    token = w.member

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            r = post(client, f"{API}/quote", body, token)
            assert r.status_code == 200, r.content
        assert r.json()["options"][0]["location_id"] == w.c.pk  # the chosen store first, 22 km away
        return len(ctx.captured_queries)

    before = count()
    for i in range(10):
        loc = location(w.east, lat=P.lat + 0.003 * i, lng=P.lng - 0.004 * i)
        stock_in(loc, w.s1, 1)  # not enough for the cart alone: every one is looked at
    assert count() == before


def test_history_queries_do_not_grow_with_decisions(client, w):
    d = create(client, w)

    def count(token) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{API}/decisions?order_ref=RV-1", **auth(token)).status_code == 200
        return len(ctx.captured_queries)

    before = {t: count(t) for t in (w.admin, w.clerk_a)}
    first = post(client, f"{API}/shipments/{d['shipments'][0]['id']}/reject", {"reason": "a"}, w.clerk_a).json()
    first = get(client, w.admin, first["id"]).json()
    post(client, f"{API}/shipments/{first['shipments'][0]['id']}/reject", {"reason": "b"}, w.clerk_b)
    assert len(client.get(f"{API}/decisions?order_ref=RV-1", **auth(w.admin)).json()["decisions"]) == 3
    assert {t: count(t) for t in (w.admin, w.clerk_a)} == before


def test_decision_times_are_local_and_exact(client, w):
    d = create(client, w)
    cfg = routing_config()
    assert d["created_at"] == w.now.isoformat()
    [sh] = d["shipments"]
    assert sh["eta"]["earliest"].endswith("+08:00") and sh["eta"]["latest"].endswith("+08:00")
    assert sh["eta"]["earliest"] == d["plan"]["shipments"][0]["eta"]["earliest"]
    earliest_min = d["plan"]["shipments"][0]["eta"]["earliest_min"]
    assert sh["eta"]["earliest"] == (w.now + timedelta(minutes=earliest_min)).isoformat()
    assert earliest_min > cfg.prep_min[NodeKind.STORE]


def test_pickup_ready_time_is_rounded_up_to_the_quarter(client, w, monkeypatch):
    now = w.now.replace(minute=7)
    monkeypatch.setattr(clock, "now", lambda: now)
    r = post(client, f"{API}/quote", {"lines": lines((w.s1, 1)), "lat": P.lat, "lng": P.lng}, w.member)
    pickup = r.json()["options"][0]
    ready = now + timedelta(minutes=routing_config().prep_min[NodeKind.STORE])
    assert ready.minute % 15 != 0  # the case this test is about
    shown = ready.replace(minute=ready.minute + (-ready.minute) % 15)
    assert pickup["eta"]["earliest"] == ready.isoformat()
    assert pickup["ready_by"] == shown.isoformat()
    assert f"今天 {shown:%H:%M} 前可取" in pickup["label"]
