"""社区团购 consolidated delivery over HTTP: the points show the community fee, an order pays it (not the courier
fee) and names its delivery day; a stale confirmed total is a 409 with nothing placed; the leader sees the
delivery days of their own point only."""

from __future__ import annotations

import pytest
from django.utils import timezone

from o2o.groupbuy.models import CommunityOrder, CommunityRun, CommunityRunShipment
from o2o.groupbuy.runs import slot_for
from o2o.orders.models import Order
from tests.factories import assert_error, auth, member
from tests.integration.fulfilment.world import build, lines, post
from tests.integration.groupbuy.support import leader

pytestmark = pytest.mark.django_db

GB = "/api/v1/groupbuy/community"


@pytest.fixture
def w(monkeypatch, settings):
    settings.O2O = {**settings.O2O, "COMMUNITY_FEE_FEN": 150}
    return build(monkeypatch)


def test_members_pay_the_community_fee_and_share_the_points_run(client, w):
    boss, boss_t = member("张团长")
    other_boss, other_t = member("李团长")
    point, other = leader(w, boss), leader(w, other_boss, name="隔壁团长")
    shown = client.get(f"{GB}/leaders", **auth(boss_t)).json()
    assert {p["community_fee_fen"] for p in shown} == {150}
    slot = slot_for(timezone.now()).isoformat()  # the API places on the wall clock (after 20:00: the day after next)
    placed = []
    for n, key in enumerate(("k1", "k2")):
        _, t = member(f"邻居{n}")
        r = post(client, f"{GB}/orders", {"leader_id": point.pk, "lines": lines((w.s1, 1)), "choice": "same_city"},
                 t, key=key)
        assert r.status_code == 201, r.content
        placed.append(r.json())
    _, t3 = member("隔壁邻居")
    theirs = post(client, f"{GB}/orders", {"leader_id": other.pk, "lines": lines((w.s1, 1))}, t3, key="k3").json()
    for body in (*placed, theirs):
        order = Order.objects.get(pk=body["order_id"])
        assert body["delivery_fee_fen"] == 150 == order.delivery_fee_fen
        assert order.pricing["community"]["courier_fee_fen"] > 150  # the fee it replaced
        assert body["total_fen"] == order.goods_fen - order.discount_fen + 150 and body["slot_dates"] == [slot]
    assert CommunityRun.objects.filter(leader=point).count() == 1 == CommunityRun.objects.filter(leader=other).count()
    assert CommunityRunShipment.objects.filter(run__leader=point).count() == 2
    mine = client.get(f"{GB}/leader/orders", **auth(boss_t)).json()
    assert sorted(r["order_id"] for r in mine) == sorted(b["order_id"] for b in placed)
    assert {tuple(r["slot_dates"]) for r in mine} == {(slot,)}
    assert [r["order_id"] for r in client.get(f"{GB}/leader/orders", **auth(other_t)).json()] == [theirs["order_id"]]


def test_a_stale_total_and_bad_input_place_nothing(client, w):
    point = leader(w, member()[0])
    _, t = member()
    ok = {"leader_id": point.pk, "lines": lines((w.s1, 1)), "choice": "same_city"}
    first = post(client, f"{GB}/orders", ok, t, key="a").json()
    courier = Order.objects.get(pk=first["order_id"]).pricing["community"]["courier_fee_fen"]
    stale = first["total_fen"] - 150 + courier  # the total with the courier fee
    body = assert_error(post(client, f"{GB}/orders", {**ok, "expected_total_fen": stale}, t), 409, "total_changed")
    assert body["details"] == {"expected_total_fen": stale, "total_fen": first["total_fen"]}
    assert_error(post(client, f"{GB}/orders", {**ok, "expected_total_fen": -1}, t), 422)
    assert Order.objects.count() == 1 == CommunityOrder.objects.count() == CommunityRunShipment.objects.count()
    again = post(client, f"{GB}/orders", {**ok, "expected_total_fen": first["total_fen"]}, t, key="b")
    assert again.status_code == 201 and again.json()["total_fen"] == first["total_fen"]
