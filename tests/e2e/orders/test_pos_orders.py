"""A till's receipt becomes a completed order of the order center, idempotent by receipt number;
stock is left to the POS events; a till purchase can be returned online or at any store."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.core.orders import refund_for
from o2o.inventory import checks
from o2o.orders.models import Order, OrderEvent, OrderLine, Payment, Shipment
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.test_returns_support import fake_refunds
from tests.factories import assert_error, auth, figures, member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db

URL = "/api/v1/pos/orders"


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def card_of(mem) -> str:  # noqa: ANN001
    """Give the member a POS member card (their OneID identity) and return its number."""
    from o2o.accounts.identities import identity_attach, identity_key

    number = f"C{mem.pk:010d}"
    key, index = identity_key("pos_card", number)
    assert identity_attach(member=mem, key=key, index=index, channel="pos", now=timezone.now()) is not None
    return number


def receipt(w, no="R-0001", *, loc=None, paid=5000, method="cash", member_id=None, lines=None, at=None,  # noqa: ANN001
            card=None):  # noqa: ANN001
    body = {"location_id": (loc or w.a).pk, "receipt_no": no, "paid_fen": paid, "payment_method": method,
            "member_id": member_id, "occurred_at": (at or timezone.now() - timedelta(minutes=3)).isoformat(),
            "lines": lines or [{"sku_id": w.s1.pk, "qty": 3, "unit_price_fen": 1000},
                               {"sku_id": w.s2.pk, "qty": 1, "unit_price_fen": 2500}]}
    if card is not None:
        body["member_card"] = card
    return body


def test_receipt_becomes_a_completed_order_without_touching_stock(client, w):
    mem, token = member()
    before = (figures(w.a, w.s1), figures(w.a, w.s2))
    r = post(client, URL, receipt(w, card=card_of(mem)), w.clerk_a)
    assert r.status_code == 201, r.content
    o = r.json()
    assert (o["status"], o["channel"], o["choice"], o["store_id"], o["member_id"]) == (
        "completed", "pos", "counter", w.a.pk, mem.pk)
    assert (o["goods_fen"], o["discount_fen"], o["delivery_fee_fen"], o["total_fen"], o["paid_fen"]) == (
        5500, 500, 0, 5000, 5000)
    assert sum(ln["payable_fen"] for ln in o["lines"]) == 5000
    assert sorted(ln["discount_fen"] for ln in o["lines"]) == [227, 273]  # 500 split 3000:2500
    [sh] = o["shipments"]
    assert (sh["mode"], sh["status"], sh["location_id"]) == ("counter", "completed", w.a.pk)
    order = Order.objects.get(pk=o["id"])
    assert order.external_ref == "R-0001" and order.paid_at is not None and order.completed_at is not None
    pay = Payment.objects.get(order=order)
    assert (pay.provider, pay.status, pay.amount_fen, pay.transaction_id) == ("cash", "paid", 5000, "")
    moves = list(OrderEvent.objects.filter(order=order, kind="order").order_by("at", "pk")
                 .values_list("from_status", "to_status"))
    assert moves == [("", "pending_payment"), ("pending_payment", "paid"), ("paid", "completed")]
    assert {e.topic for e in OutboxEvent.objects.filter(aggregate_id=str(order.pk))} >= {
        "order.placed", "order.paid", "order.completed"}
    assert (figures(w.a, w.s1), figures(w.a, w.s2)) == before  # stock comes through /pos/events
    seen = client.get("/api/v1/orders?channel=pos", **auth(token)).json()
    assert seen["count"] == 1 and seen["items"][0]["id"] == order.pk  # the member sees the till purchase


def test_replayed_receipt_answers_the_same_order_and_other_content_conflicts(client, w):
    body = receipt(w)
    first = post(client, URL, body, w.clerk_a)
    assert first.status_code == 201
    again = post(client, URL, body, w.clerk_a)
    assert again.status_code == 200, again.content
    assert again.json()["id"] == first.json()["id"] and again.json() == first.json()
    err = assert_error(post(client, URL, {**body, "paid_fen": 4999}, w.clerk_a), 409, "receipt_conflict")
    assert err["details"]["order_id"] == first.json()["id"]
    assert Order.objects.count() == 1 and Payment.objects.count() == 1 and Shipment.objects.count() == 1
    other_store = post(client, URL, receipt(w, loc=w.b), w.clerk_b)  # receipt numbers are per store
    assert other_store.status_code == 201 and other_store.json()["id"] != first.json()["id"]


def test_idempotency_key_is_optional_and_replays(client, w):
    body = receipt(w, "R-9")
    a = post(client, URL, body, w.clerk_a, "till-key")
    b = post(client, URL, body, w.clerk_a, "till-key")
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    assert Order.objects.filter(external_ref="R-9").count() == 1


def test_wallet_payments_carry_a_receipt_scoped_transaction_id(client, w):
    r = post(client, URL, receipt(w, "WX-1", method="wechat"), w.clerk_a)
    pay = Payment.objects.get(order_id=r.json()["id"])
    assert (pay.provider, pay.transaction_id) == ("wechat", f"pos:{w.a.pk}:WX-1")
    r = post(client, URL, receipt(w, "CARD-1", method="card"), w.clerk_a)
    pay = Payment.objects.get(order_id=r.json()["id"])
    assert (pay.provider, pay.client_params["pos_method"]) == ("cash", "card")


def test_who_may_record_and_what_is_refused(client, w):
    _, token = member()
    assert_error(post(client, URL, receipt(w), w.clerk_b), 403)  # another store's clerk
    assert_error(post(client, URL, receipt(w), token), 403)
    assert_error(post(client, URL, receipt(w, paid=5501), w.clerk_a), 422, "paid_exceeds_subtotal")
    assert_error(post(client, URL, receipt(w, lines=[{"sku_id": 2**40, "qty": 1, "unit_price_fen": 1}], paid=1),
                      w.clerk_a), 404, "unknown_sku")
    assert_error(post(client, URL, receipt(w, loc=w.w), w.admin), 422, "not_a_store")
    assert_error(post(client, URL, receipt(w, at=timezone.now() + timedelta(hours=1)), w.clerk_a), 422,
                 "invalid_time")
    assert_error(post(client, URL, receipt(w, member_id=2**40), w.admin), 404, "unknown_member")
    assert_error(post(client, URL, receipt(w, card="C9999999999"), w.clerk_a), 404, "unknown_member_card")
    assert_error(post(client, URL, receipt(w, card="C1", member_id=1), w.clerk_a), 422, "one_member_key")
    assert_error(post(client, URL, receipt(w, no="有 空格"), w.clerk_a), 422)
    two_prices = [{"sku_id": w.s1.pk, "qty": 1, "unit_price_fen": 1000},
                  {"sku_id": w.s1.pk, "qty": 1, "unit_price_fen": 900}]
    assert_error(post(client, URL, receipt(w, lines=two_prices, paid=1900), w.clerk_a), 422, "duplicate_sku")
    assert Order.objects.count() == 0
    same_price = [{"sku_id": w.s1.pk, "qty": 1, "unit_price_fen": 1000},
                  {"sku_id": w.s1.pk, "qty": 2, "unit_price_fen": 1000}]
    r = post(client, URL, receipt(w, lines=same_price, paid=3000), w.clerk_a)
    assert r.status_code == 201 and [(ln["qty"], ln["payable_fen"]) for ln in r.json()["lines"]] == [(3, 3000)]


def test_till_purchase_returned_online_by_courier_to_another_store(client, w, monkeypatch):
    refunds = fake_refunds(monkeypatch)
    mem, token = member()
    o = post(client, URL, receipt(w, "R-77", paid=4999, card=card_of(mem)), w.clerk_a).json()
    line = OrderLine.objects.get(order_id=o["id"], sku=w.s1)
    b_before = figures(w.b, w.s1)
    body = {"order_id": o["id"], "lines": [{"order_line_id": line.pk, "qty": 2}], "method": "courier",
            "location_id": w.b.pk, "reason": "尺码不对"}
    r = post(client, "/api/v1/returns", body, token, "ret-1")
    assert r.status_code == 201 and r.json()["status"] == "requested" and r.json()["order_channel"] == "pos"
    assert figures(w.b, w.s1) == b_before  # nothing until the parcel arrives
    rr = post(client, f"/api/v1/returns/{r.json()['id']}/receive", {}, w.clerk_b, "recv-1")
    assert rr.status_code == 200 and rr.json()["status"] == "refunded"
    expected = refund_for(line.payable_fen, 3, 0, 0, 2)
    assert rr.json()["refund_fen"] == expected and refunds.calls == [(o["id"], expected, r.json()["id"])]
    assert figures(w.b, w.s1) == (b_before[0] + 2, b_before[1])
    assert checks.run() == []


def test_anonymous_till_purchase_returned_at_a_far_store_counter(client, w, monkeypatch):
    refunds = fake_refunds(monkeypatch)
    o = post(client, URL, receipt(w, "R-88"), w.clerk_a).json()
    lines = OrderLine.objects.filter(order_id=o["id"]).order_by("pk")
    c_before = figures(w.c, w.s2)
    body = {"order_number": o["number"], "method": "store", "location_id": w.c.pk,
            "lines": [{"order_line_id": ln.pk, "qty": ln.qty} for ln in lines]}
    r = post(client, "/api/v1/returns", body, w.clerk_c)
    assert r.status_code == 201 and r.json()["status"] == "refunded"
    assert r.json()["refund_fen"] == 5000 == refunds.total(o["id"])
    assert figures(w.c, w.s2) == (c_before[0] + 1, c_before[1])
    assert Order.objects.get(pk=o["id"]).status == "refunded"


HUGE = 2**63


@pytest.mark.parametrize("patch", [
    {"location_id": HUGE}, {"receipt_no": "a\x00b"}, {"receipt_no": ""}, {"receipt_no": "x" * 41},
    {"paid_fen": -1}, {"paid_fen": HUGE}, {"payment_method": "bitcoin"}, {"occurred_at": "2026-01-01T10:00:00"},
    {"occurred_at": "1999-12-31T23:00:00+08:00"}, {"lines": []}, {"lines": [{"sku_id": 1, "qty": 0, "unit_price_fen": 1}]},
    {"lines": [{"sku_id": HUGE, "qty": 1, "unit_price_fen": 1}]}, {"member_id": HUGE},
    {"lines": [{"sku_id": 1, "qty": 1, "unit_price_fen": -5}]}, {"lines": "many"},
])
def test_garbage_receipts_are_a_4xx_and_change_nothing(client, w, patch):
    r = post(client, URL, {**receipt(w), **patch}, w.admin)
    assert 400 <= r.status_code < 500 and set(r.json()) == {"code", "message", "details"}, r.content
    assert Order.objects.count() == 0 and OrderEvent.objects.count() == 0
    assert_error(post(client, URL, "{\"location_id\": ", w.admin), 400)


def test_a_till_sale_of_a_merged_member_lands_on_the_survivor_and_of_an_erased_one_on_nobody(client, w):
    from o2o.accounts.models import Member

    survivor, _ = member()
    merged, _ = member()
    Member.objects.filter(pk=merged.pk).update(is_active=False, merged_into=survivor)
    r = post(client, URL, receipt(w, "R-M1", member_id=merged.pk), w.admin)  # an HQ integration
    assert r.status_code == 201, r.content
    assert r.json()["member_id"] == survivor.pk  # the sale happened: never refused for the member's sake
    erased, _ = member()
    Member.objects.filter(pk=erased.pk).update(is_active=False, deleted_at=timezone.now())
    r = post(client, URL, receipt(w, "R-M2", member_id=erased.pk), w.admin)
    assert r.status_code == 201, r.content
    assert r.json()["member_id"] is None and Order.objects.get(pk=r.json()["id"]).member_id is None


def test_a_clerk_attaches_only_a_member_presented_at_the_till(client, w):
    """A clerk cannot make any member "theirs" by recording a sale for a made-up member id: the member must
    show their card or member code (looked up at this store), or already shop here."""
    from o2o.accounts.models import PiiAccessLog

    stranger, _ = member()
    assert_error(post(client, URL, receipt(w, "R-S1", member_id=stranger.pk), w.clerk_a), 403,
                 "member_not_presented")
    assert not Order.objects.filter(member=stranger).exists()
    from o2o.accounts.models import ApiToken, hash_token

    user_id = ApiToken.objects.get(key_hash=hash_token(w.clerk_a)).user_id
    PiiAccessLog.objects.create(user_id=user_id, member=stranger, field="lookup.code", action="lookup",
                                reason="会员码 member code")  # the clerk scanned their member code just now
    r = post(client, URL, receipt(w, "R-S2", member_id=stranger.pk), w.clerk_a)
    assert r.status_code == 201 and r.json()["member_id"] == stranger.pk
    regular, _ = member()
    assert post(client, URL, receipt(w, "R-S3", card=card_of(regular)), w.clerk_a).status_code == 201
    again = post(client, URL, receipt(w, "R-S4", member_id=regular.pk), w.clerk_a)  # shops here already
    assert again.status_code == 201 and again.json()["member_id"] == regular.pk
