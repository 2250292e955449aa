"""Inventory API end to end: happy paths, idempotent replays, access, and bad input changing nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from o2o.inventory.models import IdempotencyRecord, Movement, Reservation, Stock, Transfer
from tests.factories import assert_error, auth, location, member, region, reserve, sku, staff, stock_in

pytestmark = pytest.mark.django_db

API = "/api/v1/inventory"


@pytest.fixture
def w():
    reg = region()
    a = location(reg, lat=31.2304, lng=121.4737)
    b = location(reg, lat=31.2404, lng=121.4737)
    s1, s2 = sku(), sku()
    stock_in(a, s1, 20)
    stock_in(a, s2, 5)
    return SimpleNamespace(
        a=a, b=b, s1=s1, s2=s2,
        clerk_a=staff("clerk", loc=a)[1], clerk_b=staff("clerk", loc=b)[1],
        mgr_a=staff("store_manager", loc=a)[1], admin=staff("hq_admin")[1], member=member()[1],
    )


def post(client, url: str, body, token: str, key: str | None = None, raw: str | None = None):
    headers = auth(token)
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    data = raw if raw is not None else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **headers)


def snapshot():
    return (Movement.objects.count(), Reservation.objects.count(), Transfer.objects.count(),
            sorted(Stock.objects.values_list("location_id", "sku_id", "bucket", "on_hand", "reserved")))



# --- reads ------------------------------------------------------------------------------

def test_stock_list_and_item(client, w):
    r = client.get(f"{API}/locations/{w.a.pk}/stock?limit=1", **auth(w.clerk_a))
    assert r.status_code == 200
    page = r.json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["items"][0]["sku_id"] == min(w.s1.pk, w.s2.pk)
    r = client.get(f"{API}/locations/{w.a.pk}/stock/{w.s1.pk}", **auth(w.clerk_a))
    assert r.json() == {"location_id": w.a.pk, "sku_id": w.s1.pk, "on_hand": 20, "reserved": 0, "available": 20,
                        "buckets": 1}
    assert_error(client.get(f"{API}/locations/{w.a.pk}/stock", **auth(w.clerk_b)), 403, "forbidden")
    assert_error(client.get(f"{API}/locations/{w.a.pk}/stock/{w.s1.pk}", **auth(w.member)), 403)
    assert_error(client.get(f"{API}/locations/999999/stock", **auth(w.admin)), 404, "unknown_location")
    assert_error(client.get(f"{API}/locations/{w.a.pk}/stock/999999", **auth(w.admin)), 404, "unknown_sku")
    assert_error(client.get(f"{API}/locations/{w.a.pk}/stock?limit=0", **auth(w.admin)), 422)
    assert_error(client.get(f"{API}/locations/{w.a.pk}/stock"), 401)


def test_ledger(client, w):
    r = client.get(f"{API}/locations/{w.a.pk}/ledger?sku_id={w.s1.pk}", **auth(w.clerk_a))
    assert r.status_code == 200 and [m["kind"] for m in r.json()["items"]] == ["receive"]
    assert r.json()["items"][0]["delta_on_hand"] == 20
    assert_error(client.get(f"{API}/locations/{w.a.pk}/ledger", **auth(w.clerk_b)), 403)
    assert_error(client.get(f"{API}/locations/{w.a.pk}/ledger", **auth(w.member)), 403)


# --- writes: happy paths and replays ------------------------------------------------------

def test_receipt_and_idempotent_replay(client, w):
    body = {"location_id": w.a.pk, "lines": [{"sku_id": w.s1.pk, "qty": 3}], "reference": "PO-1"}
    r1 = post(client, f"{API}/receipts", body, w.clerk_a, key="rcpt-1")
    assert r1.status_code == 201 and r1.json()["stock"][0]["on_hand"] == 23
    before = snapshot()
    r2 = post(client, f"{API}/receipts", body, w.clerk_a, key="rcpt-1")
    assert (r2.status_code, r2.json()) == (r1.status_code, r1.json())
    assert snapshot() == before
    r3 = post(client, f"{API}/receipts", {**body, "reference": "PO-2"}, w.clerk_a, key="rcpt-1")
    assert_error(r3, 409, "idempotency_key_reused")
    assert snapshot() == before
    # Without a key every call is new work.
    assert post(client, f"{API}/receipts", body, w.clerk_a).json()["stock"][0]["on_hand"] == 26


def test_adjustment_needs_a_reason_and_the_permission(client, w):
    body = {"location_id": w.a.pk, "sku_id": w.s2.pk, "delta": -2, "reason": "破损 damaged"}
    assert_error(post(client, f"{API}/adjustments", body, w.clerk_a), 403)  # clerks may not adjust
    r = post(client, f"{API}/adjustments", body, w.mgr_a, key="adj-1")
    assert r.status_code == 201 and r.json()["stock"]["on_hand"] == 3
    before = snapshot()
    assert post(client, f"{API}/adjustments", body, w.mgr_a, key="adj-1").json() == r.json()
    assert snapshot() == before
    assert_error(post(client, f"{API}/adjustments", {**body, "delta": -10}, w.mgr_a), 409, "insufficient_stock")
    assert snapshot() == before


def test_reservation_lifecycle(client, w):
    body = {"location_id": w.a.pk, "lines": [{"sku_id": w.s1.pk, "qty": 4}], "ttl_s": 600, "reference": "O-1"}
    r = post(client, f"{API}/reservations", body, w.clerk_a, key="res-1")
    assert r.status_code == 201 and r.json()["status"] == "active"
    rid = r.json()["id"]
    before = snapshot()
    assert post(client, f"{API}/reservations", body, w.clerk_a, key="res-1").json() == r.json()
    assert snapshot() == before
    got = client.get(f"{API}/reservations/{rid}", **auth(w.clerk_a))
    assert got.status_code == 200 and got.json()["lines"] == [{"sku_id": w.s1.pk, "qty": 4}]
    assert client.get(f"{API}/locations/{w.a.pk}/stock/{w.s1.pk}", **auth(w.clerk_a)).json()["reserved"] == 4
    assert_error(client.get(f"{API}/reservations/{rid}", **auth(w.clerk_b)), 403)
    assert_error(post(client, f"{API}/reservations/{rid}/release", {}, w.clerk_b), 403)
    rel = post(client, f"{API}/reservations/{rid}/release", None, w.clerk_a, key="rel-1", raw="")
    assert rel.status_code == 200 and rel.json()["status"] == "released"
    count = Movement.objects.count()
    assert post(client, f"{API}/reservations/{rid}/release", None, w.clerk_a, key="rel-1", raw="").json() == rel.json()
    # Handing over goods of a released reservation would take stock nobody holds: a 409.
    late = post(client, f"{API}/reservations/{rid}/fulfil", None, w.clerk_a, raw="")
    assert_error(late, 409, "reservation_not_active")
    assert late.json()["details"]["status"] == "released"
    assert Movement.objects.count() == count
    assert_error(client.get(f"{API}/reservations/999999", **auth(w.clerk_a)), 404, "unknown_reservation")


def test_fulfil_takes_the_goods_out(client, w):
    rid = post(client, f"{API}/reservations", {"location_id": w.a.pk, "lines": [{"sku_id": w.s2.pk, "qty": 2}]},
               w.clerk_a).json()["id"]
    r = post(client, f"{API}/reservations/{rid}/fulfil", None, w.clerk_a, raw="")
    assert r.status_code == 200 and r.json()["status"] == "fulfilled"
    # Fulfilling again changes nothing; releasing goods already handed over is a 409.
    assert post(client, f"{API}/reservations/{rid}/fulfil", None, w.clerk_a, raw="").json() == r.json()
    assert_error(post(client, f"{API}/reservations/{rid}/release", None, w.clerk_a, raw=""), 409,
                 "reservation_fulfilled")
    item = client.get(f"{API}/locations/{w.a.pk}/stock/{w.s2.pk}", **auth(w.clerk_a)).json()
    assert (item["on_hand"], item["reserved"]) == (3, 0)


def test_reservation_beyond_available_is_409_and_changes_nothing(client, w):
    reserve(w.a, {w.s2: 4})
    before = snapshot()
    r = post(client, f"{API}/reservations", {"location_id": w.a.pk, "lines": [{"sku_id": w.s2.pk, "qty": 2}]},
             w.clerk_a, key="res-x")
    assert_error(r, 409, "insufficient_stock")
    assert snapshot() == before
    again = post(client, f"{API}/reservations", {"location_id": w.a.pk, "lines": [{"sku_id": w.s2.pk, "qty": 2}]},
                 w.clerk_a, key="res-x")
    assert (again.status_code, again.json()) == (r.status_code, r.json())


def test_transfer_ship_in_transit_and_receive(client, w):
    body = {"source_id": w.a.pk, "destination_id": w.b.pk, "lines": [{"sku_id": w.s1.pk, "qty": 5}]}
    assert_error(post(client, f"{API}/transfers", body, w.clerk_b), 403)  # not at the source
    r = post(client, f"{API}/transfers", body, w.clerk_a, key="tr-1")
    assert r.status_code == 201 and r.json()["status"] == "shipped"
    tid = r.json()["id"]
    before = snapshot()
    assert post(client, f"{API}/transfers", body, w.clerk_a, key="tr-1").json() == r.json()
    assert snapshot() == before
    transit = client.get(f"{API}/transfers/in-transit?location_id={w.b.pk}", **auth(w.clerk_b))
    assert transit.status_code == 200 and transit.json()["incoming_by_sku"] == [{"sku_id": w.s1.pk, "qty": 5}]
    assert_error(client.get(f"{API}/transfers/in-transit?location_id={w.b.pk}", **auth(w.clerk_a)), 403)
    assert_error(post(client, f"{API}/transfers/{tid}/receive", {}, w.clerk_a), 403)  # not at the destination
    got = post(client, f"{API}/transfers/{tid}/receive", {"received": [{"sku_id": w.s1.pk, "qty": 4}]}, w.clerk_b)
    assert got.status_code == 200 and got.json()["lines"][0]["lost_in_transit"] == 1
    count = Movement.objects.count()
    again = post(client, f"{API}/transfers/{tid}/receive", None, w.clerk_b, raw="")
    assert again.status_code == 200 and again.json() == got.json() and Movement.objects.count() == count
    assert client.get(f"{API}/locations/{w.b.pk}/stock/{w.s1.pk}", **auth(w.clerk_b)).json()["on_hand"] == 4
    assert_error(post(client, f"{API}/transfers/999999/receive", {}, w.clerk_b), 404, "unknown_transfer")


def test_availability_is_public_to_members_and_staff(client, w):
    q = f"sku_id={w.s1.pk}&lat=31.2354&lng=121.4737"
    r = client.get(f"{API}/availability?{q}", **auth(w.member))
    assert r.status_code == 200
    nodes = r.json()["nodes"]
    assert nodes[0]["location_id"] in (w.a.pk, w.b.pk) and {n["location_id"] for n in nodes} == {w.a.pk, w.b.pk}
    # A customer learns whether the quantity asked for is there, not the store's stock depth.
    assert {n["location_id"]: n["lines"][0]["available"] for n in nodes} == {w.a.pk: 1, w.b.pk: 0}
    staff_view = client.get(f"{API}/availability?{q}", **auth(w.clerk_b)).json()["nodes"]
    assert {n["location_id"]: n["lines"][0]["available"] for n in staff_view} == {w.a.pk: 20, w.b.pk: 0}
    assert client.get(f"{API}/availability?{q}&coord=bd09", **auth(w.clerk_b)).status_code == 200
    basket = {"lat": 31.2354, "lng": 121.4737, "coord": "wgs84",
              "lines": [{"sku_id": w.s1.pk, "qty": 2}, {"sku_id": w.s2.pk, "qty": 5}]}
    r = post(client, f"{API}/availability", basket, w.member)
    assert r.status_code == 200
    assert {n["location_id"]: n["has_all"] for n in r.json()["nodes"]} == {w.a.pk: True, w.b.pk: False}
    assert_error(client.get(f"{API}/availability?{q}"), 401)


# --- bad input: 4xx with the error shape and nothing changed ------------------------------

def _bad_cases(w):
    a, b, s1 = w.a.pk, w.b.pk, w.s1.pk
    line = [{"sku_id": s1, "qty": 1}]
    return [
        ("receipts", {"location_id": a, "lines": [{"sku_id": s1, "qty": 0}]}, 422),
        ("receipts", {"location_id": a, "lines": [{"sku_id": s1, "qty": -3}]}, 422),
        ("receipts", {"location_id": a, "lines": []}, 422),
        ("receipts", {"location_id": a, "lines": [{"sku_id": 999999, "qty": 1}]}, 404),
        ("receipts", {"location_id": 999999, "lines": line}, 404),
        ("receipts", {"location_id": a, "lines": [{"sku_id": s1, "qty": 1}, {"sku_id": s1, "qty": 2}]}, 422),
        ("adjustments", {"location_id": a, "sku_id": s1, "delta": -1}, 422),
        ("adjustments", {"location_id": a, "sku_id": s1, "delta": -1, "reason": "   "}, 422),
        ("adjustments", {"location_id": a, "sku_id": s1, "delta": 0, "reason": "x"}, 422),
        ("adjustments", {"location_id": a, "sku_id": 999999, "delta": 1, "reason": "x"}, 404),
        ("reservations", {"location_id": a, "lines": [{"sku_id": s1, "qty": 0}]}, 422),
        ("reservations", {"location_id": a, "lines": line, "ttl_s": 0}, 422),
        ("reservations", {"location_id": a, "lines": [{"sku_id": 999999, "qty": 1}]}, 404),
        ("transfers", {"source_id": a, "destination_id": a, "lines": line}, 422),
        ("transfers", {"source_id": a, "destination_id": 999999, "lines": line}, 404),
        ("transfers", {"source_id": a, "destination_id": b, "lines": [{"sku_id": s1, "qty": -1}]}, 422),
        ("transfers", {"source_id": a, "destination_id": b, "lines": [{"sku_id": s1, "qty": 10**9}]}, 422),
        ("availability", {"lat": 48.85, "lng": 2.35, "lines": line}, 422),
        ("availability", {"lat": 31.2, "lng": 121.4, "coord": "xyz", "lines": line}, 422),
        ("availability", {"lat": 31.2, "lng": 121.4, "lines": [{"sku_id": 999999, "qty": 1}]}, 404),
        ("availability", {"lat": 31.2, "lng": 121.4, "lines": [{"sku_id": s1, "qty": 0}]}, 422),
    ]


@pytest.mark.parametrize("case", range(21))
def test_bad_input_changes_nothing(client, w, case):
    path, body, status = _bad_cases(w)[case]
    before = snapshot()
    r = post(client, f"{API}/{path}", body, w.admin, key=f"bad-{case}")
    assert_error(r, status)
    assert snapshot() == before


@pytest.mark.parametrize("path", ["receipts", "adjustments", "reservations", "transfers", "availability"])
def test_malformed_json_is_400(client, w, path):
    before = snapshot()
    assert_error(post(client, f"{API}/{path}", None, w.admin, raw="{not json"), 400)
    assert snapshot() == before


def test_bad_receipt_of_a_transfer_changes_nothing(client, w):
    tid = post(client, f"{API}/transfers", {"source_id": w.a.pk, "destination_id": w.b.pk,
                                             "lines": [{"sku_id": w.s1.pk, "qty": 2}]}, w.clerk_a).json()["id"]
    before = snapshot()
    for received, status in (([{"sku_id": w.s1.pk, "qty": 3}], 422), ([{"sku_id": w.s1.pk, "qty": -1}], 422),
                             ([{"sku_id": w.s2.pk, "qty": 1}], 422)):
        assert_error(post(client, f"{API}/transfers/{tid}/receive", {"received": received}, w.clerk_b), status)
    assert_error(post(client, f"{API}/transfers/{tid}/receive", None, w.clerk_b, raw="[oops"), 400)
    assert snapshot() == before


def test_bad_availability_queries(client, w):
    base = f"{API}/availability?sku_id={w.s1.pk}"
    for q in ("&lat=48.85&lng=2.35", "&lat=31.2&lng=121.4&coord=utm", "&lat=31.2&lng=121.4&qty=0", "&lat=31.2",
              "&lat=abc&lng=121.4"):
        assert_error(client.get(base + q, **auth(w.member)), 422)
    assert_error(client.get(f"{API}/availability?sku_id=999999&lat=31.2&lng=121.4", **auth(w.member)), 404)


def test_members_and_other_stores_cannot_write(client, w):
    before = snapshot()
    line = [{"sku_id": w.s1.pk, "qty": 1}]
    for token in (w.member, w.clerk_b):
        assert_error(post(client, f"{API}/receipts", {"location_id": w.a.pk, "lines": line}, token), 403)
        assert_error(post(client, f"{API}/reservations", {"location_id": w.a.pk, "lines": line}, token), 403)
        assert_error(post(client, f"{API}/adjustments", {"location_id": w.a.pk, "sku_id": w.s1.pk, "delta": 1,
                                                         "reason": "x"}, token), 403)
    assert snapshot() == before
    assert not IdempotencyRecord.objects.exists()


def test_idempotency_keys_are_per_actor(client, w):
    body = {"location_id": w.a.pk, "lines": [{"sku_id": w.s1.pk, "qty": 1}]}
    assert post(client, f"{API}/receipts", body, w.clerk_a, key="shared").status_code == 201
    r = post(client, f"{API}/receipts", body, w.mgr_a, key="shared")
    assert r.status_code == 201 and r.json()["stock"][0]["on_hand"] == 22
    assert_error(post(client, f"{API}/receipts", body, w.mgr_a, key="x" * 121), 422, "invalid_idempotency_key")


def test_admin_pages_are_read_only(client, w):
    from o2o.accounts.models import User

    reserve(w.a, {w.s1: 1})
    admin = User.objects.create_superuser("root-inv", password="x-secret-9", role="hq_admin", scope="hq")
    client.force_login(admin)
    for model in ("stock", "movement", "reservation", "transfer", "posdevice", "countmark"):
        assert client.get(f"/admin/inventory/{model}/").status_code == 200, model
        assert client.get(f"/admin/inventory/{model}/add/").status_code == 403, model
    m = Movement.objects.first()
    r = client.get(f"/admin/inventory/movement/{m.pk}/change/")
    assert r.status_code == 200 and b'name="_save"' not in r.content
    assert client.get(f"/admin/inventory/movement/{m.pk}/delete/").status_code == 403
    res = Reservation.objects.first()
    assert client.get(f"/admin/inventory/reservation/{res.pk}/change/").status_code == 200
