"""POS sync API end to end: batches, resends, access, and bad batches changing nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from o2o.inventory import checks
from o2o.inventory.models import CountMark, Movement, PosDevice, Stock
from tests.factories import assert_error, auth, location, member, region, reserve, sku, staff, stock_in

pytestmark = pytest.mark.django_db

URL = "/api/v1/pos/stock-events"


@pytest.fixture
def w():
    reg = region()
    a, b = location(reg), location(reg)
    s1, s2 = sku(), sku()
    stock_in(a, s1, 10, at=timezone.now() - timedelta(hours=1))
    stock_in(a, s2, 3, at=timezone.now() - timedelta(hours=1))
    return SimpleNamespace(a=a, b=b, s1=s1, s2=s2, clerk_a=staff("clerk", loc=a)[1],
                           clerk_b=staff("clerk", loc=b)[1], manager_a=staff("store_manager", loc=a)[1],
                           member=member()[1])


def when(minutes_ago: float) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


def event(eid: str, seq: int, sku_id: int, qty: int, kind: str = "sale", occurred_at: str | None = None) -> dict:
    return {"kind": kind, "pos_event_id": eid, "seq": seq, "sku_id": sku_id, "qty": qty,
            "occurred_at": occurred_at or when(10)}


def send(client, token: str, location_id: int, events: list[dict], device: str = "till-1", raw: str | None = None):
    body = raw if raw is not None else json.dumps({"location_id": location_id, "device_id": device, "events": events})
    return client.post(URL, data=body, content_type="application/json", **auth(token))


def snapshot():
    return (Movement.objects.count(), PosDevice.objects.count(),
            sorted(Stock.objects.values_list("location_id", "sku_id", "bucket", "on_hand", "reserved")))



def available(client, w, sku_id: int) -> int:
    # Staff see exact figures (customers' are capped at the quantity asked for).
    r = client.get(f"/api/v1/inventory/availability?sku_id={sku_id}&lat={w.a.lat}&lng={w.a.lng}", **auth(w.clerk_a))
    return {n["location_id"]: n["lines"][0]["available"] for n in r.json()["nodes"]}[w.a.pk]


def test_batch_applies_and_availability_reflects_it_at_once(client, w):
    assert available(client, w, w.s1.pk) == 10
    events = [event("s-1", 1, w.s1.pk, 2), event("r-1", 2, w.s1.pk, 1, "return"),
              event("c-1", 4, w.s2.pk, 1, "count", when(5))]
    r = send(client, w.manager_a, w.a.pk, events)  # counts need stock.adjust: a manager, not a clerk
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["applied"] == ["s-1", "r-1", "c-1"] and body["duplicates"] == []
    assert body["last_seq"] == 4 and body["missing_seqs"] == [[3, 3]] and body["missing_count"] == 1
    assert available(client, w, w.s1.pk) == 9 and available(client, w, w.s2.pk) == 1
    assert checks.run() == []


def test_resent_batch_changes_nothing(client, w):
    events = [event("s-1", 1, w.s1.pk, 2), event("s-2", 2, w.s1.pk, 1)]
    send(client, w.clerk_a, w.a.pk, events)
    before = snapshot()
    r = send(client, w.clerk_a, w.a.pk, events)
    assert r.status_code == 200 and r.json()["applied"] == [] and r.json()["duplicates"] == ["s-1", "s-2"]
    assert snapshot() == before


def test_sale_beyond_free_stock_reports_shorted_reservations_and_discrepancies(client, w):
    res = reserve(w.a, {w.s2: 2})
    r = send(client, w.clerk_a, w.a.pk, [event("big", 1, w.s2.pk, 5)])
    assert r.status_code == 200
    assert r.json()["shorted_reservations"] == [res.id]
    assert r.json()["discrepancies"] == [{"pos_event_id": "big", "sku_id": w.s2.pk, "missing": 2}]
    got = client.get(f"/api/v1/inventory/reservations/{res.id}", **auth(w.clerk_a))
    assert got.json()["status"] == "shorted"
    assert checks.run() == []


def test_only_the_stores_own_staff_may_sync(client, w):
    before = snapshot()
    events = [event("s-1", 1, w.s1.pk, 1)]
    assert_error(send(client, w.clerk_b, w.a.pk, events), 403, "forbidden")
    assert_error(send(client, w.member, w.a.pk, events), 403)
    assert_error(client.post(URL, data=json.dumps({"location_id": w.a.pk, "device_id": "t", "events": events}),
                             content_type="application/json"), 401)
    assert snapshot() == before


def test_oversized_batch_is_refused_whole(client, w):
    before = snapshot()
    with override_settings(O2O={**settings.O2O, "POS_MAX_BATCH": 3}):
        r = send(client, w.clerk_a, w.a.pk, [event(f"s-{i}", i + 1, w.s1.pk, 1) for i in range(4)])
    assert_error(r, 413, "batch_too_large")
    assert snapshot() == before
    r = send(client, w.clerk_a, w.a.pk, [event(f"x-{i}", i + 1, w.s1.pk, 1) for i in range(10_001)])
    assert r.status_code in (413, 422) and set(r.json()) == {"code", "message", "details"}
    assert snapshot() == before


def _bad_events(w) -> list[tuple[list[dict], int]]:
    ok = event("ok", 1, w.s1.pk, 1)
    naive = (timezone.now() - timedelta(minutes=5)).replace(tzinfo=None).isoformat()
    return [
        ([ok, event("z", 2, w.s1.pk, 0)], 422),
        ([ok, event("z", 2, w.s1.pk, -2)], 422),
        ([ok, event("z", 2, w.s1.pk, -1, "count")], 422),
        ([ok, event("z", 2, w.s1.pk, 0, "return")], 422),
        ([ok, event("z", 2, w.s1.pk, 1, occurred_at=naive)], 422),
        ([ok, event("z", 2, w.s1.pk, 1, occurred_at=when(-60 * 48))], 422),
        ([ok, event("z", 2, w.s1.pk, 1, kind="theft")], 422),
        ([ok, event("z", 0, w.s1.pk, 1)], 422),
        ([ok, event("", 2, w.s1.pk, 1)], 422),
        ([ok, event("z", 2, 999999, 1)], 404),
        ([ok, {"kind": "sale", "seq": 2, "sku_id": w.s1.pk, "qty": 1}], 422),
        ([ok, event("z", 2, w.s1.pk, 1, occurred_at=when(-6))], 422),  # beyond the 5 min clock skew
        ([ok, event("z", 2, w.s1.pk, 1, occurred_at="0001-01-01T00:00:00+14:00")], 422),
        ([ok, event("z", 2, w.s1.pk, 1, occurred_at="1999-12-31T23:59:59+00:00")], 422),
        ([ok, event("z\x00", 2, w.s1.pk, 1)], 422),
    ]


@pytest.mark.parametrize("case", range(15))
def test_bad_events_apply_nothing(client, w, case):
    events, status = _bad_events(w)[case]
    before = snapshot()
    assert_error(send(client, w.clerk_a, w.a.pk, events), status)
    assert snapshot() == before


def test_bad_batches_apply_nothing(client, w):
    before = snapshot()
    assert_error(send(client, w.clerk_a, 999999, [event("a", 1, w.s1.pk, 1)]), 404, "unknown_location")
    assert_error(send(client, w.clerk_a, w.a.pk, [], raw="{oops"), 400)
    assert_error(send(client, w.clerk_a, w.a.pk, [event("a", 1, w.s1.pk, 1)], device=""), 422)
    assert_error(send(client, w.clerk_a, w.a.pk, [event("a", 1, w.s1.pk, 1)], device="x" * 65), 422)
    assert_error(send(client, w.clerk_a, w.a.pk, [event("a", 1, w.s1.pk, 1)], device="till\x00"), 422)
    assert snapshot() == before


def test_counts_need_stock_adjust(client, w):
    """A count sets the stock level: a clerk (pos.sync, no stock.adjust) may send sales and
    returns but not counts; a store manager may."""
    before = snapshot()
    mixed = [event("s-1", 1, w.s1.pk, 1), event("c-1", 2, w.s1.pk, 500, "count", when(5))]
    r = send(client, w.clerk_a, w.a.pk, mixed)
    assert_error(r, 403, "forbidden")
    assert r.json()["details"]["permission"] == "stock.adjust"
    assert snapshot() == before
    assert send(client, w.clerk_a, w.a.pk, [event("s-1", 1, w.s1.pk, 1)]).status_code == 200
    r = send(client, w.manager_a, w.a.pk, [event("c-1", 2, w.s1.pk, 500, "count", when(5))])
    assert r.status_code == 200, r.content
    assert Stock.objects.get(location=w.a, sku=w.s1).on_hand == 500
    assert checks.run() == []


def test_a_till_ahead_of_the_clock(client, w):
    r = send(client, w.manager_a, w.a.pk, [event("c-1", 1, w.s1.pk, 4, "count", when(-4))])
    assert r.status_code == 200, r.content
    mark = CountMark.objects.get(location=w.a, sku=w.s1).counted_at
    assert mark <= datetime.fromisoformat(r.json()["received_at"])
    # A sale stamped after the receipt time (but before the till's stamp) still counts.
    r = send(client, w.clerk_a, w.a.pk, [event("s-1", 1, w.s1.pk, 1, occurred_at=when(-1))], device="till-2")
    assert r.status_code == 200 and r.json()["superseded"] == []
    assert Stock.objects.get(location=w.a, sku=w.s1).on_hand == 3


def test_new_tills_per_store_are_capped(client, w):
    PosDevice.objects.bulk_create([PosDevice(location=w.a, device_id=f"till-{i}") for i in range(64)])
    before = snapshot()
    assert_error(send(client, w.clerk_a, w.a.pk, [event("a", 1, w.s1.pk, 1)], device="till-new"), 422,
                 "too_many_devices")
    assert snapshot() == before
    assert send(client, w.clerk_a, w.a.pk, [event("a", 1, w.s1.pk, 1)], device="till-3").status_code == 200


def test_schema_refuses_nul_characters():
    # (A middleware also refuses NUL anywhere in a request; the schema does not rely on it.)
    from pydantic import ValidationError

    from o2o.inventory.pos_api import PosBatchIn, PosEventIn

    good = {"kind": "sale", "pos_event_id": "a", "seq": 1, "sku_id": 1, "qty": 1, "occurred_at": when(1)}
    PosEventIn(**good)
    with pytest.raises(ValidationError):
        PosEventIn(**{**good, "pos_event_id": "a\x00"})
    with pytest.raises(ValidationError):
        PosBatchIn(location_id=1, device_id="till\x00", events=[])
