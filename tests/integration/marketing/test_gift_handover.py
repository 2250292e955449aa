"""A gift coupon (goods for a threshold, or goods exchanged for points) takes the goods off the store's stock
when it is redeemed at the counter, in the 核销's transaction; no stock there: 409 and the coupon stays."""

from __future__ import annotations

import pytest

from o2o.inventory.errors import InsufficientStock
from o2o.inventory.models import Movement, Stock
from o2o.marketing import claims, redemption
from o2o.marketing.models import Coupon, CouponEvent
from tests.factories import location, member, sku, staff, stock_in
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


def on_hand(loc, item) -> int:  # noqa: ANN001
    return sum(Stock.objects.filter(location=loc, sku=item).values_list("on_hand", flat=True))


def gift_coupon(item, qty: int = 2, **kw):  # noqa: ANN001, ANN003, ANN201
    t = template(kind="free_gift", gift_sku=item, gift_qty=qty, threshold_fen=0, redeem_online=False, **kw)
    return claims.coupon_issue(template_id=t.pk, member=member()[0], source="staff")


def test_the_gift_leaves_the_shelf_with_the_redemption_once():
    store, item = location(), sku(name="保温杯")
    clerk, _ = staff("clerk", loc=store)
    stock_in(store, item, 5)
    c = gift_coupon(item, qty=2, points_price=500)
    redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk)
    assert on_hand(store, item) == 3
    mv = Movement.objects.get(location=store, sku=item, kind="sale")
    assert mv.delta_on_hand == -2 and mv.actor_id == clerk.pk and mv.reference == f"coupon:{c.pk}"
    assert mv.details["issue"] is True and "积分兑换" in mv.reason
    with pytest.raises(Exception):  # noqa: B017 - a second scan is refused (coupon_used) and takes nothing
        redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk)
    assert on_hand(store, item) == 3 and Movement.objects.filter(kind="sale").count() == 1


def test_a_store_without_the_goods_refuses_and_the_coupon_stays_available():
    store, item = location(), sku()
    clerk, _ = staff("clerk", loc=store)
    stock_in(store, item, 1)
    c = gift_coupon(item, qty=2)
    with pytest.raises(InsufficientStock) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk)
    assert e.value.status == 409 and e.value.details["lines"][0]["available"] == 1
    c.refresh_from_db()
    assert c.status == "available" and c.used_at is None
    assert not CouponEvent.objects.filter(coupon=c, kind="used").exists()
    assert on_hand(store, item) == 1 and not Movement.objects.filter(kind="sale").exists()


def test_a_service_voucher_takes_no_stock():
    store = location()
    clerk, _ = staff("clerk", loc=store)
    t = template(kind="service_voucher", service="洗车 car wash", amount_fen=3000, threshold_fen=0,
                 redeem_online=False)
    c = claims.coupon_issue(template_id=t.pk, member=member()[0], source="staff")
    redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk)
    assert Coupon.objects.get(pk=c.pk).status == "used" and not Movement.objects.filter(kind="sale").exists()
