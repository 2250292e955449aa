"""Using coupons at the counter (核销): once, only in scope, logged; giving them back when an order fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.common.errors import Conflict, Forbidden, NotFound
from o2o.marketing import claims, codes, redemption
from o2o.marketing.models import Coupon, CouponEvent
from tests.factories import location, member, staff
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


def coupon_for(**kw):  # noqa: ANN003, ANN201
    t = template(**kw)
    return claims.coupon_issue(template_id=t.pk, member=member()[0], source="claim")


def test_a_coupon_is_redeemed_once_at_the_counter_with_the_clerk_and_store_logged():
    store = location()
    clerk, _ = staff("clerk", loc=store)
    c = coupon_for(threshold_fen=0)  # a threshold needs the sale's receipt at the counter (test_counter_*)
    typed = " ".join(c.code[i:i + 4] for i in range(0, 16, 4))  # as printed
    used = redemption.coupon_redeem_at_counter(code=typed, store_id=store.pk, user_id=clerk.pk)
    assert used.status == "used" and used.used_store_id == store.pk and used.used_by_id == clerk.pk
    assert used.used_channel == "counter"
    ev = CouponEvent.objects.get(coupon=c, kind="used")
    assert ev.user_id == clerk.pk and ev.store_id == store.pk
    with pytest.raises(Conflict) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=clerk.pk)
    assert e.value.code == "coupon_used"


def test_a_store_scoped_coupon_is_refused_at_another_store():
    mine, other = location(), location()
    c = coupon_for(stores=[mine])
    with pytest.raises(Forbidden) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=other.pk, user_id=staff("clerk", loc=other)[0].pk)
    assert e.value.code == "coupon_not_valid_here"
    c.refresh_from_db()
    assert c.status == "available"


@pytest.mark.parametrize(("kw", "code"), [
    ({"redeem_offline": False}, "coupon_online_only"),
    ({"channels": ["h5", "mini_program"]}, "coupon_online_only"),
])
def test_online_only_coupons_are_refused_at_the_counter(kw, code):
    store = location()
    c = coupon_for(**kw)
    with pytest.raises(Conflict) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=staff("clerk", loc=store)[0].pk)
    assert e.value.code == code


def test_expired_and_mistyped_codes():
    store = location()
    c = coupon_for()
    Coupon.objects.filter(pk=c.pk).update(valid_from=timezone.now() - timedelta(days=2),
                                          valid_until=timezone.now() - timedelta(seconds=1))
    with pytest.raises(Conflict) as e:
        redemption.coupon_redeem_at_counter(code=c.code, store_id=store.pk, user_id=staff("clerk", loc=store)[0].pk)
    assert e.value.code == "coupon_expired"
    wrong_digit = c.code[:-1] + str((int(c.code[-1]) + 1) % 10)
    assert codes.normalize(wrong_digit) is None
    with pytest.raises(NotFound):
        redemption.coupon_by_code(wrong_digit)
    full_width = "".join(chr(0xFF10 + int(d)) for d in c.code)
    assert redemption.coupon_by_code(full_width).pk == c.pk

