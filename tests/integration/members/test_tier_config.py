"""O2O["TIERS"]: defaults, partial overrides merged per tier, bad configuration refused (bilingual). These read
the settings alone (`tier_policy([])`: no TierRule rows; the admin's rows are tested in tests/e2e/web)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from o2o.core.loyalty import DEFAULT_TIER_POLICY, Basis, Benefits, Tier
from o2o.members.pricing_steps import zhe
from o2o.members.tiers import growth_per_yuan, tier_policy


@pytest.fixture
def tiers(settings):
    def set_(value) -> None:  # noqa: ANN001
        settings.O2O = {**settings.O2O, "TIERS": value}
    return set_


def test_defaults_are_the_core_example(tiers):
    tiers({})
    p = tier_policy([])
    assert dict(p.thresholds) == dict(DEFAULT_TIER_POLICY.thresholds)
    assert dict(p.benefits) == dict(DEFAULT_TIER_POLICY.benefits)
    assert p.basis is Basis.SPEND_12M and p.protection_months == 12
    assert growth_per_yuan() == 1


def test_overrides_merge_per_tier_and_per_key(tiers):
    tiers({"BASIS": "growth", "THRESHOLDS": {"silver": 500, "gold": 2_000, "diamond": 9_000},
           "BENEFITS": {"gold": {"discount_percent": 10}, "silver": {"free_installation": True}},
           "PROTECTION_MONTHS": 6, "GROWTH_PER_YUAN": 2})
    p = tier_policy([])
    assert p.basis is Basis.GROWTH and p.protection_months == 6 and growth_per_yuan() == 2
    assert p.thresholds[Tier.NORMAL] == 0 and p.thresholds[Tier.GOLD] == 2_000
    assert p.benefits[Tier.GOLD] == Benefits(discount_percent=10, free_delivery=True)  # default kept
    assert p.benefits[Tier.SILVER] == Benefits(discount_percent=2, free_installation=True)
    assert p.benefits[Tier.DIAMOND] == DEFAULT_TIER_POLICY.benefits[Tier.DIAMOND]


@pytest.mark.parametrize("bad", [
    {"THRESHOLDS": {"silver": 600_000}},  # above gold: not increasing
    {"THRESHOLDS": {"normal": 1}},
    {"THRESHOLDS": {"platinum": 1}},
    {"THRESHOLDS": {"silver": "1000"}},
    {"BENEFITS": {"gold": {"discount_percent": 101}}},
    {"BENEFITS": {"gold": {"discount_percent": 5.5}}},
    {"BENEFITS": {"gold": {"free_delivery": "yes"}}},
    {"BENEFITS": {"gold": {"cashback": 1}}},
    {"BENEFITS": {"gold": 5}},
    {"BASIS": "lifetime"},
    {"PROTECTION_MONTHS": -1},
    {"THRESHOLD": {}},  # a typo is not silently ignored
    ["not", "a", "dict"],
])
def test_bad_configuration_is_refused(tiers, bad):
    tiers(bad)
    with pytest.raises(ImproperlyConfigured, match="O2O\\['TIERS'\\]"):
        tier_policy([])


def test_bad_growth_rate_is_refused(tiers):
    tiers({"GROWTH_PER_YUAN": -1})
    with pytest.raises(ImproperlyConfigured):
        growth_per_yuan()


@pytest.mark.parametrize(("percent", "text"), [(5, "95折"), (2, "98折"), (10, "9折"), (15, "85折"), (8, "92折")])
def test_discount_wording(percent, text):
    assert zhe(percent) == text
