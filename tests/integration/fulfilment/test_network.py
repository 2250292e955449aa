"""The network read from the database: capabilities, stock, capacity this hour, queue."""

from __future__ import annotations

from datetime import timedelta

import pytest

from o2o.core.routing import Mode, NodeKind, OrderLine
from o2o.fulfilment.decisions import decision_create
from o2o.fulfilment.models import RoutedShipment, ShipmentStatus
from o2o.fulfilment.network import load_basket, load_network
from o2o.inventory.ledger import Who
from o2o.inventory.reservations import reservation_release
from tests.factories import location, reserve, sku, stock_in
from tests.integration.fulfilment.world import P, build

pytestmark = pytest.mark.django_db

WHO = Who(label="test")


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def snap(w, *skus, **kw):
    return load_network(lines=tuple(OrderLine(s.pk, 1, s.weight_g) for s in (skus or (w.s1, w.s2))), point=P,
                        now=kw.pop("now", w.now), **kw)


def test_nodes_capabilities_and_stock(w):
    reserve(w.a, {w.s1: 3})
    s = snap(w)
    net = s.network
    assert set(net.by_id) == {w.a.pk, w.b.pk, w.w.pk}  # C is out of every reach
    a, wh = net.by_id[w.a.pk], net.by_id[w.w.pk]
    assert a.kind is NodeKind.STORE and a.capabilities == frozenset({Mode.PICKUP, Mode.SAME_CITY})
    assert wh.kind is NodeKind.WAREHOUSE and wh.capabilities == frozenset({Mode.EXPRESS})
    assert dict(a.stock) == {w.s1.pk: 7, w.s2.pk: 10}  # on hand - reserved
    assert a.capacity == w.a.pick_capacity_per_hour and a.queue == 0
    assert s.summary()["nodes"] == 3


def test_stock_is_summed_over_buckets_and_only_for_the_cart(w):
    from o2o.inventory.buckets import split

    other = sku()
    stock_in(w.a, other, 4)
    split(location_id=w.a.pk, sku_id=w.s1.pk, buckets=4)
    a = snap(w).network.by_id[w.a.pk]
    assert a.stock[w.s1.pk] == 10 and other.pk not in a.stock


def test_a_far_pickup_store_is_a_node_only_when_chosen(w):
    assert w.c.pk not in snap(w).network.by_id
    assert w.c.pk in snap(w, pickup_location_id=w.c.pk).network.by_id


def test_capacity_counts_this_hours_shipments_and_queue_the_open_ones(w):
    d = decision_create(order_ref="N-1", lines=[(w.s1.pk, 1)], lat=P.lat, lng=P.lng, coord="gcj02",
                        choice="fastest", pickup_location_id=None, who=WHO)
    d2 = decision_create(order_ref="N-2", lines=[(w.s2.pk, 1)], lat=P.lat, lng=P.lng, coord="gcj02",
                         choice="fastest", pickup_location_id=None, who=WHO)
    a = snap(w).network.by_id[w.a.pk]
    assert a.capacity == w.a.pick_capacity_per_hour - 2 and a.queue == 2
    # Next hour: capacity is back, the queue is not.
    later = snap(w, now=w.now + timedelta(hours=1)).network.by_id[w.a.pk]
    assert later.capacity == w.a.pick_capacity_per_hour and later.queue == 2
    # A released reservation leaves the queue; a rejected shipment gives its capacity back.
    sh = d.shipments.get()
    reservation_release(reservation_id=sh.reservation_id, who=WHO)
    RoutedShipment.objects.filter(pk=d2.shipments.get().pk).update(status=ShipmentStatus.REJECTED)
    a = snap(w).network.by_id[w.a.pk]
    assert a.queue == 0 and a.capacity == w.a.pick_capacity_per_hour - 1


def test_full_capacity_sends_the_order_elsewhere(w):
    w.a.pick_capacity_per_hour = 1
    w.a.save()
    first = decision_create(order_ref="C-1", lines=[(w.s1.pk, 1)], lat=P.lat, lng=P.lng, coord="gcj02",
                            choice="fastest", pickup_location_id=None, who=WHO)
    second = decision_create(order_ref="C-2", lines=[(w.s1.pk, 1)], lat=P.lat, lng=P.lng, coord="gcj02",
                             choice="fastest", pickup_location_id=None, who=WHO)
    assert first.shipments.get().location_id == w.a.pk
    assert second.shipments.get().location_id == w.b.pk
    assert second.inputs["network"]["no_capacity"] == [w.a.pk]


def test_inactive_locations_are_not_nodes(w):
    w.b.active = False
    w.b.save()
    assert w.b.pk not in snap(w).network.by_id


def test_basket_merges_and_weighs(w):
    basket = load_basket([(w.s2.pk, 1), (w.s1.pk, 2), (w.s2.pk, 3)])
    assert basket == (OrderLine(w.s1.pk, 2, w.s1.weight_g), OrderLine(w.s2.pk, 4, w.s2.weight_g))


def test_a_dark_store_is_a_dark_store_node(w):
    dark = location(w.east, kind="dark_store", lat=P.lat + 0.005, lng=P.lng, can_pickup=False)
    stock_in(dark, w.s1, 5)
    node = snap(w).network.by_id[dark.pk]
    assert node.kind is NodeKind.DARK_STORE and node.capabilities == frozenset({Mode.SAME_CITY})
