"""The points API: a member's own points, staff lookup with object-level access, the deduction quote."""

from __future__ import annotations

import pytest

from o2o.members.handlers import on_order_event
from o2o.orders.models import Order
from o2o.outbox.services import events_relay
from tests.e2e.orders.test_returns_support import completed_order
from tests.factories import assert_error, auth, member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def shopper(w):
    m, token = member()
    order = completed_order(w, m, [(w.s1, 3)])  # picked up at store A
    events_relay(handlers=[on_order_event])
    return m, token, Order.objects.get(pk=order.pk)


def test_member_sees_their_points_and_lots(client, shopper):
    m, token, order = shopper
    r = client.get("/api/v1/members/me/points", **auth(token))
    assert r.status_code == 200, r.content
    body = r.json()
    earned = order.paid_fen // 100
    assert body["member_id"] == m.pk and body["balance"] == earned == body["available"] == body["net"]
    assert [lot["ref"] for lot in body["lots"]] == [f"order:{order.pk}"]
    assert body["lots"][0]["expires_at"].endswith("+08:00") and body["lots"][0]["expired"] is False
    assert [(e["kind"], e["points"]) for e in body["entries"]] == [("earn", earned)]


def test_a_new_member_has_zero(client):
    _, token = member()
    body = client.get("/api/v1/members/me/points", **auth(token)).json()
    assert (body["balance"], body["lots"], body["entries"]) == (0, [], [])


def test_deduction_quote_is_capped_at_half_the_order(client, shopper):
    _, token, order = shopper
    earned = order.paid_fen // 100
    r = post(client, "/api/v1/members/me/points/deduction-quote", {"order_total_fen": 10_000}, token)
    assert r.status_code == 200, r.content
    assert r.json()["points"] == r.json()["fen"] == min(earned, 5_000)
    small = post(client, "/api/v1/members/me/points/deduction-quote", {"order_total_fen": 10}, token).json()
    assert small["points"] == 5  # 50 % of 10 fen, at 100 points per yuan
    assert_error(post(client, "/api/v1/members/me/points/deduction-quote", {"order_total_fen": -1}, token), 422)
    assert_error(post(client, "/api/v1/members/me/points/deduction-quote", {"order_total_fen": 10}, None), 401)


def test_staff_lookup_is_limited_to_their_stores(client, w, shopper):
    m, token, order = shopper
    url = f"/api/v1/members/{m.pk}/points"
    assert client.get(url, **auth(w.admin)).json()["balance"] == order.paid_fen // 100  # HQ
    assert client.get(url, **auth(w.clerk_a)).status_code == 200  # the store where they shopped
    assert client.get(url, **auth(w.mgr_east)).status_code == 200  # its region
    assert_error(client.get(url, **auth(w.clerk_c)), 404)  # another store: the member is not theirs
    assert_error(client.get(url, **auth(w.mgr_west)), 404)
    assert_error(client.get(url, **auth(token)), 403)  # members use /me
    other, other_token = member()
    assert_error(client.get(url, **auth(other_token)), 403)
    assert_error(client.get("/api/v1/members/99999999/points", **auth(w.admin)), 404)
