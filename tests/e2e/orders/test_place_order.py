"""Placing an order over HTTP: priced, routed and reserved in one transaction, or nothing."""

from __future__ import annotations

import pytest

from o2o.inventory import checks
from o2o.inventory.models import Reservation, ReservationStatus
from o2o.orders.models import Order, OrderEvent, Shipment
from o2o.outbox.models import OutboxEvent
from tests.factories import assert_error, auth, figures, member
from tests.integration.fulfilment.world import P, build, lines, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def body(w, *pairs, **kw):
    return {"lines": lines(*(pairs or ((w.s1, 2), (w.s2, 1)))), "channel": "mini_program", "choice": "fastest",
            "lat": P.lat, "lng": P.lng, "address": "上海市黄浦区人民大道 200 号", "contact_name": "张三",
            "contact_phone": "13812345678", "utm_source": "wechat", "utm_campaign": "double11", **kw}


def place(client, token, payload, key="k1"):
    return post(client, "/api/v1/orders", payload, token, key)


def test_place_prices_routes_reserves_and_records(client, w):
    _, token = member()
    before = figures(w.a, w.s1)
    r = place(client, token, body(w))
    assert r.status_code == 201, r.content
    o = r.json()
    assert o["status"] == "pending_payment" and o["channel"] == "mini_program"
    assert o["utm"] == {"source": "wechat", "medium": "", "campaign": "double11"}
    assert o["goods_fen"] == 2 * w.s1.list_price_fen + w.s2.list_price_fen
    assert o["total_fen"] == o["goods_fen"] - o["discount_fen"] + o["delivery_fee_fen"]
    assert o["contact_phone"] == "138****5678"
    [sh] = o["shipments"]
    assert sh["mode"] == "same_city" and sh["status"] == "pending" and sh["location_id"] == w.a.pk
    assert figures(w.a, w.s1) == (before[0], before[1] + 2)
    order = Order.objects.get(pk=o["id"])
    assert "13812345678" not in order.contact_phone_enc and order.contact_phone_masked == "138****5678"
    from o2o.orders.placement import contact_phone

    assert contact_phone(order) == "13812345678"  # what the courier booking gets
    res = Reservation.objects.get(reference=order.number)
    assert res.status == ReservationStatus.ACTIVE
    assert OrderEvent.objects.filter(order=order).count() == 1
    assert OutboxEvent.objects.filter(topic="order.placed", aggregate_id=str(order.pk)).count() == 1
    assert checks.run() == []


def test_same_key_same_body_replays_and_different_body_conflicts(client, w):
    _, token = member()
    first = place(client, token, body(w), key="same")
    again = place(client, token, body(w), key="same")
    assert again.status_code == 201 and again.json() == first.json()
    assert Order.objects.count() == 1 and Reservation.objects.count() == 1
    assert_error(place(client, token, body(w, (w.s1, 1)), key="same"), 409, "idempotency_key_reused")


def test_unfillable_line_creates_nothing(client, w):
    _, token = member()
    r = place(client, token, body(w, (w.s1, 2), (w.s2, 10_000)))
    err = assert_error(r, 422, "cannot_fill")
    assert any(ln["sku_id"] == w.s2.pk for ln in err["details"]["lines"])
    assert Order.objects.count() == 0 and Shipment.objects.count() == 0 and Reservation.objects.count() == 0


def test_expected_total_must_match(client, w):
    _, token = member()
    assert_error(place(client, token, body(w, expected_total_fen=1)), 409, "total_changed")
    assert Order.objects.count() == 0 and Reservation.objects.count() == 0


def test_other_members_order_is_not_found_and_staff_need_their_store(client, w):
    _, mine = member()
    _, theirs = member("别人")
    o = place(client, mine, body(w)).json()
    assert client.get(f"/api/v1/orders/{o['id']}", **auth(mine)).status_code == 200
    assert_error(client.get(f"/api/v1/orders/{o['id']}", **auth(theirs)), 404, "unknown_order")
    assert client.get("/api/v1/orders", **auth(theirs)).json()["count"] == 0
    assert client.get(f"/api/v1/orders/{o['id']}", **auth(w.clerk_a)).status_code == 200
    assert_error(client.get(f"/api/v1/orders/{o['id']}", **auth(w.clerk_c)), 403)
    assert client.get("/api/v1/orders", **auth(w.clerk_c)).json()["count"] == 0
    assert client.get("/api/v1/orders", **auth(w.admin)).json()["count"] == 1


def test_member_cancels_unpaid_order_and_stock_comes_back(client, w):
    _, token = member()
    before = figures(w.a, w.s1)
    o = place(client, token, body(w)).json()
    r = post(client, f"/api/v1/orders/{o['id']}/cancel", {"reason": "不想要了"}, token, "c1")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled"
    assert figures(w.a, w.s1) == before
    assert [s["status"] for s in r.json()["shipments"]] == ["cancelled"]
    hist = client.get(f"/api/v1/orders/{o['id']}/history", **auth(token)).json()
    assert [(e["from_status"], e["to_status"]) for e in hist if e["kind"] == "order"] == [
        ("", "pending_payment"), ("pending_payment", "cancelled")]
    assert_error(post(client, f"/api/v1/orders/{o['id']}/cancel", {}, token, "c2"), 409, "illegal_transition")
    assert checks.run() == []


def test_place_and_open_the_payment_in_one_call(client, w):
    from o2o.orders.models import Payment

    _, token = member()
    r = place(client, token, body(w, pay_with="wechat", payer_id="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), key="one")
    assert r.status_code == 201, r.content
    o = r.json()
    pay = o["payment"]
    assert pay["provider"] == "wechat" and pay["amount_fen"] == o["total_fen"]
    assert pay["client_params"]["package"].startswith("prepay_id=")
    assert Payment.objects.get(order_id=o["id"]).out_trade_no == pay["out_trade_no"]
    again = place(client, token, body(w, pay_with="wechat", payer_id="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"), key="one")
    assert again.json() == o and Payment.objects.count() == 1
    paid = post(client, f"/api/v1/payments/sandbox/{pay['out_trade_no']}/pay", {}, token)
    assert paid.status_code == 200 and paid.json()["order_status"] == "allocated"
    # Without pay_with the answer has no payment.
    assert place(client, token, body(w), key="two").json()["payment"] is None


def test_a_provider_failure_with_pay_with_keeps_the_order_and_says_why(client, w, monkeypatch):
    from o2o.orders import payments
    from o2o.orders.models import Payment

    def down(*a, **k):  # noqa: ANN002, ANN003
        raise payments.ProviderUnavailable("支付渠道不可用 provider down")

    monkeypatch.setattr(payments, "_open_trade", down)
    _, token = member()
    r = place(client, token, body(w, pay_with="alipay"), key="down")
    assert r.status_code == 201, r.content
    o = r.json()
    assert o["status"] == "pending_payment" and o["payment"] is None
    assert o["payment_error"]["code"] == "payment_provider_error" and o["payment_error"]["status"] == 502
    assert Order.objects.filter(pk=o["id"]).exists() and Payment.objects.count() == 0
    monkeypatch.setattr(payments, "_open_trade", lambda *a, **k: {"order_string": "ok"})
    retry = post(client, "/api/v1/payments", {"order_id": o["id"], "provider": "alipay"}, token, "pay-again")
    assert retry.status_code == 201, retry.content
