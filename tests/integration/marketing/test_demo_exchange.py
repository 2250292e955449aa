"""The demo's points exchange for goods names the SKU with the most units on the stores' shelves, and its
redemption at a counter takes that unit off the shelf (reads ../shared/data: POI homes)."""

from __future__ import annotations

import pytest

from o2o.demo.marketing_seed import seed_marketing
from o2o.inventory.models import Stock
from o2o.marketing import claims, redemption
from o2o.marketing.models import CouponTemplate
from o2o.members import points as pts
from tests.factories import location, member, sku, staff, stock_in

pytestmark = pytest.mark.django_db


def test_the_demo_exchange_gives_the_best_stocked_goods_and_takes_them_off_the_shelf():
    store, other = location(), location()
    small, big = sku(name="小件"), sku(name="抽纸 10 包")
    stock_in(store, small, 5)
    stock_in(store, big, 30)
    stock_in(other, small, 30)  # 35 units over two stores beat 30 at one
    seed_marketing()
    t = CouponTemplate.objects.get(code="points-gift")
    assert t.gift_sku_id == small.pk and t.points_price == 500 and not t.redeem_online
    m, _ = member()
    pts.points_earn(m.pk, 600, "gift:demo", t.created_at)
    c = claims.coupon_issue(template_id=t.pk, member=m, source="claim")
    clerk, _ = staff("clerk", loc=other)
    redemption.coupon_redeem_at_counter(code=c.code, store_id=other.pk, user_id=clerk.pk)
    assert sum(Stock.objects.filter(location=other, sku=small).values_list("on_hand", flat=True)) == 29
