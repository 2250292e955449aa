"""The member center (/shop/me) with real history: the points ledger's rows and a till (POS) receipt listed
among the member's orders with its channel."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from o2o.members.handlers import earn_for_order
from o2o.members.points import points_earn, points_spend
from o2o.orders.models import Order
from tests.e2e.orders.test_pos_orders import card_of
from tests.e2e.web.test_shop_helpers import by_testid, fresh_cache, sign_in
from tests.factories import member
from tests.integration.fulfilment.world import build, post

pytestmark = pytest.mark.django_db
__all__ = ["fresh_cache"]  # the autouse fixture


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def points_rows(html: str) -> list[tuple[str, int]]:
    """(kind label, points) of each row of the 积分明细 table, newest first."""
    section = re.search(r'<section[^>]*aria-labelledby="points-h">(.*?)</section>', html, re.S).group(1)
    body = re.search(r"<tbody>(.*?)</tbody>", section, re.S)
    if body is None:
        return []
    rows = re.findall(r"<tr><td>[^<]*</td><td>([^<]*)</td><td class=\"num\">(-?\d+)</td></tr>", body.group(1))
    return [(label, int(n)) for label, n in rows]


def test_points_history_rows_are_listed_newest_first(client):
    m, _ = member("积分会员")
    sign_in(client, m)
    html = client.get("/shop/me").content.decode()
    assert points_rows(html) == [] and "还没有积分" in html
    now = timezone.now()
    points_earn(m.pk, 300, "test:earn-1", now - timedelta(minutes=2))
    points_earn(m.pk, 120, "test:earn-2", now - timedelta(minutes=1))
    points_spend(m.pk, 100, "test:spend-1", now)
    html = client.get("/shop/me").content.decode()
    rows = points_rows(html)
    assert [label for label, _ in rows] == ["使用", "获得", "获得"]
    assert sorted(abs(n) for _, n in rows) == [100, 120, 300]
    assert by_testid(html, "points-available") == "320"
    assert "还没有积分" not in html and "将于" in html  # the soonest lot's expiry is told


def test_a_till_receipt_shows_among_the_orders_with_its_channel_and_earns_points(client, w):
    m, _ = member("门店会员")
    body = {"location_id": w.a.pk, "receipt_no": "R-WEB-1", "paid_fen": 4500, "payment_method": "cash",
            "member_card": card_of(m), "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
            "member_id": None, "lines": [{"sku_id": w.s1.pk, "qty": 2, "unit_price_fen": 2250}]}
    r = post(client, "/api/v1/pos/orders", body, w.clerk_a)
    assert r.status_code == 201, r.content
    order = Order.objects.get(pk=r.json()["id"])
    assert order.channel == "pos" and order.member_id == m.pk
    earned = earn_for_order(order, timezone.now())  # what the outbox handler does once the order completes
    assert earned > 0

    sign_in(client, m)
    html = client.get("/shop/me").content.decode()
    row = re.search(rf'<li class="order-row" data-testid="order-row-{order.pk}">(.*?)</li>', html, re.S)
    assert row, "the POS order is not listed on /shop/me"
    text = re.sub(r"<[^>]+>", " ", row.group(1))
    assert order.number in text and "门店 POS" in text and "45.00" in text
    assert "已完成" in text
    assert ("获得", earned) in points_rows(html)
    page = client.get(f"/shop/orders/{order.pk}")
    assert page.status_code == 200 and order.number in page.content.decode()


def test_another_members_till_receipt_is_not_listed(client, w):
    a, _ = member("A")
    b, _ = member("B")
    body = {"location_id": w.a.pk, "receipt_no": "R-WEB-2", "paid_fen": 1000, "payment_method": "cash",
            "member_card": card_of(a), "occurred_at": (timezone.now() - timedelta(minutes=5)).isoformat(),
            "member_id": None, "lines": [{"sku_id": w.s1.pk, "qty": 1, "unit_price_fen": 1000}]}
    r = post(client, "/api/v1/pos/orders", body, w.clerk_a)
    assert r.status_code == 201, r.content
    sign_in(client, b)
    html = client.get("/shop/me").content.decode()
    assert r.json()["number"] not in html and "还没有订单" in html
    assert client.get(f"/shop/orders/{r.json()['id']}").status_code == 404
