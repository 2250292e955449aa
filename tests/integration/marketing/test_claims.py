"""Issuing coupons: claims online, limits and budgets (held by the database), staff and nearby issuing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict, Forbidden
from o2o.marketing import claims, nearby
from o2o.marketing.models import Coupon, CouponEvent, CouponTemplate, MemberReach, TemplateStatus
from o2o.members.models import TierState
from tests.factories import location, member
from tests.integration.marketing.support import fixed_window, template

pytestmark = pytest.mark.django_db


def issue(t, m, source="claim"):  # noqa: ANN001, ANN201
    return claims.coupon_issue(template_id=t.pk, member=m, source=source)


def test_a_claim_gives_a_valid_coupon_with_a_checked_code_and_counts_the_budget():
    t = template(budget=5, valid_days=7)
    m, _ = member()
    c = issue(t, m)
    assert c.slot == 1 and c.status == "available" and len(c.code) == 16
    assert c.valid_until - c.valid_from == timedelta(days=7)
    t.refresh_from_db()
    assert t.issued == 1
    assert CouponEvent.objects.filter(coupon=c, kind="issued").count() == 1


def test_the_member_limit_holds_and_the_budget_is_not_spent_by_a_refused_claim():
    t = template(member_limit=2, budget=10)
    m, _ = member()
    issue(t, m)
    issue(t, m)
    with pytest.raises(Conflict) as e:
        issue(t, m)
    assert e.value.code == "coupon_limit_reached"
    t.refresh_from_db()
    assert t.issued == 2 and Coupon.objects.filter(template=t, member=m).count() == 2


def test_a_sold_out_campaign_issues_nothing_more_and_rolls_the_coupon_back():
    t = template(budget=2)
    for _ in range(2):
        issue(t, member()[0])
    late, _ = member()
    with pytest.raises(Conflict) as e:
        issue(t, late)
    assert e.value.code == "coupon_sold_out"
    assert not Coupon.objects.filter(member=late).exists()
    t.refresh_from_db()
    assert t.issued == t.budget == 2


@pytest.mark.parametrize(("change", "code"), [
    ({"status": TemplateStatus.PAUSED}, "coupon_campaign_inactive"),
    ({"claim_ends_at": timezone.now() - timedelta(minutes=1)}, "coupon_claim_ended"),
    ({"claim_starts_at": timezone.now() + timedelta(hours=1)}, "coupon_claim_not_started"),
])
def test_campaigns_outside_their_window_refuse(change, code):
    t = template(**change)
    with pytest.raises(Conflict) as e:
        issue(t, member()[0])
    assert e.value.code == code


def test_an_expired_fixed_validity_refuses_claims():
    now = timezone.now()
    t = template(valid_days=None, valid_from=now - timedelta(days=3), valid_until=now - timedelta(days=1))
    with pytest.raises(Conflict) as e:
        issue(t, member()[0])
    assert e.value.code == "coupon_campaign_expired"


def test_who_may_issue_and_the_tier_scope():
    only_staff = template(claimable=False)
    with pytest.raises(Forbidden) as e:
        issue(only_staff, member()[0])
    assert e.value.code == "coupon_not_claimable"
    no_staff = template(staff_issuable=False)
    with pytest.raises(Forbidden):
        issue(no_staff, member()[0], source="staff")
    gold_only = template(tiers=["gold", "diamond"])
    with pytest.raises(Forbidden) as e:
        issue(gold_only, member()[0])
    assert e.value.code == "coupon_tier_required"
    gold, _ = member()
    TierState.objects.create(member=gold, tier="gold")
    assert issue(gold_only, gold).member_id == gold.pk


def test_the_database_refuses_a_slot_past_the_limit_and_a_budget_overrun():
    t = template(budget=1, member_limit=1)
    m, _ = member()
    c = issue(t, m)
    with pytest.raises(IntegrityError), transaction.atomic():
        Coupon.objects.create(template=t, member=m, slot=2, member_limit=1, code="9" * 16, source="claim",
                              issued_at=c.issued_at, valid_from=c.valid_from, valid_until=c.valid_until)
    with pytest.raises(IntegrityError), transaction.atomic():
        CouponTemplate.objects.filter(pk=t.pk).update(issued=2)


def test_nearby_issues_to_members_whose_home_or_recent_place_is_within_the_radius():
    store = location(lat=31.2304, lng=121.4737)
    t = template(**fixed_window(), budget=100)
    near_home, _ = member()
    near_recent, _ = member()
    far, _ = member()
    stale, _ = member()
    now = timezone.now()
    nearby.reach_set(near_home.pk, lat=31.2400, lng=121.4737, kind="home")  # ~1.1 km north
    nearby.reach_set(near_recent.pk, lat=31.2304, lng=121.4990, kind="recent")  # ~2.4 km east
    nearby.reach_set(far.pk, lat=31.2304, lng=121.5300, kind="home")  # ~5.4 km
    nearby.reach_set(stale.pk, lat=31.2310, lng=121.4740, kind="recent",
                     now=now - timedelta(days=nearby.RECENT_DAYS + 1))
    dry = nearby.coupons_issue_nearby(template_id=t.pk, location_id=store.pk, radius_m=3000, by_user_id=None,
                                      dry_run=True)
    assert dry["reached"] == 2 and dry["issued"] == 0 and not Coupon.objects.exists()
    out = nearby.coupons_issue_nearby(template_id=t.pk, location_id=store.pk, radius_m=3000, by_user_id=None)
    assert out["issued"] == 2 and out["stopped"] is None
    assert set(Coupon.objects.values_list("member_id", flat=True)) == {near_home.pk, near_recent.pk}
    again = nearby.coupons_issue_nearby(template_id=t.pk, location_id=store.pk, radius_m=3000, by_user_id=None)
    assert again["issued"] == 0 and again["skipped"] == 2  # each already holds their one
    assert MemberReach.objects.count() == 4


def test_nearby_stops_when_the_budget_runs_out():
    store = location(lat=31.2304, lng=121.4737)
    t = template(budget=1)
    for dx in (0.001, 0.002, 0.003):
        m, _ = member()
        nearby.reach_set(m.pk, lat=31.2304 + dx, lng=121.4737, kind="home")
    out = nearby.coupons_issue_nearby(template_id=t.pk, location_id=store.pk, radius_m=3000, by_user_id=None)
    assert out["issued"] == 1 and out["stopped"] == "coupon_sold_out"
    with pytest.raises(ApiError) as e:
        nearby.coupons_issue_nearby(template_id=t.pk, location_id=store.pk, radius_m=0, by_user_id=None)
    assert e.value.code == "invalid_radius"
