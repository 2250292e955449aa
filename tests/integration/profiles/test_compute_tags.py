"""compute-tags on a small database world: every member gets every tag, from orders of all channels."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from o2o.core.profile import SPECS
from o2o.profiles import selectors, services
from o2o.profiles.models import MemberTag, Segment
from tests.integration.profiles.world import AS_OF, build

pytestmark = pytest.mark.django_db


def _tags(m) -> dict:  # noqa: ANN001
    return {t.name: t.value for t in MemberTag.objects.filter(member=m)}


def test_compute_tags_stores_every_tag_of_every_member():
    w = build()
    out = services.tags_compute(as_of=AS_OF)
    assert out["members"] == 3 and out["tags"] == 3 * len(SPECS)
    assert MemberTag.objects.count() == 3 * len(SPECS)
    gold = _tags(w["gold"])
    assert gold["orders_count"] == 10 and gold["spend_total_fen"] == 10 * (4 * 20000 - 5000 + 2 * 1500)
    assert gold["tier"] == "gold"  # 12-month spend ¥7,800 >= ¥5,000
    assert gold["prefers_pickup"] is True and gold["preferred_store"] == str(w["s1"].pk)
    assert gold["preferred_channel"] == "mini_program" and gold["top_category"] == "葡萄酒"
    assert gold["top_department"] == "食品" and gold["days_since_last_purchase"] == 40.0
    assert gold["mean_interpurchase_days"] == 14.0
    casual = _tags(w["casual"])
    assert casual["omnichannel"] is True and casual["preferred_store"] == str(w["s2"].pk)
    assert casual["delivery_share"] == pytest.approx(1 / 3, abs=1e-3) and casual["counter_share"] > 0.6
    assert casual["prefers_delivery"] is True and casual["price_sensitivity"] in {"low", "medium", "high"}
    idle = _tags(w["idle"])
    assert idle["orders_count"] is None and idle["lifecycle_stage"] == "prospect"
    assert all(t.explanation for t in MemberTag.objects.all())


def test_recompute_replaces_values_and_keeps_one_row_per_tag():
    w = build()
    services.tags_compute(as_of=AS_OF)
    first = MemberTag.objects.get(member=w["gold"], name="days_since_last_purchase")
    services.tags_compute(as_of=AS_OF.replace(day=20, month=7))
    again = MemberTag.objects.get(member=w["gold"], name="days_since_last_purchase")
    assert again.pk == first.pk and again.value == 60.0
    assert MemberTag.objects.count() == 3 * len(SPECS)


def test_the_command_prints_a_summary():
    build()
    buf = StringIO()
    call_command("compute-tags", "--as-of", AS_OF.isoformat(), stdout=buf)
    summary = json.loads(buf.getvalue())
    assert summary["members"] == 3 and summary["lines"] == 23


def test_segment_query_matches_the_rule():
    w = build()
    services.tags_compute(as_of=AS_OF)
    seg = services.segment_create(name="金卡自提流失", rule={"all": [
        {"tag": "tier", "eq": "gold"}, {"tag": "prefers_pickup", "eq": True},
        {"tag": "days_since_last_purchase", "gte": 30}]})
    assert selectors.segment_member_ids(seg) == [w["gold"].pk]
    recent = Segment.objects.create(name="recent", rule={"tag": "days_since_last_purchase", "lt": 30})
    assert selectors.segment_member_ids(recent) == [w["casual"].pk]
    never = Segment.objects.create(name="never", rule={"tag": "orders_count", "exists": False})
    page = selectors.segment_members(never, limit=10)
    assert page["count"] == 1 and page["members"][0]["member_id"] == w["idle"].pk
