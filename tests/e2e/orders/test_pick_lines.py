"""Pick and pack line by line over HTTP: each line confirmed on the server, "ready" refused until then.

``POST /store/shipments/{id}/lines/{sku_id}/pick`` records the pick (``ShipmentLine``: how many, who,
when; a history entry); ``ready`` is a 409 ``lines_not_picked`` until every line is picked, unless
``pick_all``. On PostgreSQL, clerks picking the same line at once never take it past its quantity.
"""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from o2o.common.errors import ApiError
from o2o.orders import store_work
from o2o.orders.actors import By
from o2o.orders.models import EventKind, Order, OrderEvent, PickupCode, Shipment, ShipmentLine
from tests.e2e.orders.picking import PICK_ALL
from tests.e2e.orders.test_pickup_flow import pay, place_pickup
from tests.factories import assert_error, auth, member, staff
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def paid(client, w, *pairs) -> int:  # noqa: ANN001
    """A pickup order at A (2 × s1, 1 × s2 by default), paid; its shipment's id."""
    _, token = member()
    o = place_pickup(client, w, token, *pairs)
    pay(o["id"])
    return o["shipments"][0]["id"]


def pick(client, sid: int, sku_id: int, token: str, body: dict | None = None, key: str | None = None):  # noqa: ANN001
    return post(client, f"/api/v1/store/shipments/{sid}/lines/{sku_id}/pick", body or {}, token, key)


def ready(client, sid: int, token: str, body: dict | None = None, key: str | None = None):  # noqa: ANN001
    return post(client, f"/api/v1/store/shipments/{sid}/ready", body or {}, token, key)


def test_ready_is_refused_until_every_line_is_picked(client, w):
    sid = paid(client, w)
    refused = assert_error(ready(client, sid, w.clerk_a, key="r0"), 409, "lines_not_picked")
    assert refused["details"]["lines"] == sorted([{"sku_id": w.s1.pk, "qty": 2, "picked_qty": 0},
                                                  {"sku_id": w.s2.pk, "qty": 1, "picked_qty": 0}],
                                                 key=lambda ln: ln["sku_id"])
    assert Shipment.objects.get(pk=sid).status == "allocated"  # nothing applied

    first = pick(client, sid, w.s1.pk, w.clerk_a)  # the whole line by default; the shipment starts picking
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["line"]["picked_qty"] == 2 and body["line"]["picked"] is True and body["changed"] is True
    assert body["shipment_status"] == "picking" and body["all_picked"] is False
    assert body["open_lines"] == [{"sku_id": w.s2.pk, "qty": 1, "picked_qty": 0}]
    row = ShipmentLine.objects.get(shipment_id=sid, sku=w.s1)
    assert row.picked_qty == 2 and row.picked_at is not None and row.picked_by_id == body["line"]["picked_by"]
    assert row.picked_by_id is not None

    again = pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 2})  # the same count again: harmless, not recorded twice
    assert again.status_code == 200 and again.json()["changed"] is False and again.json()["line"]["picked_qty"] == 2
    notes = OrderEvent.objects.filter(shipment_id=sid, kind=EventKind.NOTE, reason__startswith="拣货确认")
    assert notes.count() == 1

    still = assert_error(ready(client, sid, w.clerk_a, key="r1"), 409, "lines_not_picked")
    assert still["details"]["lines"] == [{"sku_id": w.s2.pk, "qty": 1, "picked_qty": 0}]
    queue = client.get("/api/v1/store/queue", **auth(w.clerk_a)).json()
    [shown] = queue["to_pick"]
    assert shown["all_picked"] is False
    assert {ln["sku_id"]: ln["picked_qty"] for ln in shown["lines"]} == {w.s1.pk: 2, w.s2.pk: 0}

    last = pick(client, sid, w.s2.pk, w.clerk_a)
    assert last.status_code == 200 and last.json()["all_picked"] is True and last.json()["open_lines"] == []
    done = ready(client, sid, w.clerk_a, key="r2")
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "ready_for_pickup" and done.json()["all_picked"] is True
    assert PickupCode.objects.filter(shipment_id=sid, status="live").count() == 1
    late = pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 0})  # packed: lines are no longer picked
    assert_error(late, 409, "not_picking")
    assert ShipmentLine.objects.get(shipment_id=sid, sku=w.s1).picked_qty == 2


def test_partial_counts_and_taking_a_pick_back(client, w):
    sid = paid(client, w, (w.s1, 3))
    assert pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 1}).json()["line"]["picked"] is False
    assert_error(ready(client, sid, w.clerk_a, key="r"), 409, "lines_not_picked")
    assert pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 3}).json()["all_picked"] is True
    back = pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 0})
    assert back.json()["line"]["picked_qty"] == 0 and back.json()["all_picked"] is False
    assert_error(ready(client, sid, w.clerk_a, key="r2"), 409, "lines_not_picked")


def test_pick_all_for_integrations_records_every_line(client, w):
    sid = paid(client, w)
    r = ready(client, sid, w.clerk_a, PICK_ALL, key="r")
    assert r.status_code == 200, r.content
    rows = list(ShipmentLine.objects.filter(shipment_id=sid))
    assert {x.sku_id: (x.qty, x.picked_qty) for x in rows} == {w.s1.pk: (2, 2), w.s2.pk: (1, 1)}
    assert all(x.picked_at is not None and x.picked_by_id is not None for x in rows)
    assert OrderEvent.objects.filter(shipment_id=sid, reason__contains="pick_all").count() == 1


def test_bad_input_gets_the_error_shape(client, w):
    sid = paid(client, w)
    for body in ({"qty": -1}, {"qty": "two"}, {"qty": 1.5}, {"qty": 10**9}):
        assert_error(pick(client, sid, w.s1.pk, w.clerk_a, body), 422)
    beyond = assert_error(pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 3}), 422, "invalid_pick_qty")
    assert beyond["details"]["line_qty"] == 2
    assert_error(pick(client, sid, w.s1.pk + 10_000, w.clerk_a), 404, "unknown_line")
    assert_error(pick(client, 10**9, w.s1.pk, w.clerk_a), 404, "unknown_shipment")
    assert_error(ready(client, sid, w.clerk_a, {"pick_all": "maybe"}), 422)
    assert not ShipmentLine.objects.filter(shipment_id=sid, picked_qty__gt=0).exists()
    assert Shipment.objects.get(pk=sid).status == "allocated"


def test_only_staff_of_the_shipments_store_may_pick(client, w):
    sid = paid(client, w)
    start = post(client, f"/api/v1/store/shipments/{sid}/start", {}, w.clerk_c)
    other = pick(client, sid, w.s1.pk, w.clerk_c)
    assert other.status_code == start.status_code == 403
    assert_error(other, 403)
    assert_error(pick(client, sid, w.s1.pk, w.member), 403, "staff_only")
    assert_error(pick(client, sid, w.s1.pk, None), 401)
    assert not ShipmentLine.objects.filter(shipment_id=sid, picked_qty__gt=0).exists()
    assert pick(client, sid, w.s1.pk, w.mgr_east).status_code == 200  # the region's manager may


def test_a_held_order_is_not_picked(client, w):
    sid = paid(client, w)
    Order.objects.filter(shipments__pk=sid).update(hold="group")  # e.g. a group deal not yet full
    assert_error(pick(client, sid, w.s1.pk, w.clerk_a), 409, "order_on_hold")
    assert not ShipmentLine.objects.filter(shipment_id=sid, picked_qty__gt=0).exists()


def test_the_database_keeps_picked_within_the_line(client, w):
    sid = paid(client, w)
    pick(client, sid, w.s1.pk, w.clerk_a, {"qty": 1})
    row = ShipmentLine.objects.get(shipment_id=sid, sku=w.s1)
    for bad in (3, -1):
        with pytest.raises(IntegrityError), transaction.atomic():
            ShipmentLine.objects.filter(pk=row.pk).update(picked_qty=bad)
    assert ShipmentLine.objects.get(pk=row.pk).picked_qty == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_picks_never_exceed_the_line(client, monkeypatch):
    assert connection.vendor == "postgresql"  # marked postgres: runs only in the PostgreSQL suite
    w = build(monkeypatch)
    sid = paid(client, w, (w.s1, 3))
    clerks = [By(user_id=staff("clerk", loc=w.a)[0].pk, label="staff:test") for _ in range(6)]
    wanted = [3, 2, 4, 1, 3, 5]  # 4 and 5 are beyond the line: refused whatever the order
    start = threading.Barrier(len(clerks))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(by: By, qty: int) -> None:
        try:
            start.wait(20)
            results.append(store_work.shipment_pick_line(sid, w.s1.pk, by=by, qty=qty)["line"]["picked_qty"])
        except ApiError as exc:
            results.append(exc.code)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(by, q)) for by, q in zip(clerks, wanted, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and not any(t.is_alive() for t in threads)
    assert sorted(map(str, results)) == sorted(["3", "2", "1", "3", "invalid_pick_qty", "invalid_pick_qty"])
    assert ShipmentLine.objects.filter(shipment_id=sid).count() == 1  # made once, whoever came first
    row = ShipmentLine.objects.get(shipment_id=sid)
    assert 0 <= row.picked_qty <= row.qty == 3 and row.picked_qty in (1, 2, 3)
    assert Shipment.objects.get(pk=sid).status == "picking"
