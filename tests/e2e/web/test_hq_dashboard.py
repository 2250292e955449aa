"""The HQ dashboard (/hq/): figures that match the orders made here, who may see it, and the region filter."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from o2o.accounts.models import User
from o2o.members.models import PointsAccount
from o2o.orders.store_work import shipment_mark_ready
from tests.e2e.orders.test_returns_support import CLERK, paid_order, placed_order
from tests.factories import member
from tests.integration.fulfilment.world import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    world = build(monkeypatch)
    mem, _ = member()
    PointsAccount.objects.create(member=mem)
    on_time = paid_order(world, mem, [(world.s1, 1)], choice="pickup")
    late = paid_order(world, mem, [(world.s2, 1)], choice="pickup", pickup=world.b)
    # Ready times relative to each shipment's own promise (placing reads the wall clock, not the world's
    # fixed 10:00: after midnight the world's "now" lay after the promise and the on-time pickup was late).
    first, second = on_time.shipments.get(), late.shipments.get()
    shipment_mark_ready(first.pk, CLERK, pick_all=True, now=first.eta_latest - timedelta(minutes=1))
    shipment_mark_ready(second.pk, CLERK, pick_all=True, now=second.eta_latest + timedelta(days=1))
    paid_order(world, mem, [(world.s1, 1)], choice="fastest")  # same city from a store nearby
    placed_order(world, mem, [(world.s2, 1)], choice="pickup")  # never paid: not counted
    return world


def user(role: str, scope: str, **where) -> User:  # noqa: ANN003
    """A staff user without a password (nothing to hash): the test client signs in with force_login."""
    return User.objects.create(username=f"{role}-{User.objects.count()}", role=role, scope=scope, **where)


def kpi(html: str, name: str) -> str:
    m = re.search(rf'data-testid="kpi-{name}">.*?<strong[^>]*>(.*?)</strong>', html, re.S)
    return m.group(1).strip()


def figures(html: str) -> dict:
    return json.loads(re.search(r'<script id="hq-figures" type="application/json">(.*?)</script>', html, re.S)[1])


def hq_user() -> User:
    return user("hq_admin", "hq")


def page(client, user, **params):  # noqa: ANN001
    client.force_login(user)
    return client.get("/hq/", params)


def test_figures_match_the_orders(client, w):
    r = page(client, hq_user())
    html = r.content.decode()
    assert r.status_code == 200
    fig = figures(html)
    assert kpi(html, "orders") == "3" and kpi(html, "pickup-share") == "66.7%" and kpi(html, "members") == "1"
    assert {row["key"]: row["value"] for row in fig["mode"]["rows"]} == {"pickup": 2, "same_city": 1}
    assert fig["channel"]["rows"] == [{"key": "mini_program", "label": "微信小程序", "value": 3}]
    assert fig["on_time"]["rows"] == [{"key": "pickup", "label": "门店自提", "done": 2, "on_time": 1, "rate": 0.5,
                                       "pct": "50.0%"}]
    assert kpi(html, "on-time-rate") == "50.0%"
    assert fig["cost"]["orders"] == 3 and fig["cost"]["avg_fen"] > 0  # every order was routed
    # the same numbers in the accessible tables under the charts
    assert re.search(r'data-key="pickup"><th scope="row">门店自提</th><td class="num">2<', html)
    assert 'data-testid="chart-stockouts"' in html and 'data-testid="empty-stockouts"' in html  # 暂无数据
    assert "vendor/echarts/echarts.min.js" in html


def test_store_staff_are_refused_and_visitors_sent_to_sign_in(client, w):
    assert page(client, user("clerk", "store", location=w.a)).status_code == 403
    assert page(client, user("store_manager", "store", location=w.a)).status_code == 403
    assert page(client, user("marketing", "hq")).status_code == 403
    client.logout()
    r = client.get("/hq/")
    assert r.status_code == 302 and "/console/login" in r["Location"]


def test_region_filter_limits_the_figures(client, w):
    html = page(client, hq_user(), region=w.west.pk).content.decode()
    assert kpi(html, "orders") == "0" and 'data-testid="empty-channel"' in html
    html = page(client, hq_user(), region=w.east.pk, store=w.b.pk).content.decode()
    assert kpi(html, "orders") == "1" and kpi(html, "pickup-share") == "100.0%"
    # a region manager sees only their region, whatever the URL asks for
    assert kpi(page(client, user("region_manager", "region", region=w.east)).content.decode(), "orders") == "3"
    west = user("region_manager", "region", region=w.west)
    html = page(client, west).content.decode()
    assert kpi(html, "orders") == "0" and w.a.name not in html
    for params in ({"region": w.east.pk}, {"store": w.a.pk}):
        r = page(client, west, **params)
        assert r.status_code == 400 and "field-error" in r.content.decode()


def test_bad_dates_are_shown_beside_the_field(client, w):
    r = page(client, hq_user(), start="2026-03-10", end="2026-03-01")
    assert r.status_code == 400 and "结束日期不能早于开始日期" in r.content.decode()
