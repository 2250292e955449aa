"""A coupon redeemed at the counter against a till's sale (receipt_no) comes back to the member when that
sale is refunded in full through the returns service (the marketing outbox handler), stays used after a
partial return, and a sale fully returned cannot take a coupon any more."""

from __future__ import annotations

import pytest

from o2o.common.errors import Conflict
from o2o.marketing import claims, redemption
from o2o.marketing.handlers import on_order_event
from o2o.marketing.models import Coupon, CouponEvent
from o2o.orders import returns
from o2o.orders.models import OrderLine
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import CLERK, fake_refunds, pos_order
from tests.factories import member, staff
from tests.integration.fulfilment.world import build
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def test_refunding_the_whole_sale_returns_the_counter_coupon(w, monkeypatch):
    fake_refunds(monkeypatch)
    m, _ = member()
    clerk, _ = staff("clerk", loc=w.a)
    c = claims.coupon_issue(template_id=template(threshold_fen=5000).pk, member=m, source="claim")
    order = pos_order(w.a, "RF-1", [(w.s1, 3, 2000)], 5000, member=m)  # ¥60, ¥10 off at the till
    used = redemption.coupon_redeem_at_counter(code=c.code, store_id=w.a.pk, user_id=clerk.pk, receipt_no="RF-1")
    assert used.used_order_id == order.pk
    line = OrderLine.objects.get(order=order)
    returns.return_at_store(order_id=order.pk, lines=[(line.pk, 1)], location_id=w.a.pk, reason="", by=CLERK)
    events_relay(handlers=[on_order_event])
    assert Coupon.objects.get(pk=c.pk).status == "used"  # a partial return: the sale stands
    returns.return_at_store(order_id=order.pk, lines=[(line.pk, 2)], location_id=w.a.pk, reason="", by=CLERK)
    events_relay(handlers=[on_order_event])
    back = Coupon.objects.get(pk=c.pk)
    assert back.status == "available" and back.used_order_id is None
    assert CouponEvent.objects.filter(coupon=c, kind="returned", order=order).count() == 1
    # The refunded sale cannot carry the coupon again.
    with pytest.raises(Conflict) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=w.a.pk, user_id=clerk.pk, receipt_no="RF-1")
    assert e.value.code == "receipt_not_usable"
    assert Coupon.objects.get(pk=c.pk).status == "available"


def test_one_coupon_per_sale_and_thresholds_over_what_is_left(w):
    m, _ = member()
    clerk, _ = staff("clerk", loc=w.a)
    first = claims.coupon_issue(template_id=template(threshold_fen=0).pk, member=m, source="claim")
    second = claims.coupon_issue(template_id=template(threshold_fen=0).pk, member=m, source="claim")
    pos_order(w.a, "ONE-1", [(w.s1, 1, 3000)], 3000, member=m)
    redemption.coupon_redeem_at_counter(code=first.code, store_id=w.a.pk, user_id=clerk.pk, receipt_no="ONE-1")
    with pytest.raises(Conflict) as e:  # PRICING_POLICY max_coupons = 1, as online
        redemption.coupon_redeem_at_counter(code=second.code, store_id=w.a.pk, user_id=clerk.pk, receipt_no="ONE-1")
    assert e.value.code == "coupon_not_applicable" and "最多" in e.value.details["reason"]
    assert Coupon.objects.get(pk=second.pk).status == "available"


def test_a_coupon_used_on_an_anonymous_sale_comes_back_when_the_sale_is_refunded(w, monkeypatch):
    fake_refunds(monkeypatch)
    m, _ = member()
    clerk, _ = staff("clerk", loc=w.a)
    c = claims.coupon_issue(template_id=template(threshold_fen=5000).pk, member=m, source="claim")
    order = pos_order(w.a, "RF-ANON", [(w.s1, 3, 2000)], 6000)  # no member named on the till's sale
    assert order.member_id is None
    redemption.coupon_redeem_at_counter(code=c.code, store_id=w.a.pk, user_id=clerk.pk, receipt_no="RF-ANON")
    line = OrderLine.objects.get(order=order)
    returns.return_at_store(order_id=order.pk, lines=[(line.pk, 3)], location_id=w.a.pk, reason="", by=CLERK)
    events_relay(handlers=[on_order_event])
    back = Coupon.objects.get(pk=c.pk)
    assert (back.status, back.member_id) == ("available", m.pk)
