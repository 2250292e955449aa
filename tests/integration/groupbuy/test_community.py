"""社区团购 through the services: an order goes to the leader's point (routed there like any delivery), only
that point's leader sees it and hands it over, once, after delivery; a member's data export and deletion."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from o2o.accounts.pii_services import member_set_phone
from o2o.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from o2o.groupbuy import community
from o2o.groupbuy.models import CommunityLeader, CommunityOrder
from o2o.members.privacy import member_erase, member_export
from o2o.orders.models import Order, OrderEvent, Shipment
from o2o.orders.placement import contact_phone
from o2o.outbox.models import OutboxEvent
from tests.e2e.orders.test_returns_support import handed_over as deliver
from tests.factories import member
from tests.integration.fulfilment.world import build
from tests.integration.groupbuy.support import by, leader, pay

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def place(w, lead: CommunityLeader, mem, *, choice: str = "any", qty: int = 1) -> CommunityOrder:  # noqa: ANN001
    with transaction.atomic():
        return community.community_order_place(leader_id=lead.pk, member=mem, lines=[(w.s1.pk, qty)],
                                               channel="mini_program", choice=choice, by=by(mem))


def test_the_order_is_routed_to_the_leaders_point(w):
    boss = member("王阿姨")[0]
    member_set_phone(member=boss, phone="13900001111")
    lead = leader(w, boss, lat=w.a.lat - 0.002, lng=w.a.lng)  # ~200 m from store A
    buyer = member("小李")[0]
    placed = place(w, lead, buyer, choice="same_city")
    order = Order.objects.get(pk=placed.order_id)
    assert (order.dest_lat, order.dest_lng) == (lead.lat, lead.lng)
    assert lead.address in order.address and order.contact_name == f"团长 {lead.name}"
    assert contact_phone(order) == "13900001111"  # the courier calls the leader
    assert order.member_id == buyer.pk and order.utm_source == "community"
    s = Shipment.objects.get(order=order)
    assert s.mode == "same_city" and s.location_id in (w.a.pk, w.b.pk)
    assert order.pricing["price_location_id"] == lead.location_id
    assert placed.leader_id == lead.pk and placed.member_id == buyer.pk
    assert OrderEvent.objects.filter(order=order, kind="note", reason__contains="community order").exists()


def test_a_point_out_of_every_stores_reach_gets_an_express_parcel(w):
    lead = leader(w, member()[0], lat=30.95, lng=121.20)  # far from A and B; the warehouse ships it
    placed = place(w, lead, member()[0])
    s = Shipment.objects.get(order_id=placed.order_id)
    assert (s.mode, s.location_id) == ("express", w.w.pk)


def test_a_pickup_choice_and_an_inactive_point_are_refused(w):
    lead = leader(w, member()[0])
    with pytest.raises(InvalidInput) as exc:
        place(w, lead, member()[0], choice="pickup")
    assert exc.value.code == "invalid_choice"
    CommunityLeader.objects.filter(pk=lead.pk).update(active=False)
    with pytest.raises(NotFound) as exc:
        place(w, lead, member()[0])
    assert exc.value.code == "unknown_leader"
    assert not CommunityOrder.objects.exists() and not Order.objects.exists()


def test_only_the_leader_of_the_point_sees_and_hands_over_once_after_delivery(w):
    boss, other_boss, buyer, stranger = (member(n)[0] for n in ("团长", "别的团长", "买家", "路人"))
    lead, other = leader(w, boss), leader(w, other_boss, name="隔壁团长")
    placed = place(w, lead, buyer)
    mine = community.leader_orders(boss.pk)
    assert [r["order_id"] for r in mine] == [placed.order_id]
    assert mine[0]["member_name"] == "买家" and mine[0]["delivered"] is False
    assert community.leader_orders(other_boss.pk) == []
    with pytest.raises(Forbidden) as exc:
        community.leader_orders(stranger.pk)
    assert exc.value.code == "not_a_leader"
    with pytest.raises(NotFound):
        community.handed_over(order_id=placed.order_id, member_id=other_boss.pk)
    with pytest.raises(Forbidden):
        community.handed_over(order_id=placed.order_id, member_id=buyer.pk)
    with pytest.raises(Conflict) as exc:
        community.handed_over(order_id=placed.order_id, member_id=boss.pk)
    assert exc.value.code == "not_delivered"
    pay(placed.order_id)
    deliver(Order.objects.get(pk=placed.order_id))
    done = community.handed_over(order_id=placed.order_id, member_id=boss.pk)
    assert done.handed_over_at is not None
    assert community.leader_orders(boss.pk, handed=True)[0]["delivered"] is True
    assert community.leader_orders(boss.pk, handed=False) == []
    with pytest.raises(Conflict) as exc:
        community.handed_over(order_id=placed.order_id, member_id=boss.pk)
    assert exc.value.code == "already_handed_over"
    note = OrderEvent.objects.get(order_id=placed.order_id, reason__contains="handed to the member")
    assert note.member_id == boss.pk and note.actor_label == f"leader:{lead.pk}"
    assert OutboxEvent.objects.filter(topic="community.handed_over").count() == 1
    assert [r["order_id"] for r in community.member_orders(buyer.pk)] == [placed.order_id]
    assert community.member_orders(stranger.pk) == [] and other.pk != lead.pk


def test_export_and_deletion(w):
    boss = member("团长")[0]
    lead = leader(w, boss)
    placed = place(w, lead, boss)
    doc = member_export(member_id=boss.pk, reason="本人 own")
    section = doc["groupbuy"]
    assert section["pickup_points"][0]["address"] == lead.address
    assert section["community_orders"][0]["order_id"] == placed.order_id
    json.dumps(section)  # JSON-ready
    Order.objects.filter(pk=placed.order_id).update(status="cancelled")  # a deletion waits for open orders
    member_erase(member_id=boss.pk, reason="本人要求注销 asked by the member")
    lead.refresh_from_db()
    assert (lead.name, lead.address, lead.active) == ("已注销", "", False)
