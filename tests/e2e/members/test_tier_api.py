"""The tiers API: a member's own tier, staff look-up with object-level access, HQ's manual set."""

from __future__ import annotations

import pytest

from o2o.members.handlers import on_order_event
from o2o.members.models import TierHistory, TierState
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import pos_order
from tests.factories import assert_error, auth, member, staff
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def shopper(w):
    """A member who spent ¥1,200.00 at store A's till: silver, ¥3,800.00 short of gold."""
    m, token = member()
    pos_order(w.a, "TIER-API-1", [(w.s1, 2, 60_000)], 120_000, member=m)
    events_relay(handlers=[on_order_event])
    return m, token


def test_member_sees_tier_benefits_progress_and_history(client, shopper):
    m, token = shopper
    r = client.get("/api/v1/members/me/tier", **auth(token))
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["member_id"], body["tier"], body["label"], body["label_en"]) == (m.pk, "silver", "白银会员",
                                                                                  "Silver member")
    assert body["benefits"] == {"discount_percent": 2, "free_delivery": False, "free_installation": False,
                                "dedicated_service": False}
    assert body["basis"] == "spend_12m" and body["spend_12m_fen"] == body["value"] == 120_000
    assert body["progress"] == {"next_tier": "gold", "next_label": "黄金会员", "next_label_en": "Gold member",
                                "threshold": 500_000, "remaining": 380_000, "share": 0.24}
    assert body["protected_until"].endswith("+08:00")
    assert [(h["from_tier"], h["to_tier"], h["reason"]) for h in body["history"]] == [("normal", "silver", "upgrade")]
    assert [t["tier"] for t in body["tiers"] if t["current"]] == ["silver"]


def test_a_new_member_is_normal_with_no_history(client):
    _, token = member()
    body = client.get("/api/v1/members/me/tier", **auth(token)).json()
    assert (body["tier"], body["since"], body["history"], body["progress"]["remaining"]) == ("normal", None, [],
                                                                                             100_000)
    assert_error(client.get("/api/v1/members/me/tier"), 401)


def test_staff_lookup_is_limited_to_their_stores(client, w, shopper):
    m, token = shopper
    url = f"/api/v1/members/{m.pk}/tier"
    assert client.get(url, **auth(w.admin)).json()["tier"] == "silver"  # HQ
    assert client.get(url, **auth(w.clerk_a)).json()["tier"] == "silver"  # where they shopped
    assert client.get(url, **auth(w.mgr_east)).status_code == 200  # its region
    assert_error(client.get(url, **auth(w.clerk_c)), 404, "unknown_member")  # another store
    assert_error(client.get(url, **auth(w.mgr_west)), 404)
    assert_error(client.get(url, **auth(token)), 403)  # members use /me, even for their own id
    _, other_token = member()
    assert_error(client.get(url, **auth(other_token)), 403)
    assert_error(client.get("/api/v1/members/99999999/tier", **auth(w.admin)), 404)


def test_hq_sets_a_tier_by_hand_with_a_reason(client, w, shopper):
    m, _ = shopper
    url = f"/api/v1/members/{m.pk}/tier"
    r = post(client, url, {"tier": "diamond", "reason": "大客户 key account"}, w.admin)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["tier"] == "diamond" and body["benefits"]["dedicated_service"] is True and body["progress"] is None
    assert (body["history"][0]["reason"], body["history"][0]["to_tier"]) == ("manual", "diamond")
    row = TierHistory.objects.get(member=m, reason="manual")
    assert "大客户" in row.note and row.by_user_id is not None
    assert_error(post(client, url, {"tier": "diamond", "reason": "again"}, w.admin), 409, "tier_unchanged")


def test_only_hq_admins_set_tiers(client, w, shopper):
    m, token = shopper
    url = f"/api/v1/members/{m.pk}/tier"
    body = {"tier": "gold", "reason": "试试 trying"}
    assert_error(post(client, url, body, w.clerk_a), 403)  # the member's own store
    assert_error(post(client, url, body, w.clerk_c), 403)
    assert_error(post(client, url, body, w.mgr_east), 403)
    assert_error(post(client, url, body, staff("customer_service")[1]), 403)  # HQ scope, not an admin
    assert_error(post(client, url, body, token), 403)
    assert_error(post(client, url, body, None), 401)
    assert TierState.objects.get(member=m).tier == "silver"


@pytest.mark.parametrize("bad", [
    {"tier": "platinum", "reason": "x y"},
    {"tier": "gold"},
    {"tier": "gold", "reason": ""},
    {"tier": "gold", "reason": "x" * 201},
    {"tier": 3, "reason": "x y"},
])
def test_bad_input_is_422_with_the_error_shape(client, w, shopper, bad):
    m, _ = shopper
    assert_error(post(client, f"/api/v1/members/{m.pk}/tier", bad, w.admin), 422)
    assert TierHistory.objects.filter(member=m, reason="manual").count() == 0


def test_a_blank_reason_an_unknown_member_and_a_body_that_is_not_json(client, w, shopper):
    m, _ = shopper
    assert_error(post(client, f"/api/v1/members/{m.pk}/tier", "not json", w.admin), 400, "malformed_request")
    assert_error(post(client, f"/api/v1/members/{m.pk}/tier", {"tier": "gold", "reason": "   "}, w.admin), 422,
                 "reason_required")
    assert_error(post(client, "/api/v1/members/99999999/tier", {"tier": "gold", "reason": "x y"}, w.admin), 404)
