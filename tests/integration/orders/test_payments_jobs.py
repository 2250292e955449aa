"""The periodic jobs: ``retry-refunds`` re-sends what the provider did not settle, ``reconcile-payments``
finds payments whose notice never came."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from o2o.orders import gateways, lifecycle
from o2o.orders.models import NoticeOutcome, Order, Payment, PaymentNotice, Refund, RefundStatus
from o2o.orders.payments import payments_reconcile
from tests.e2e.orders.test_payments import open_payment, placed, sandbox_pay
from tests.factories import member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def paid_order(client, w, provider="wechat"):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], provider).json()
    assert sandbox_pay(client, token, p["out_trade_no"]).json()["outcome"] == "applied"
    return token, o, p


def run(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_a_refund_lost_on_the_network_is_sent_again(client, w, provider, monkeypatch,
                                                    django_capture_on_commit_callbacks):
    token, o, p = paid_order(client, w, provider)
    sandbox = gateways.sandbox_world().sandboxes[gateways.ADAPTER[provider]]

    def down(*args, **kw):
        raise OSError("connection reset")

    monkeypatch.setattr(sandbox, "send", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, f"/api/v1/orders/{o['id']}/cancel", {}, token, "c1").status_code == 200
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PROCESSING and refund.raw["error"] == "network_error"
    assert run("retry-refunds", "--min-age-s", "3600").startswith("已重发 0")  # too young to retry
    monkeypatch.undo()
    assert "succeeded=1" in run("retry-refunds", "--min-age-s", "0")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.refund_id
    assert "re-sent 0" in run("retry-refunds", "--min-age-s", "0")


def test_a_refund_the_provider_is_still_processing_settles_on_retry(client, w, django_capture_on_commit_callbacks):
    token, o, p = paid_order(client, w, "wechat")
    sandbox = gateways.sandbox_world().wechatpay_sandbox
    sandbox.refund_status = "PROCESSING"
    try:
        with django_capture_on_commit_callbacks(execute=True):
            post(client, f"/api/v1/orders/{o['id']}/cancel", {}, token, "c1")
    finally:
        sandbox.refund_status = "SUCCESS"
    refund = Refund.objects.get()
    assert refund.status == RefundStatus.PROCESSING
    sandbox.orders[p["out_trade_no"]].refunds[refund.out_refund_no]["status"] = "SUCCESS"  # WeChat finished it
    run("retry-refunds", "--min-age-s", "0")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert sandbox.orders[p["out_trade_no"]].refunded_fen == o["total_fen"]  # sent once, not twice


@pytest.mark.parametrize("provider", ["wechat", "alipay"])
def test_reconcile_refunds_a_payment_whose_notice_never_came_and_closes_the_rest(
        client, w, provider, django_capture_on_commit_callbacks):
    _, token = member()
    lost, never = placed(client, w, token), placed(client, w, token)
    p_lost = open_payment(client, token, lost["id"], provider).json()
    p_never = open_payment(client, token, never["id"], provider).json()
    gateways.sandbox_pay(Payment.objects.get(pk=p_lost["id"]))  # paid at the provider; the notice is lost
    deadline = max(Order.objects.filter(pk__in=[lost["id"], never["id"]]).values_list("payment_deadline", flat=True))
    assert lifecycle.orders_expire(now=deadline + timedelta(seconds=1)) == 2
    assert payments_reconcile(now=deadline + timedelta(seconds=10)) == {}  # within the grace period
    with django_capture_on_commit_callbacks(execute=True):
        counts = payments_reconcile(now=deadline + timedelta(seconds=301))
    assert counts == {NoticeOutcome.LATE_REFUNDED: 1, NoticeOutcome.CLOSED: 1}
    order = Order.objects.get(pk=lost["id"])
    assert order.status == "expired" and order.paid_fen == order.refunded_fen == lost["total_fen"]
    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert Payment.objects.get(pk=p_never["id"]).status == "closed"
    trade = gateways.sandbox_world().sandboxes[gateways.ADAPTER[provider]].orders[p_never["out_trade_no"]]
    assert trade.status in ("CLOSED", "TRADE_CLOSED")  # it can no longer be paid
    assert payments_reconcile(now=deadline + timedelta(seconds=400)) == {}  # settled: not asked again
    assert PaymentNotice.objects.filter(outcome=NoticeOutcome.CLOSED).count() == 1


def test_reconcile_applies_a_payment_made_in_time_before_the_expiry_job_ran(client, w):
    _, token = member()
    o = placed(client, w, token)
    p = open_payment(client, token, o["id"], "alipay").json()
    gateways.sandbox_pay(Payment.objects.get(pk=p["id"]))
    deadline = Order.objects.get(pk=o["id"]).payment_deadline
    out = run("reconcile-payments", "--grace-s", "0")  # nothing due yet: the deadline is ahead
    assert "reconciled 0" in out
    assert payments_reconcile(now=deadline + timedelta(seconds=301)) == {NoticeOutcome.APPLIED: 1}
    assert Order.objects.get(pk=o["id"]).status == "allocated"
    assert payments_reconcile(now=deadline + timedelta(days=8)) == {}  # beyond the look-back anyway
