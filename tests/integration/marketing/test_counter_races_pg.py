"""PostgreSQL: 撤销核销 and counter 核销 with a receipt under real concurrency (each thread its own connection)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from o2o.marketing import claims, redemption
from o2o.marketing.models import Coupon, CouponEvent
from o2o.orders.actors import By
from o2o.orders.pos_orders import pos_order_record
from tests.concurrency import race
from tests.factories import location, member, sku, staff
from tests.integration.marketing.support import template

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def redeemed(store, clerk) -> Coupon:  # noqa: ANN001
    c = claims.coupon_issue(template_id=template(threshold_fen=0).pk, member=member()[0], source="claim")
    return redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk)


def test_two_reverses_at_once_exactly_one_returns_the_coupon():
    assert connection.vendor == "postgresql"
    store = location()
    clerk_a, clerk_b = staff("clerk", loc=store)[0], staff("clerk", loc=store)[0]
    c = redeemed(store, clerk_a)
    results = race(*[(lambda u=u: redemption.coupon_reverse_at_counter(coupon_id=c.pk, store_id=store.pk,
                                                                       user_id=u.pk))
                     for u in (clerk_a, clerk_b, clerk_a, clerk_b)])
    won = [r for r in results if isinstance(r, tuple)]
    assert len(won) == 1 and won[0][1] is True and results.count("coupon_already_reversed") == 3
    assert Coupon.objects.get(pk=c.pk).status == "available"
    assert CouponEvent.objects.filter(coupon=c, kind="returned").count() == 1


def test_a_reverse_racing_a_second_redeem_leaves_history_and_state_consistent():
    store = location()
    clerk_a, clerk_b = staff("clerk", loc=store)[0], staff("clerk", loc=store)[0]
    for _ in range(4):
        c = redeemed(store, clerk_a)
        results = race(lambda c=c: redemption.coupon_reverse_at_counter(coupon_id=c.pk, store_id=store.pk,
                                                                        user_id=clerk_a.pk),
                       lambda c=c: redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk,
                                                                       user_id=clerk_b.pk))
        assert sum(isinstance(r, tuple) for r in results) == 1  # the reverse always wins its own race
        redeemed_again = any(isinstance(r, Coupon) for r in results)
        assert redeemed_again or "coupon_used" in results
        used = CouponEvent.objects.filter(coupon=c, kind="used").count()
        back = CouponEvent.objects.filter(coupon=c, kind="returned").count()
        status = Coupon.objects.get(pk=c.pk).status
        assert back == 1 and used == (2 if redeemed_again else 1)
        assert status == ("used" if redeemed_again else "available")


def test_two_coupons_on_one_receipt_at_once_only_one_is_taken():
    store = location()
    clerk, _ = staff("clerk", loc=store)
    m, _ = member()
    s = sku(price_fen=3000)
    coupons = [claims.coupon_issue(template_id=template(threshold_fen=0).pk, member=m, source="claim")
               for _ in range(4)]

    pos_order_record(location_id=store.pk, receipt_no="RACE-1", lines=[(s.pk, 2, 3000)], paid_fen=6000,
                     payment_method="cash", member_id=m.pk, occurred_at=timezone.now(), by=By(label="till"))
    results = race(*[(lambda c=c: redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk,
                                                                      user_id=clerk.pk, receipt_no="RACE-1"))
                     for c in coupons])
    assert sum(isinstance(r, Coupon) for r in results) == 1  # PRICING_POLICY max_coupons = 1
    assert results.count("coupon_not_applicable") == 3
    assert Coupon.objects.filter(used_order__external_ref="RACE-1", status="used").count() == 1
