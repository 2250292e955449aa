"""The demo seeds birthdays for some demo members (a few born today) and the birthday campaign, whose
coupons it issues at once; a second seed moves no birthday and issues nothing more (reads ../shared/data)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from o2o.core.loyalty import CHINA_TZ
from o2o.demo.marketing_seed import (
    BIRTHDAY_EVERY,
    BIRTHDAYS_TODAY,
    DEMO_MEMBERS,
    MEMBER_PREFIX,
    seed_marketing,
)
from o2o.marketing.models import Coupon, CouponTemplate, MemberReach

pytestmark = pytest.mark.django_db


def test_the_demo_has_birthdays_and_todays_get_their_coupon_once():
    out = seed_marketing()
    if out["members"] == 0:
        pytest.fail("the demo members need ../shared/data (POIs)")
    demo = MemberReach.objects.filter(member__display_name__startswith=MEMBER_PREFIX)
    born = dict(demo.filter(birthday__isnull=False).values_list("member_id", "birthday"))
    expected = -(-DEMO_MEMBERS // BIRTHDAY_EVERY)
    assert out["birthdays"] == len(born) == expected
    today = timezone.now().astimezone(CHINA_TZ).date()
    today_ids = {m for m, d in born.items() if (d.month, d.day) == (today.month, today.day)}
    assert len(today_ids) >= BIRTHDAYS_TODAY
    assert all(1960 <= d.year <= 2005 for d in born.values())
    t = CouponTemplate.objects.get(code="birthday-gift")
    assert t.auto_on == "birthday" and not t.claimable
    assert set(Coupon.objects.filter(template=t).values_list("member_id", flat=True)) == today_ids
    assert out["birthday_issued"] == len(today_ids)
    again = seed_marketing()
    assert again["birthdays"] == 0 and again["birthday_issued"] == 0
    assert dict(demo.filter(birthday__isnull=False).values_list("member_id", "birthday")) == born
    assert Coupon.objects.filter(template=t).count() == len(today_ids)
