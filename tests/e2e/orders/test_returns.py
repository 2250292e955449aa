"""Returns over HTTP: any store takes back any order, stock goes up where the goods arrive,
refunds are exact in fen, and nobody returns or receives what is not theirs."""

from __future__ import annotations

import pytest

from o2o.core.orders import refund_for
from o2o.inventory import checks
from o2o.inventory.models import Movement
from o2o.orders.models import Order, OrderLine, Return
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.test_returns_support import completed_order, discounted, fake_refunds, paid_order
from tests.factories import assert_error, auth, figures, member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch, settings):
    discounted(settings)
    return build(monkeypatch)


@pytest.fixture
def refunds(monkeypatch):
    return fake_refunds(monkeypatch)


def line_of(order: Order, sku) -> OrderLine:  # noqa: ANN001
    return OrderLine.objects.get(order=order, sku=sku)


def ret(client, token, order, pairs, *, method="courier", loc, key=None, reason="不合适"):  # noqa: ANN001
    body = {"order_id": order.pk, "lines": [{"order_line_id": line_of(order, s).pk, "qty": q} for s, q in pairs],
            "method": method, "location_id": loc.pk, "reason": reason}
    return post(client, "/api/v1/returns", body, token, key)


def test_online_order_returned_at_another_store_restocks_there_and_refunds_exactly(client, w, refunds):
    mem, _ = member()
    order = completed_order(w, mem, [(w.s1, 3), (w.s2, 1)])  # picked up at store A
    line = line_of(order, w.s1)
    assert line.discount_fen > 0 and line.payable_fen % 3 != 0  # the fen off makes it uneven
    a_before, b_before = figures(w.a, w.s1), figures(w.b, w.s1)
    r = ret(client, w.clerk_b, order, [(w.s1, 2)], method="store", loc=w.b)
    assert r.status_code == 201, r.content
    body = r.json()
    expected = refund_for(line.payable_fen, 3, 0, 0, 2)
    assert body["status"] == "refunded" and body["method"] == "store" and body["location_id"] == w.b.pk
    assert body["refund_fen"] == expected and body["lines"][0]["refund_fen"] == expected
    assert figures(w.b, w.s1) == (b_before[0] + 2, b_before[1])  # back on the shelf at B
    assert figures(w.a, w.s1) == a_before
    assert refunds.calls == [(order.pk, expected, body["id"])]
    line.refresh_from_db()
    assert (line.returned_qty, line.refunded_fen) == (2, expected)
    order.refresh_from_db()
    assert order.status == "completed" and order.refunded_fen == expected
    mv = Movement.objects.get(idempotency_key=f"return:{body['id']}:{w.s1.pk}")
    assert mv.kind == "return" and mv.location_id == w.b.pk and mv.delta_on_hand == 2
    assert body["number"] in mv.reason
    ev = OutboxEvent.objects.get(topic="order.refunded_lines", aggregate_id=str(order.pk))
    assert ev.payload["lines"] == [{"order_line_id": line.pk, "sku_id": w.s1.pk, "qty": 2, "refund_fen": expected}]
    assert ev.payload["refund_fen"] == expected and ev.payload["member_id"] == mem.pk
    assert OutboxEvent.objects.filter(topic="order.return_requested").count() == 1
    assert checks.run() == []


@pytest.mark.parametrize("steps", [[1, 1, 1], [2, 1], [1, 2], [3]])
def test_partial_returns_refund_exactly_the_line_payable_and_end_refunded(client, w, refunds, steps):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 3)])
    line = line_of(order, w.s1)
    got = []
    for i, qty in enumerate(steps):
        r = ret(client, token, order, [(w.s1, qty)], loc=w.a if i % 2 else w.b, key=f"r{i}")
        assert r.status_code == 201, r.content
        assert r.json()["status"] == "requested"
        loc_clerk = w.clerk_a if i % 2 else w.clerk_b
        rr = post(client, f"/api/v1/returns/{r.json()['id']}/receive", {}, loc_clerk, f"recv{i}")
        assert rr.status_code == 200, rr.content
        got.append(rr.json()["refund_fen"])
    done, cumulative = 0, []
    for qty in steps:
        done += qty
        cumulative.append(line.payable_fen * done // 3)
    assert [sum(got[:i + 1]) for i in range(len(got))] == cumulative  # floor(P*k/Q) after every step
    assert sum(got) == line.payable_fen == refunds.total(order.pk)
    order.refresh_from_db()
    line.refresh_from_db()
    assert (line.returned_qty, line.refunded_fen) == (3, line.payable_fen)
    assert order.status == "refunded" and order.refunded_fen == order.paid_fen
    assert OutboxEvent.objects.filter(topic="order.refunded", aggregate_id=str(order.pk)).count() == 1
    assert OutboxEvent.objects.filter(topic="order.refunded_lines", aggregate_id=str(order.pk)).count() == len(steps)
    assert_error(ret(client, token, order, [(w.s1, 1)], loc=w.a, key="more"), 409, "return_exceeds_quantity")


def test_over_return_is_409_and_changes_nothing(client, w, refunds):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 3), (w.s2, 1)])
    assert ret(client, token, order, [(w.s1, 2)], loc=w.a, key="one").status_code == 201
    before = (figures(w.a, w.s1), figures(w.a, w.s2), Return.objects.count(), OutboxEvent.objects.count())
    r = ret(client, token, order, [(w.s2, 1), (w.s1, 2)], loc=w.a, key="two")
    err = assert_error(r, 409, "return_exceeds_quantity")
    assert err["details"]["order_line_id"] == line_of(order, w.s1).pk
    assert err["details"]["returnable"] == 1 and err["details"]["requested"] == 2
    assert (figures(w.a, w.s1), figures(w.a, w.s2), Return.objects.count(), OutboxEvent.objects.count()) == before
    assert line_of(order, w.s1).returned_qty == 2 and line_of(order, w.s2).returned_qty == 0  # s2 rolled back
    other = completed_order(w, mem, [(w.s2, 1)])
    foreign = {"order_id": order.pk, "lines": [{"order_line_id": line_of(other, w.s2).pk, "qty": 1}],
               "method": "courier", "location_id": w.a.pk}
    assert_error(post(client, "/api/v1/returns", foreign, token), 422, "unknown_order_line")
    dup = {**foreign, "lines": [{"order_line_id": line_of(order, w.s2).pk, "qty": 1}] * 2}
    assert_error(post(client, "/api/v1/returns", dup, token), 422, "duplicate_line")
    assert_error(post(client, "/api/v1/returns", {**foreign, "lines": []}, token), 422)
    nowhere = {**foreign, "location_id": 2**40, "lines": [{"order_line_id": line_of(order, w.s2).pk, "qty": 1}]}
    assert_error(post(client, "/api/v1/returns", nowhere, token), 404, "unknown_location")
    assert ret(client, token, order, [(w.s2, 1)], loc=w.c, key="x").status_code == 201  # any store takes it
    assert refunds.calls == [] and Return.objects.count() == 2  # "one", and "x" to store C


def test_goods_still_in_the_store_cannot_be_returned(client, w, refunds):
    mem, token = member()
    order = paid_order(w, mem, [(w.s1, 2)])  # allocated: nothing handed over yet
    err = assert_error(ret(client, token, order, [(w.s1, 1)], loc=w.a), 409, "return_exceeds_quantity")
    assert err["details"]["handed_over"] == 0
    from tests.e2e.orders.test_returns_support import placed_order

    unpaid = placed_order(w, mem, [(w.s2, 1)])
    assert_error(ret(client, token, unpaid, [(w.s2, 1)], loc=w.a), 409, "order_not_returnable")
    assert Return.objects.count() == 0


def test_member_cannot_return_or_see_another_members_order(client, w, refunds):
    mine, my_token = member()
    _, their_token = member("别人")
    order = completed_order(w, mine, [(w.s1, 2)])
    assert_error(ret(client, their_token, order, [(w.s1, 1)], loc=w.a), 404, "unknown_order")
    by_number = {"order_number": order.number, "lines": [{"order_line_id": line_of(order, w.s1).pk, "qty": 1}],
                 "method": "courier", "location_id": w.a.pk}
    assert_error(post(client, "/api/v1/returns", by_number, their_token), 404, "unknown_order")
    assert Return.objects.count() == 0 and line_of(order, w.s1).returned_qty == 0
    r = post(client, "/api/v1/returns", by_number, my_token)
    assert r.status_code == 201, r.content
    rid = r.json()["id"]
    assert_error(client.get(f"/api/v1/returns/{rid}", **auth(their_token)), 404, "unknown_return")
    assert client.get("/api/v1/returns", **auth(their_token)).json()["count"] == 0
    assert_error(post(client, f"/api/v1/returns/{rid}/cancel", {}, their_token), 404, "unknown_return")
    assert client.get(f"/api/v1/returns/{rid}", **auth(my_token)).json()["status"] == "requested"


def test_only_staff_of_the_returns_store_receive_it(client, w, refunds):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 2)])
    r = ret(client, token, order, [(w.s1, 1)], loc=w.a)  # parcel sent to store A
    rid = r.json()["id"]
    before = figures(w.a, w.s1)
    assert_error(post(client, f"/api/v1/returns/{rid}/receive", {}, w.clerk_c), 403)
    assert_error(post(client, f"/api/v1/returns/{rid}/receive", {}, w.clerk_b), 403)
    assert_error(post(client, f"/api/v1/returns/{rid}/receive", {}, token), 403, "staff_only")
    assert figures(w.a, w.s1) == before and refunds.calls == []
    ok = post(client, f"/api/v1/returns/{rid}/receive", {}, w.clerk_a, "k")
    assert ok.status_code == 200 and ok.json()["status"] == "refunded"
    assert figures(w.a, w.s1) == (before[0] + 1, before[1])
    again = post(client, f"/api/v1/returns/{rid}/receive", {}, w.clerk_a, "k")
    assert again.status_code == 200 and again.json() == ok.json()  # same key: the first answer
    assert_error(post(client, f"/api/v1/returns/{rid}/receive", {}, w.clerk_a, "k2"), 409, "return_not_open")
    assert figures(w.a, w.s1) == (before[0] + 1, before[1]) and len(refunds.calls) == 1
    # a clerk of store C cannot take an order back at store A's counter either
    assert_error(ret(client, w.clerk_c, order, [(w.s1, 1)], method="store", loc=w.a), 403)
    assert checks.run() == []


def test_cancel_and_reject_give_the_units_back(client, w, refunds):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 3)])
    line = line_of(order, w.s1)
    first = ret(client, token, order, [(w.s1, 2)], loc=w.b, key="a").json()
    assert line_of(order, w.s1).returned_qty == 2
    c = post(client, f"/api/v1/returns/{first['id']}/cancel", {"reason": "不退了"}, token, "c")
    assert c.status_code == 200 and c.json()["status"] == "cancelled"
    assert line_of(order, w.s1).returned_qty == 0
    assert_error(post(client, f"/api/v1/returns/{first['id']}/receive", {}, w.clerk_b), 409, "return_not_open")
    second = ret(client, token, order, [(w.s1, 1)], loc=w.b, key="b").json()
    assert_error(post(client, f"/api/v1/returns/{second['id']}/reject", {}, token), 403, "staff_only")
    assert_error(post(client, f"/api/v1/returns/{second['id']}/reject", {}, w.clerk_c), 403)
    rj = post(client, f"/api/v1/returns/{second['id']}/reject", {"reason": "已损坏"}, w.clerk_b)
    assert rj.status_code == 200 and rj.json()["status"] == "rejected"
    full = ret(client, w.clerk_b, order, [(w.s1, 3)], method="store", loc=w.b, key="c").json()
    assert full["refund_fen"] == line.payable_fen and full["status"] == "refunded"
    assert refunds.calls == [(order.pk, line.payable_fen, full["id"])]
    assert OutboxEvent.objects.filter(topic__in=["order.return_cancelled", "order.return_rejected"]).count() == 2


def test_list_and_get_follow_who_may_see_them(client, w, refunds):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 2)])
    rid = ret(client, token, order, [(w.s1, 1)], loc=w.b).json()["id"]
    mine = client.get(f"/api/v1/returns?order_id={order.pk}", **auth(token)).json()
    assert mine["count"] == 1 and mine["items"][0]["id"] == rid and mine["items"][0]["order_number"] == order.number
    assert client.get(f"/api/v1/returns/{rid}", **auth(w.clerk_b)).status_code == 200  # addressed to B
    assert client.get(f"/api/v1/returns/{rid}", **auth(w.clerk_a)).status_code == 200  # A sold it
    assert_error(client.get(f"/api/v1/returns/{rid}", **auth(w.clerk_c)), 403)
    assert client.get("/api/v1/returns", **auth(w.clerk_c)).json()["count"] == 0
    assert client.get("/api/v1/returns", **auth(w.admin)).json()["count"] == 1
    assert_error(client.get("/api/v1/returns/999999", **auth(w.admin)), 404, "unknown_return")


def test_same_idempotency_key_replays_the_return(client, w, refunds):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 2)])
    first = ret(client, token, order, [(w.s1, 1)], loc=w.a, key="same")
    again = ret(client, token, order, [(w.s1, 1)], loc=w.a, key="same")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Return.objects.count() == 1 and line_of(order, w.s1).returned_qty == 1
    assert_error(ret(client, token, order, [(w.s1, 2)], loc=w.a, key="same"), 409, "idempotency_key_reused")


HUGE = 2**63


@pytest.mark.parametrize("patch", [
    {"order_id": HUGE}, {"order_id": None}, {"order_number": "a\x00b", "order_id": None}, {"method": "drone"},
    {"location_id": HUGE}, {"location_id": 0}, {"lines": []}, {"lines": [{"order_line_id": 1, "qty": 0}]},
    {"lines": [{"order_line_id": HUGE, "qty": 1}]}, {"lines": [{"order_line_id": 1, "qty": HUGE}]},
    {"reason": "x" * 201}, {"reason": "a\x00b"}, {"lines": "all"},
])
def test_garbage_returns_are_a_4xx_and_change_nothing(client, w, refunds, patch):
    mem, token = member()
    order = completed_order(w, mem, [(w.s1, 2)])
    body = {"order_id": order.pk, "lines": [{"order_line_id": line_of(order, w.s1).pk, "qty": 1}],
            "method": "courier", "location_id": w.a.pk, **patch}
    for who in (token, w.clerk_a):
        r = post(client, "/api/v1/returns", body, who)
        assert 400 <= r.status_code < 500 and set(r.json()) == {"code", "message", "details"}, r.content
    assert Return.objects.count() == 0 and line_of(order, w.s1).returned_qty == 0
    for path in (f"/api/v1/returns/{HUGE}", "/api/v1/returns?status=a%00b", f"/api/v1/returns?order_id={HUGE}"):
        r = client.get(path, **auth(w.admin))
        assert 400 <= r.status_code < 500 or r.json()["count"] == 0, r.content
    r = post(client, f"/api/v1/returns/{HUGE}/receive", {}, w.admin)
    assert 400 <= r.status_code < 500 and set(r.json()) == {"code", "message", "details"}
