"""Segment rules: checking (bad rules name the place) and evaluation against a direct reading."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2o.core.profile import RuleError, evaluate, parse_rule, tags_in_rule

GOLD_PICKUP_LAPSED = {"all": [{"tag": "tier", "eq": "gold"}, {"tag": "prefers_pickup", "eq": True},
                              {"tag": "days_since_last_purchase", "gte": 30}]}


def test_the_issue_example():
    member = {"tier": "gold", "prefers_pickup": True, "days_since_last_purchase": 45.0}
    assert evaluate(GOLD_PICKUP_LAPSED, member)
    assert not evaluate(GOLD_PICKUP_LAPSED, {**member, "days_since_last_purchase": 12.0})
    assert not evaluate(GOLD_PICKUP_LAPSED, {**member, "tier": "silver"})
    assert not evaluate(GOLD_PICKUP_LAPSED, {})  # no tags computed: not in the segment
    assert tags_in_rule(GOLD_PICKUP_LAPSED) == {"tier", "prefers_pickup", "days_since_last_purchase"}


def test_any_not_in_contains_exists():
    rule = {"any": [{"tag": "top_categories", "contains": "milk"},
                    {"not": {"tag": "tier", "in": ["normal", "silver"]}}]}
    assert evaluate(rule, {"top_categories": ["bread", "milk"], "tier": "normal"})
    assert evaluate(rule, {"top_categories": [], "tier": "diamond"})
    assert not evaluate(rule, {"top_categories": None, "tier": "silver"})
    assert evaluate({"tag": "department_shares", "contains": "dairy"}, {"department_shares": {"dairy": 0.5}})
    assert evaluate({"tag": "mean_interpurchase_days", "exists": False}, {"mean_interpurchase_days": None})
    assert evaluate({"tag": "last_purchase_date", "lt": "2024-02-01"}, {"last_purchase_date": "2024-01-31"})


@pytest.mark.parametrize(("rule", "path"), [
    ({"tag": "no_such_tag", "eq": 1}, "rule.tag"),
    ({"tag": "tier", "like": "g%"}, "rule"),
    ({"tag": "tier", "gt": 3}, "rule.gt"),  # not a numeric tag
    ({"tag": "orders_count", "gte": "3"}, "rule.gte"),
    ({"all": []}, "rule.all"),
    ({"all": [{"tag": "tier", "eq": "gold"}, {"tag": "tier", "eq": ["gold"]}]}, "rule.all[1].eq"),
    ({"tag": "tier", "in": []}, "rule.in"),
    ({"tag": "tier", "contains": "g"}, "rule.contains"),
    ({"tag": "tier", "exists": "yes"}, "rule.exists"),
    ({"all": [1]}, "rule.all[0]"),
    ({"all": [], "any": []}, "rule"),
    ({"xor": []}, "rule"),
    ([], "rule"),
])
def test_bad_rules_say_where(rule, path):
    with pytest.raises(RuleError) as err:
        parse_rule(rule)
    assert err.value.path == path


def test_depth_and_size_limits():
    deep = {"tag": "tier", "eq": "gold"}
    for _ in range(10):
        deep = {"not": deep}
    with pytest.raises(RuleError, match="deeper"):
        parse_rule(deep)
    with pytest.raises(RuleError, match="nodes"):
        parse_rule({"any": [{"tag": "orders_count", "gte": i} for i in range(300)]})


_OPS = {"eq": lambda a, b: a is not None and a == b, "ne": lambda a, b: a != b,
        "gt": lambda a, b: a is not None and a > b, "gte": lambda a, b: a is not None and a >= b,
        "lt": lambda a, b: a is not None and a < b, "lte": lambda a, b: a is not None and a <= b}


@given(st.lists(st.tuples(st.sampled_from(sorted(_OPS)), st.integers(0, 20)), min_size=1, max_size=6),
       st.one_of(st.none(), st.integers(0, 20)), st.booleans())
def test_evaluation_matches_a_direct_reading(leaves, value, use_all):
    rule = {"all" if use_all else "any": [{"tag": "orders_count", op: arg} for op, arg in leaves]}
    direct = [_OPS[op](value, arg) for op, arg in leaves]
    assert evaluate(rule, {"orders_count": value}) == (all(direct) if use_all else any(direct))
    assert evaluate({"not": rule}, {"orders_count": value}) != (all(direct) if use_all else any(direct))
