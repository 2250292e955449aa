"""社区团购 routing preference: the store already sending a trip to the point in the slot wins over a nearer one
(its courier is paid by the run), through surcharges on the others (``core.routing.community``)."""

from __future__ import annotations

import pytest
from django.db import transaction

from o2o.core.routing import Order, route
from o2o.core.routing.community import prefer_running
from o2o.fulfilment import clock
from o2o.fulfilment.models import routing_of
from o2o.fulfilment.network import load_basket, load_network
from o2o.fulfilment.quotes import network_for
from o2o.groupbuy import community, runs
from o2o.groupbuy.models import CommunityRun
from o2o.orders.models import Shipment
from tests.factories import member, sku, stock_in
from tests.integration.fulfilment.world import P, build
from tests.integration.groupbuy.support import by, leader

pytestmark = pytest.mark.django_db


def test_prefer_running_puts_the_trip_on_the_others_never_below_zero():
    assert prefer_running({}, [1, 2]) is None and prefer_running({1: 0}, [1, 2]) is None
    s = prefer_running({1: 700, 2: 300}, [1, 2, 3])
    assert dict(s.per_shipment) == {2: 400, 3: 700} and s.unfilled_extra_fen == 700
    assert s.shipment(1) == 0 and s.shipment(3) == 700


def _same_city_store(w, surcharges):  # noqa: ANN001, ANN202
    basket = load_basket([(w.s1.pk, 1)])
    now = clock.local(w.now)
    snap = load_network(lines=basket, point=P, now=now)
    choice, modes = routing_of("same_city")
    plan = route(Order(order_id="t", lines=basket, destination=P, choice=choice), network_for(snap, modes), now,
                 surcharges=surcharges)
    [shipment] = plan.shipments
    return shipment.node_id


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def test_a_run_from_store_b_makes_b_the_source_of_the_next_order(w):
    lead = leader(w, member()[0])
    assert runs.routing_preference(lead.pk, w.now) is None
    assert _same_city_store(w, None) == w.a.pk  # nearest and cheapest without a run
    only_b = sku()
    stock_in(w.b, only_b, 5)
    buyer = member()[0]
    with transaction.atomic():
        placed = community.community_order_place(leader_id=lead.pk, member=buyer, lines=[(only_b.pk, 1)],
                                                 channel="mini_program", choice="same_city", by=by(buyer), now=w.now)
    assert Shipment.objects.get(order_id=placed.order_id).location_id == w.b.pk
    assert runs.running_trips(lead.pk, runs.slot_for(w.now)) == {w.b.pk: runs.DEFAULT_TRIP_FEN}
    preference = runs.routing_preference(lead.pk, w.now)
    assert preference.shipment(w.a.pk) == runs.DEFAULT_TRIP_FEN and preference.shipment(w.b.pk) == 0
    assert _same_city_store(w, preference) == w.b.pk  # B's trip is paid: one more order on it
    CommunityRun.objects.update(picked_up_at=w.now)  # the trip left: no preference any more
    assert runs.routing_preference(lead.pk, w.now) is None


def test_placing_a_community_order_uses_the_preference_and_joins_the_running_trip(w):
    """Through ``community_order_place``: the second order, which store A (nearer) could fill, goes from B,
    whose trip to the point is already running, and rides on the same run."""
    lead = leader(w, member()[0])
    only_b = sku()
    stock_in(w.b, only_b, 5)
    first, second = member()[0], member()[0]
    with transaction.atomic():
        community.community_order_place(leader_id=lead.pk, member=first, lines=[(only_b.pk, 1)],
                                        channel="mini_program", choice="same_city", by=by(first), now=w.now)
    assert _same_city_store(w, None) == w.a.pk  # on its own, s1 would ship from A
    with transaction.atomic():
        placed = community.community_order_place(leader_id=lead.pk, member=second, lines=[(w.s1.pk, 1)],
                                                 channel="mini_program", choice="same_city", by=by(second),
                                                 now=w.now)
    assert Shipment.objects.get(order_id=placed.order_id).location_id == w.b.pk
    assert CommunityRun.objects.filter(leader=lead).count() == 1
