"""Automatic coupons: new members, tier benefits, birthdays; a second run the same day issues nothing more."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.core.loyalty import CHINA_TZ
from o2o.marketing.auto import coupons_issue_auto
from o2o.marketing.models import Coupon, MemberReach
from o2o.members.models import TierState
from tests.factories import member
from tests.integration.marketing.support import template

pytestmark = pytest.mark.django_db


def test_new_members_tiers_and_birthdays_get_their_coupon_once():
    now = timezone.now()
    fresh, _ = member()
    old, _ = member()
    Member.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=30))
    gold, _ = member()
    Member.objects.filter(pk=gold.pk).update(created_at=now - timedelta(days=30))
    TierState.objects.create(member=gold, tier="gold")
    today = now.astimezone(CHINA_TZ).date()
    MemberReach.objects.create(member=old, birthday=date(2000, today.month, today.day))  # 2000: a leap year
    welcome = template(auto_on="new_member", claimable=False, code="welcome")
    tier = template(auto_on="tier", tiers=["gold", "diamond"], claimable=False, code="gold-benefit")
    bday = template(auto_on="birthday", claimable=False, member_limit=50, code="bday")
    out = coupons_issue_auto(now)
    assert out["welcome"]["issued"] == 1
    assert set(Coupon.objects.filter(template=tier).values_list("member_id", flat=True)) == {gold.pk}
    assert set(Coupon.objects.filter(template=bday).values_list("member_id", flat=True)) == {old.pk}
    assert set(Coupon.objects.filter(template=welcome).values_list("member_id", flat=True)) == {fresh.pk}
    before = Coupon.objects.count()
    call_command("issue-auto-coupons")
    assert Coupon.objects.count() == before  # the same day again: nothing more
    assert all(c.source in {"new_member", "tier", "birthday"} for c in Coupon.objects.all())
