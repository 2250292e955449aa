"""HQ edits the tier rules in the admin: the policy (and checkout's tier discount) follows at once; a rule that
would break the policy (thresholds not rising) is refused beside the form; the marketing admin pages render."""

from __future__ import annotations

import pytest

from o2o.accounts.models import User
from o2o.core.loyalty import Tier
from o2o.members.models import TierRule, TierState
from o2o.members.pricing_steps import tier_terms
from o2o.members.tiers import tier_policy
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def hq(client):
    user = User.objects.create(username="hq-admin", is_staff=True, is_superuser=True, role="hq_admin", scope="hq")
    client.force_login(user)
    return client


def form(tier: str, threshold: int, percent: int, **flags) -> dict:  # noqa: ANN003
    return {"tier": tier, "threshold": threshold, "discount_percent": percent,
            **{k: "on" for k, v in flags.items() if v}}


def test_a_tier_rule_changes_the_policy_and_the_discount(hq):
    m, _ = member()
    TierState.objects.create(member=m, tier="gold")
    before = tier_policy()
    assert before.benefits[Tier.GOLD].discount_percent == 5
    r = hq.post("/admin/members/tierrule/add/", form("gold", 300_000, 12, free_delivery=True))
    assert r.status_code == 302, r.content.decode()[:2000]
    policy = tier_policy()
    assert policy.thresholds[Tier.GOLD] == 300_000 and policy.benefits[Tier.GOLD].discount_percent == 12
    assert tier_terms(m.pk)[2] == 12  # what checkout prices with
    assert TierRule.objects.get().updated_by.username == "hq-admin"


def test_a_rule_breaking_the_policy_is_refused_beside_the_form(hq):
    r = hq.post("/admin/members/tierrule/add/", form("silver", 9_000_000, 2))  # above gold: not rising
    assert r.status_code == 200 and not TierRule.objects.exists()
    assert "errornote" in r.content.decode() or "errorlist" in r.content.decode()
    tier_policy()  # the live policy is untouched and valid


def test_marketing_and_member_admin_pages_render(hq):
    for model in ("members/tierrule", "members/tierstate", "members/tierhistory", "marketing/promotion",
                  "marketing/coupontemplate", "marketing/coupon", "marketing/couponevent", "experiments/experiment",
                  "groupbuy/groupdeal", "notifications/notification"):
        r = hq.get(f"/admin/{model}/")
        assert r.status_code == 200, model
        assert hq.get(f"/admin/{model}/add/").status_code in (200, 403), model
