"""The payment loop over HTTP: open a payment, pay in the sandbox, notices applied once, access rules."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from o2o.inventory import checks
from o2o.inventory.models import Reservation
from o2o.orders import gateways
from o2o.orders.lifecycle import paid_hold_s
from o2o.orders.models import NoticeOutcome, Order, Payment, PaymentNotice
from tests.e2e.orders.test_place_order import body, place
from tests.factories import assert_error, auth, member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def placed(client, w, token, **kw) -> dict:
    r = place(client, token, body(w, **kw), key=f"place-{next(_keys)}")
    assert r.status_code == 201, r.content
    return r.json()


def open_payment(client, token, order_id, provider="wechat", key=None, **extra):
    return post(client, "/api/v1/payments", {"order_id": order_id, "provider": provider, **extra}, token, key)


def sandbox_pay(client, token, out_trade_no, payload=None):
    return post(client, f"/api/v1/payments/sandbox/{out_trade_no}/pay", payload or {}, token)


def notify(client, provider, headers, data):
    meta = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k.lower() != "content-type"}
    return client.post(f"/api/v1/payments/notify/{provider}", data=data, content_type=headers["Content-Type"], **meta)


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_pay_in_the_sandbox_allocates_the_order_and_extends_the_hold(client, w, provider):
    _, token = member()
    o = placed(client, w, token)
    r = open_payment(client, token, o["id"], provider, key="pay-1")
    assert r.status_code == 201, r.content
    p = r.json()
    assert p["provider"] == provider and p["amount_fen"] == o["total_fen"] and p["status"] == "created"
    assert p["out_trade_no"] == "P" + o["number"][1:] + "01"
    assert ("paySign" in p["client_params"] or "h5_url" in p["client_params"]) if provider == "wechat" \
        else "order_string" in p["client_params"]
    again = open_payment(client, token, o["id"], provider, key="pay-1")
    assert again.status_code == 201 and again.json() == p  # the idempotency key replays the first answer

    r = sandbox_pay(client, token, p["out_trade_no"])
    assert r.status_code == 200, r.content
    assert r.json()["outcome"] == "applied" and r.json()["order_status"] == "allocated"
    assert r.json()["payment_status"] == "paid"
    order = Order.objects.get(pk=o["id"])
    assert order.paid_fen == order.total_fen and order.refunded_fen == 0 and order.paid_at is not None
    hist = client.get(f"/api/v1/orders/{o['id']}/history", **auth(token)).json()
    assert [e["to_status"] for e in hist if e["kind"] == "order"] == ["pending_payment", "paid", "allocated"]
    res = Reservation.objects.get(reference=order.number)
    assert res.expires_at >= timezone.now() + timedelta(seconds=paid_hold_s() - 60)
    listed = client.get(f"/api/v1/payments?order_id={o['id']}", **auth(token)).json()
    assert listed["paid_fen"] == order.total_fen and [x["status"] for x in listed["payments"]] == ["paid"]
    assert listed["refunds"] == []
    assert_error(sandbox_pay(client, token, p["out_trade_no"]), 409, "sandbox_cannot_pay")
    assert checks.run() == []


def test_an_open_payment_is_reused_and_another_provider_gets_a_new_attempt(client, w):
    _, token = member()
    o = placed(client, w, token)
    first = open_payment(client, token, o["id"], "wechat", payer_id="openid-1")
    assert first.status_code == 201 and first.json()["client_params"]["package"].startswith("prepay_id=")
    same = open_payment(client, token, o["id"], "wechat", payer_id="openid-1")
    assert same.status_code == 200 and same.json()["out_trade_no"] == first.json()["out_trade_no"]
    other = open_payment(client, token, o["id"], "alipay")
    assert other.status_code == 201 and other.json()["out_trade_no"].endswith("02")
    assert Payment.objects.filter(order_id=o["id"]).count() == 2


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_the_same_notice_twice_is_applied_once(client, w, provider):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], provider).json()
    headers, data = gateways.sandbox_pay(Payment.objects.get(pk=p["id"]))
    first = notify(client, provider, headers, data)
    ok = (200, b"") if provider == "wechat" else (200, b"success")
    assert (first.status_code, first.content) == ok
    second = notify(client, provider, headers, data)
    assert (second.status_code, second.content) == ok
    outcomes = list(PaymentNotice.objects.filter(out_trade_no=p["out_trade_no"]).order_by("pk")
                    .values_list("outcome", flat=True))
    assert outcomes == [NoticeOutcome.APPLIED, NoticeOutcome.DUPLICATE]
    order = Order.objects.get(pk=o["id"])
    assert order.status == "allocated" and order.paid_fen == order.total_fen
    assert Payment.objects.get(pk=p["id"]).status == "paid"


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_a_tampered_notice_is_rejected_and_changes_nothing(client, w, provider):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], provider).json()
    headers, data = gateways.sandbox_pay(Payment.objects.get(pk=p["id"]))
    if provider == "wechat":
        bad_headers, bad_data = {**headers, "Wechatpay-Signature": "AAAA" + headers["Wechatpay-Signature"][4:]}, data
    else:
        bad_headers, bad_data = headers, data.replace(b"total_amount=", b"total_amount=1")
    r = notify(client, provider, bad_headers, bad_data)
    if provider == "wechat":
        assert r.status_code == 500 and r.json()["code"] == "FAIL"
    else:
        assert (r.status_code, r.content) == (200, b"failure")
    rejected = PaymentNotice.objects.get()
    assert rejected.outcome == NoticeOutcome.REJECTED and rejected.out_trade_no == ""
    order = Order.objects.get(pk=o["id"])
    assert order.status == "pending_payment" and order.paid_fen == 0
    assert Payment.objects.get(pk=p["id"]).status == "created"
    assert notify(client, provider, headers, data).status_code == 200  # the genuine one still applies
    assert Order.objects.get(pk=o["id"]).status == "allocated"


def test_a_wrong_amount_is_not_applied(client, w):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], "alipay").json()
    r = sandbox_pay(client, token, p["out_trade_no"], {"amount_fen": o["total_fen"] + 1})
    assert r.status_code == 200, r.content
    assert r.json()["outcome"] == "amount_mismatch" and r.json()["order_status"] == "pending_payment"
    assert r.json()["payment_status"] == "created"
    assert Order.objects.get(pk=o["id"]).paid_fen == 0


def test_a_notice_for_an_unknown_trade_is_recorded_and_not_acknowledged(client, w):
    world = gateways.sandbox_world()
    world.wechatpay.create_payment(out_trade_no="PUNKNOWN000001", amount_fen=100, description="x",
                                   notify_url=gateways.notify_url("wechat"),
                                   expires_at=timezone.now() + timedelta(minutes=5), payer_id="openid-x")
    headers, data = world.wechatpay_sandbox.pay("PUNKNOWN000001")
    r = notify(client, "wechat", headers, data)
    assert r.status_code == 500
    notice = PaymentNotice.objects.get()
    assert notice.outcome == NoticeOutcome.UNKNOWN_PAYMENT and notice.out_trade_no == "PUNKNOWN000001"
    assert_error(client.post("/api/v1/payments/notify/paypal", data=b"x", content_type="text/plain"), 404,
                 "unknown_provider")


def test_who_may_open_and_see_payments(client, w):
    _, mine = member()
    _, theirs = member("别人")
    o = placed(client, w, mine)
    assert_error(open_payment(client, theirs, o["id"]), 404, "unknown_order")
    assert_error(open_payment(client, w.admin, o["id"]), 403, "members_only")
    assert_error(open_payment(client, mine, o["id"], "paypal"), 422)
    assert_error(open_payment(client, mine, 2**40), 404, "unknown_order")
    p = open_payment(client, mine, o["id"]).json()
    assert_error(sandbox_pay(client, theirs, p["out_trade_no"]), 404, "unknown_payment")
    assert_error(sandbox_pay(client, w.clerk_a, p["out_trade_no"]), 403)
    assert_error(client.get(f"/api/v1/payments?order_id={o['id']}", **auth(theirs)), 404)
    assert_error(client.get(f"/api/v1/payments?order_id={o['id']}", **auth(w.clerk_c)), 403)
    staff_view = client.get(f"/api/v1/payments?order_id={o['id']}", **auth(w.clerk_a))
    assert staff_view.status_code == 200 and staff_view.json()["payments"][0]["client_params"] == {}
    assert client.get(f"/api/v1/payments?order_id={o['id']}", **auth(mine)).json()["payments"][0]["client_params"]
    assert_error(client.get("/api/v1/payments", **auth(mine)), 422)
    assert Payment.objects.count() == 1 and PaymentNotice.objects.count() == 0


def test_hq_staff_may_pay_in_the_sandbox_and_production_has_no_sandbox(client, w, settings):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"]).json()
    settings.O2O = {**settings.O2O, "PAYMENTS": {"mode": "production"}}
    assert_error(sandbox_pay(client, w.admin, p["out_trade_no"]), 404, "not_sandbox")
    settings.O2O = {**settings.O2O, "PAYMENTS": {"mode": "sandbox"}}
    r = sandbox_pay(client, w.admin, p["out_trade_no"])
    assert r.status_code == 200 and r.json()["order_status"] == "allocated"


def test_no_payment_after_the_deadline_or_once_paid(client, w):
    _, token = member()
    o = placed(client, w, token)
    Order.objects.filter(pk=o["id"]).update(payment_deadline=timezone.now() - timedelta(seconds=1))
    assert_error(open_payment(client, token, o["id"]), 409, "payment_deadline_passed")
    o2 = placed(client, w, token)
    p = open_payment(client, token, o2["id"]).json()
    sandbox_pay(client, token, p["out_trade_no"])
    assert_error(open_payment(client, token, o2["id"], "alipay"), 409, "order_not_payable")
    assert Payment.objects.filter(order_id=o2["id"]).count() == 1


def test_a_zero_yuan_order_is_paid_at_once_without_a_gateway(client, w):
    _, token = member()
    o = placed(client, w, token)
    Order.objects.filter(pk=o["id"]).update(discount_fen=F("goods_fen") + F("delivery_fee_fen"), total_fen=0)
    r = open_payment(client, token, o["id"], "wechat")
    assert r.status_code == 201, r.content
    assert r.json()["provider"] == "cash" and r.json()["amount_fen"] == 0 and r.json()["status"] == "paid"
    assert r.json()["client_params"] == {}
    order = Order.objects.get(pk=o["id"])
    assert order.status == "allocated" and order.paid_fen == 0
    assert PaymentNotice.objects.count() == 0
