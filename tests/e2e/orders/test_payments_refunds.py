"""Money goes back: late payments, duplicate payments, cancelled paid orders, partial and over-refunds;
money taken at a till goes back at a counter, or stays owed until staff pay it out by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.common.errors import Conflict, NotFound
from o2o.inventory import checks
from o2o.orders import gateways, lifecycle, payment_refunds, returns
from o2o.orders.actors import SYSTEM, By
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    NoticeOutcome,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentNotice,
    Refund,
    RefundStatus,
)
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.test_payments import notify, open_payment, placed, sandbox_pay
from tests.e2e.orders.test_returns_support import CLERK, paid_order, pos_order
from tests.factories import assert_error, auth, member, staff
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


# --- money taken at a till ----------------------------------------------------------------------

@pytest.fixture
def no_gateway(monkeypatch) -> list[str]:
    """Fails the test if anything asks an online gateway; records who asked."""
    asked: list[str] = []

    def refuse(provider: str):  # noqa: ANN202
        asked.append(provider)
        raise AssertionError(f"a till's refund was sent to the {provider} gateway")

    monkeypatch.setattr(gateways, "payment_gateway", refuse)
    return asked


def courier_return(w, order: Order, qty: int = 1):  # noqa: ANN001, ANN201
    """The customer sends ``qty`` units back by courier to warehouse W; it arrives and is refunded."""
    line = OrderLine.objects.filter(order=order).order_by("pk").first()
    ret = returns.return_create(order_id=order.pk, lines=[(line.pk, qty)], method="courier", location_id=w.w.pk,
                                reason="寄回 sent back", by=CLERK)
    return returns.return_receive(return_id=ret.pk, by=CLERK)


def store_return(w, order: Order, qty: int = 1):  # noqa: ANN001, ANN201
    line = OrderLine.objects.filter(order=order).order_by("pk").first()
    return returns.return_at_store(order_id=order.pk, lines=[(line.pk, qty)], location_id=w.b.pk,
                                   reason="柜台退货", by=CLERK)


@pytest.mark.parametrize("method", ["cash", "card", "wechat", "alipay"])
def test_a_till_purchase_returned_at_a_counter_is_paid_back_there(w, method, no_gateway,
                                                                django_capture_on_commit_callbacks):
    order = pos_order(w.a, f"R-{method}", [(w.s1, 2, 1000)], 2000, method=method)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ret = store_return(w, order)
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount_fen, refund.order_return_id) == (RefundStatus.SUCCEEDED, 1000, ret.pk)
    assert refund.raw == {"at_counter": True} and not refund.reason.startswith(payment_refunds.MANUAL_NOTE)
    assert callbacks == [] and no_gateway == []
    assert payment_refunds.refunds_retry(min_age_s=0) == {}
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED


@pytest.mark.parametrize("method", ["cash", "card", "wechat", "alipay"])
def test_a_till_purchase_returned_by_courier_waits_for_a_manual_payout(w, method, no_gateway,
                                                                     django_capture_on_commit_callbacks):
    order = pos_order(w.a, f"C-{method}", [(w.s1, 2, 1000)], 2000, method=method)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ret = courier_return(w, order)
    assert ret.status == "refunded"  # our books: owed to the customer
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount_fen) == (RefundStatus.PROCESSING, 1000)
    assert refund.reason.startswith("门店人工退款 manual payout at the store: ")
    assert refund.raw == {"manual": True, "note": payment_refunds.MANUAL_NOTE}
    assert callbacks == [] and no_gateway == []
    assert Order.objects.get(pk=order.pk).refunded_fen == 1000
    event = OutboxEvent.objects.get(topic="order.refund_created", aggregate_id=str(order.pk))
    assert event.payload["manual"] is True and event.payload["status"] == "processing"
    # retry-refunds leaves it to the staff: not sent, not counted, not touched
    assert payment_refunds.refunds_retry(min_age_s=0) == {}
    assert payment_refunds.refund_send(refund.pk) == RefundStatus.PROCESSING
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.PROCESSING and no_gateway == []
    # paid out where the money was taken: the till's store
    assert payment_refunds.refund_payout_location_id(refund) == w.a.pk


def test_staff_settle_a_manual_refund_once(w, no_gateway):
    order = pos_order(w.a, "SETTLE-1", [(w.s1, 3, 1000)], 3000, method="wechat")
    courier_return(w, order)
    refund = Refund.objects.get(order=order)
    user, _ = staff("clerk", loc=w.a)
    by = By(user_id=user.pk, label=f"staff:{user.pk}")
    done = payment_refunds.refund_settle_manual(refund.pk, by, note="微信商户后台退款 #88")
    assert done.status == RefundStatus.SUCCEEDED
    assert done.raw["manual"] is True and done.raw["settled_by"] == f"staff:{user.pk}"
    assert done.raw["settled_by_user_id"] == user.pk and done.raw["settle_note"] == "微信商户后台退款 #88"
    assert OrderEvent.objects.filter(order=order, reason__startswith="门店已人工退款 paid out by hand").count() == 1
    assert OutboxEvent.objects.filter(topic="order.refund_settled", aggregate_id=str(order.pk)).count() == 1
    with pytest.raises(Conflict) as exc:
        payment_refunds.refund_settle_manual(refund.pk, by)
    assert exc.value.code == "refund_already_settled" and exc.value.details["status"] == "succeeded"
    assert Refund.objects.get(pk=refund.pk).raw == done.raw  # the second attempt changed nothing
    assert OutboxEvent.objects.filter(topic="order.refund_settled", aggregate_id=str(order.pk)).count() == 1
    with pytest.raises(NotFound) as exc:
        payment_refunds.refund_settle_manual(999_999, by)
    assert exc.value.code == "unknown_refund"
    assert no_gateway == []


def test_a_gateway_refund_cannot_be_settled_by_hand(client, w, monkeypatch):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], "wechat").json()
    sandbox_pay(client, token, p["out_trade_no"])
    monkeypatch.setattr(transaction, "on_commit", lambda *a, **k: None)  # the gateway call is "lost"
    with transaction.atomic():
        lifecycle.refund(lock_order(o["id"]), 100, "goodwill", SYSTEM)
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PROCESSING and refund.raw == {}
    with pytest.raises(Conflict) as exc:
        payment_refunds.refund_settle_manual(refund.pk, SYSTEM)
    assert exc.value.code == "refund_not_manual" and exc.value.details["provider"] == "wechat"
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.PROCESSING
    assert payment_refunds.refunds_retry(min_age_s=0) == {"succeeded": 1}  # the gateway's refunds are retried


def test_a_cancelled_order_paid_in_cash_waits_for_a_manual_payout(w, no_gateway, django_capture_on_commit_callbacks):
    mem, _ = member()
    order = paid_order(w, mem, [(w.s1, 1)])
    Payment.objects.create(order=order, provider="cash", out_trade_no=f"P{order.number[1:]}01",
                           amount_fen=order.total_fen, status="paid", expires_at=timezone.now(),
                           paid_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        lifecycle.order_cancel(order_id=order.pk, by=SYSTEM, reason="客服取消")
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.amount_fen) == (RefundStatus.PROCESSING, order.total_fen)
    assert refund.raw["manual"] is True and "客服取消" in refund.reason
    assert callbacks == [] and no_gateway == []
    assert payment_refunds.refunds_retry(min_age_s=0) == {}
    assert payment_refunds.refund_payout_location_id(refund) == w.a.pk  # the order's (pickup) store


def test_a_zero_yuan_till_purchase_needs_no_refund(w, no_gateway):
    order = pos_order(w.a, "FREE-9", [(w.s1, 2, 500)], 0)
    ret = courier_return(w, order, qty=2)
    assert ret.status == "refunded" and ret.refund_fen == 0
    assert not Refund.objects.filter(order=order).exists()
    assert Order.objects.get(pk=order.pk).status == "refunded" and no_gateway == []


def test_the_refund_list_shows_what_is_still_owed(client, w):
    mem, token = member()
    order = pos_order(w.a, "LIST-1", [(w.s1, 2, 1000)], 2000, method="cash", member=mem)
    courier_return(w, order)
    listed = client.get(f"/api/v1/payments?order_id={order.pk}", **auth(token)).json()
    [refund] = listed["refunds"]
    assert (refund["status"], refund["amount_fen"]) == ("processing", 1000)
    assert refund["reason"].startswith("门店人工退款 manual payout at the store")


def test_staff_settle_a_till_refund_over_http(client, monkeypatch, django_capture_on_commit_callbacks):
    """A POS cash purchase returned by courier: the refund waits for the store's payout, then is settled."""
    from django.utils import timezone

    from o2o.orders.models import Refund
    from tests.factories import auth, member
    from tests.integration.fulfilment.world import build, post

    w = build(monkeypatch)
    m, token = member()
    sale = {"location_id": w.a.pk, "receipt_no": "R-1", "lines": [{"sku_id": w.s1.pk, "qty": 2, "unit_price_fen": 500}],
            "paid_fen": 1000, "payment_method": "cash", "member_id": m.pk,
            "occurred_at": timezone.now().isoformat()}
    r = post(client, "/api/v1/pos/orders", sale, w.admin)  # an HQ POS integration may name the member
    assert r.status_code == 201, r.content
    order = r.json()
    line = order["lines"][0]
    with django_capture_on_commit_callbacks(execute=True):
        ret = post(client, "/api/v1/returns", {"order_id": order["id"], "method": "courier", "location_id": w.a.pk,
                                               "lines": [{"order_line_id": line["id"], "qty": 1}]}, token, "r").json()
        r = post(client, f"/api/v1/returns/{ret['id']}/receive", {}, w.clerk_a, "rcv")
    assert r.status_code == 200, r.content
    refund = Refund.objects.get(order_id=order["id"])
    assert refund.status == "processing" and refund.amount_fen == 500
    listed = client.get(f"/api/v1/payments?order_id={order['id']}", **auth(token)).json()
    assert listed["refunds"][0]["manual"] is True
    assert post(client, f"/api/v1/payments/refunds/{refund.pk}/settle", {}, token, "s0").status_code == 403
    assert post(client, f"/api/v1/payments/refunds/{refund.pk}/settle", {}, w.clerk_c, "s1").status_code == 403
    r = post(client, f"/api/v1/payments/refunds/{refund.pk}/settle", {"note": "现金退还"}, w.clerk_a, "s2")
    assert r.status_code == 200 and r.json()["status"] == "succeeded"
    again = post(client, f"/api/v1/payments/refunds/{refund.pk}/settle", {}, w.clerk_a, "s3")
    assert again.status_code == 409 and again.json()["code"] == "refund_already_settled"
    assert post(client, "/api/v1/payments/refunds/999999/settle", {}, w.clerk_a, "s4").status_code == 404
