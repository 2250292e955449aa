"""Money goes back: late payments, duplicate payments, cancelled paid orders, partial and over-refunds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from o2o.common.errors import Conflict
from o2o.inventory import checks
from o2o.orders import gateways, lifecycle
from o2o.orders.actors import SYSTEM
from o2o.orders.locks import lock_order
from o2o.orders.models import NoticeOutcome, Order, Payment, PaymentNotice, Refund, RefundStatus
from tests.e2e.orders.test_payments import notify, open_payment, placed, sandbox_pay
from tests.factories import assert_error, auth, member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_a_payment_after_expiry_is_refunded_in_full(client, w, provider, django_capture_on_commit_callbacks):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], provider).json()
    deadline = Order.objects.get(pk=o["id"]).payment_deadline
    assert lifecycle.orders_expire(now=deadline + timedelta(seconds=1)) == 1
    assert Payment.objects.get(pk=p["id"]).status == "closed"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = sandbox_pay(client, token, p["out_trade_no"])
    assert r.status_code == 200, r.content
    assert r.json()["outcome"] == "late_refunded" and r.json()["order_status"] == "expired"
    assert len(callbacks) == 1
    payment = Payment.objects.get(pk=p["id"])
    assert payment.status == "paid" and payment.refunded_fen == payment.amount_fen == o["total_fen"]
    refund = Refund.objects.get()
    assert refund.payment_id == payment.pk and refund.amount_fen == o["total_fen"]
    assert refund.status == RefundStatus.SUCCEEDED and refund.out_refund_no == "F" + o["number"][1:] + "001"
    order = Order.objects.get(pk=o["id"])
    assert order.status == "expired" and order.paid_fen == order.refunded_fen == o["total_fen"]
    assert PaymentNotice.objects.get(out_trade_no=p["out_trade_no"]).outcome == NoticeOutcome.LATE_REFUNDED
    listed = client.get(f"/api/v1/payments?order_id={o['id']}", **auth(token)).json()
    assert [(x["amount_fen"], x["status"]) for x in listed["refunds"]] == [(o["total_fen"], "succeeded")]


def test_a_second_payment_of_a_paid_order_is_refunded(client, w, django_capture_on_commit_callbacks):
    _, token = member()
    o = placed(client, w, token)
    wechat = open_payment(client, token, o["id"], "wechat").json()
    alipay = open_payment(client, token, o["id"], "alipay").json()
    assert sandbox_pay(client, token, wechat["out_trade_no"]).json()["outcome"] == "applied"
    with django_capture_on_commit_callbacks(execute=True):
        r = sandbox_pay(client, token, alipay["out_trade_no"])
    assert r.json()["outcome"] == "late_refunded" and r.json()["order_status"] == "allocated"
    order = Order.objects.get(pk=o["id"])
    assert order.paid_fen == 2 * o["total_fen"] and order.refunded_fen == o["total_fen"]
    refund = Refund.objects.get()
    assert refund.payment_id == alipay["id"] and refund.status == RefundStatus.SUCCEEDED
    assert Payment.objects.get(pk=wechat["id"]).refunded_fen == 0


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_cancelling_a_paid_order_refunds_it_in_full(client, w, provider, django_capture_on_commit_callbacks):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], provider).json()
    sandbox_pay(client, token, p["out_trade_no"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = post(client, f"/api/v1/orders/{o['id']}/cancel", {"reason": "买错了"}, token, "cancel-1")
    assert r.status_code == 200, r.content
    assert r.json()["status"] == "cancelled" and r.json()["refunded_fen"] == o["total_fen"]
    assert len(callbacks) == 1
    refund = Refund.objects.get()
    assert refund.amount_fen == o["total_fen"] and refund.status == RefundStatus.SUCCEEDED
    assert refund.refund_id != "" and "买错了" in refund.reason
    assert Payment.objects.get(pk=p["id"]).refunded_fen == o["total_fen"]
    world = gateways.sandbox_world()
    if provider == "wechat":
        assert world.wechatpay_sandbox.orders[p["out_trade_no"]].refunded_fen == o["total_fen"]
    else:
        assert sum(world.alipay_sandbox.orders[p["out_trade_no"]].refunds.values()) == o["total_fen"]
    assert checks.run() == []


def test_a_partial_refund_then_an_over_refund_is_a_conflict(client, w, django_capture_on_commit_callbacks):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], "wechat").json()
    sandbox_pay(client, token, p["out_trade_no"])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lifecycle.refund(lock_order(o["id"]), 100, "好意补偿 goodwill", SYSTEM)
    assert Order.objects.get(pk=o["id"]).refunded_fen == 100
    with pytest.raises(Conflict) as exc, transaction.atomic():
        lifecycle.refund(lock_order(o["id"]), o["total_fen"], "too much", SYSTEM)
    assert exc.value.code == "refund_exceeds_paid"
    assert exc.value.details["refunded_fen"] == 100
    order = Order.objects.get(pk=o["id"])
    assert order.refunded_fen == 100 and Payment.objects.get(pk=p["id"]).refunded_fen == 100
    assert list(Refund.objects.values_list("amount_fen", "status")) == [(100, RefundStatus.SUCCEEDED)]
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        lifecycle.refund(lock_order(o["id"]), o["total_fen"] - 100, "the rest", SYSTEM)
    assert Payment.objects.get(pk=p["id"]).refunded_fen == o["total_fen"]
    assert [r.out_refund_no[-3:] for r in Refund.objects.order_by("pk")] == ["001", "002"]


def test_a_notice_for_a_cancelled_order_is_refunded(client, w, django_capture_on_commit_callbacks):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], "wechat").json()
    assert post(client, f"/api/v1/orders/{o['id']}/cancel", {}, token, "c1").json()["status"] == "cancelled"
    headers, data = gateways.sandbox_pay(Payment.objects.get(pk=p["id"]))
    with django_capture_on_commit_callbacks(execute=True):
        assert notify(client, "wechat", headers, data).status_code == 200
        assert notify(client, "wechat", headers, data).status_code == 200
    order = Order.objects.get(pk=o["id"])
    assert order.status == "cancelled" and order.paid_fen == order.refunded_fen == o["total_fen"]
    assert Refund.objects.count() == 1
    assert list(PaymentNotice.objects.order_by("pk").values_list("outcome", flat=True)) == [
        NoticeOutcome.LATE_REFUNDED, NoticeOutcome.DUPLICATE]
    assert_error(open_payment(client, token, o["id"], "wechat"), 409, "order_not_payable")
