"""The profiles API over HTTP: who sees whose tags, segments for marketing, bad rules -> 422."""

from __future__ import annotations

import pytest

from o2o.profiles import services
from tests.factories import assert_error, auth, location, staff
from tests.integration.profiles.world import AS_OF, build

pytestmark = pytest.mark.django_db

RULE = {"all": [{"tag": "tier", "eq": "gold"}, {"tag": "prefers_pickup", "eq": True},
                {"tag": "days_since_last_purchase", "gte": 30}]}


@pytest.fixture
def world():
    w = build()
    services.tags_compute(as_of=AS_OF)
    return w


def test_a_member_sees_only_their_visible_tags(client, world):
    r = client.get("/api/v1/members/me/tags", **auth(world["gold_tok"]))
    assert r.status_code == 200, r.content
    body = r.json()
    names = {t["name"] for t in body["tags"]}
    assert body["member_id"] == world["gold"].pk and "orders_count" in names and "tier" in names
    assert not names & {"churn_risk", "p_alive", "clv_12m_fen", "rfm_segment", "price_sensitivity"}
    assert all(t["visible"] and t["explanation"] for t in body["tags"])


def test_members_cannot_read_another_members_tags(client, world):
    assert_error(client.get(f"/api/v1/members/{world['casual'].pk}/tags", **auth(world["gold_tok"])), 403)


def test_store_staff_see_their_stores_members_only(client, world):
    _, clerk_s1 = staff("clerk", loc=world["s1"])
    r = client.get(f"/api/v1/members/{world['gold'].pk}/tags", **auth(clerk_s1))
    assert r.status_code == 200 and any(t["name"] == "churn_risk" for t in r.json()["tags"])
    # casual shops at s2 only: a clerk of s1 learns nothing (404, as for points)
    assert_error(client.get(f"/api/v1/members/{world['casual'].pk}/tags", **auth(clerk_s1)), 404, "unknown_member")
    _, clerk_elsewhere = staff("clerk", loc=location())
    assert_error(client.get(f"/api/v1/members/{world['gold'].pk}/tags", **auth(clerk_elsewhere)), 404)
    _, hq = staff("hq_admin")
    assert client.get(f"/api/v1/members/{world['casual'].pk}/tags", **auth(hq)).status_code == 200
    assert_error(client.get("/api/v1/members/999999/tags", **auth(hq)), 404)


def test_marketing_saves_a_segment_and_lists_its_members(client, world):
    _, mkt = staff("marketing")
    r = client.post("/api/v1/segments", {"name": "金卡自提流失", "rule": RULE}, content_type="application/json",
                    **auth(mkt))
    assert r.status_code == 201, r.content
    seg_id = r.json()["id"]
    assert [s["id"] for s in client.get("/api/v1/segments", **auth(mkt)).json()] == [seg_id]
    r = client.get(f"/api/v1/segments/{seg_id}/members?limit=5", **auth(mkt))
    assert r.status_code == 200 and r.json()["count"] == 1
    assert r.json()["members"][0]["member_id"] == world["gold"].pk
    again = client.post("/api/v1/segments", {"name": "金卡自提流失", "rule": RULE},
                        content_type="application/json", **auth(mkt))
    assert_error(again, 409, "segment_exists")
    assert_error(client.get("/api/v1/segments/999999/members", **auth(mkt)), 404, "unknown_segment")


@pytest.mark.parametrize("rule", [
    {"tag": "no_such_tag", "eq": 1},
    {"all": [{"tag": "tier", "gt": 3}]},
    {"any": []},
    {"tag": "orders_count", "between": [1, 2]},
])
def test_a_bad_rule_is_422_with_the_error_shape(client, world, rule):
    _, mkt = staff("marketing")
    r = client.post("/api/v1/segments", {"name": "bad", "rule": rule}, content_type="application/json", **auth(mkt))
    body = assert_error(r, 422, "invalid_segment_rule")
    assert body["details"]["path"].startswith("rule")


def test_bad_input_and_who_may_use_segments(client, world):
    _, mkt = staff("marketing")
    assert_error(client.post("/api/v1/segments", {"name": "x", "rule": "tier=gold"}, content_type="application/json",
                             **auth(mkt)), 422, "invalid")
    assert_error(client.get("/api/v1/segments/1/members?limit=0", **auth(mkt)), 422)
    _, clerk = staff("clerk", loc=world["s1"])
    assert_error(client.post("/api/v1/segments", {"name": "x", "rule": RULE}, content_type="application/json",
                             **auth(clerk)), 403)
    assert_error(client.get("/api/v1/segments", **auth(world["gold_tok"])), 403)
    _, store_mkt = staff("marketing", loc=world["s1"])  # segments are chain-wide: HQ scope only
    assert_error(client.get("/api/v1/segments", **auth(store_mkt)), 403)
    assert_error(client.get("/api/v1/segments"), 401)
