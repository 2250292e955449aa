"""PostgreSQL: the coupon limits under real concurrency (each thread on its own connection)."""

from __future__ import annotations

import pytest
from django.db import connection

from o2o.marketing import claims, redemption
from o2o.marketing.models import Coupon, CouponEvent, CouponTemplate
from tests.concurrency import race
from tests.factories import location, member, staff
from tests.integration.marketing.support import template

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_64_members_claiming_the_last_10_coupons_get_exactly_10():
    assert connection.vendor == "postgresql"
    t = template(budget=10)
    members = [member()[0] for _ in range(64)]
    results = race(*[(lambda m=m: claims.coupon_issue(template_id=t.pk, member=m, source="claim"))
                     for m in members])
    won = [r for r in results if isinstance(r, Coupon)]
    assert len(won) == 10 and results.count("coupon_sold_out") == 54
    t.refresh_from_db()
    assert t.issued == 10 == Coupon.objects.filter(template=t).count()
    assert len({c.member_id for c in won}) == 10


def test_one_member_claiming_twice_at_once_gets_one():
    t = template(budget=100, member_limit=1)
    m, _ = member()
    results = race(*[(lambda: claims.coupon_issue(template_id=t.pk, member=m, source="claim")) for _ in range(6)])
    assert sum(isinstance(r, Coupon) for r in results) == 1
    assert results.count("coupon_limit_reached") == 5
    t.refresh_from_db()
    assert t.issued == 1 == Coupon.objects.filter(template=t, member=m).count()


def test_a_limit_of_two_holds_under_parallel_claims():
    t = template(member_limit=2)
    m, _ = member()
    results = race(*[(lambda: claims.coupon_issue(template_id=t.pk, member=m, source="claim")) for _ in range(8)])
    assert sum(isinstance(r, Coupon) for r in results) == 2
    assert sorted(Coupon.objects.filter(template=t, member=m).values_list("slot", flat=True)) == [1, 2]
    assert CouponTemplate.objects.get(pk=t.pk).issued == 2


def test_double_redeem_of_one_coupon_exactly_one_succeeds():
    store = location()
    clerk_a, _ = staff("clerk", loc=store)
    clerk_b, _ = staff("clerk", loc=store)
    t = template(threshold_fen=0)  # no receipt needed at the counter
    c = claims.coupon_issue(template_id=t.pk, member=member()[0], source="claim")
    results = race(lambda: redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk_a.pk),
                   lambda: redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk_b.pk))
    assert sum(isinstance(r, Coupon) for r in results) == 1 and results.count("coupon_used") == 1
    assert CouponEvent.objects.filter(coupon=c, kind="used").count() == 1
