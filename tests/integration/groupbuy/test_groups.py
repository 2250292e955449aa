"""拼团 through the services: joins take places atomically, a full group releases its orders to the stores,
an order waiting for its group is never picked, an unpaid order gives its place back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict, InvalidInput
from o2o.groupbuy import groups, selectors
from o2o.groupbuy.handlers import on_order_event
from o2o.groupbuy.models import Group, GroupMember
from o2o.inventory import checks
from o2o.inventory.models import Reservation
from o2o.orders import lifecycle, store_work
from o2o.orders.actors import system
from o2o.orders.models import Order, OrderEvent, Shipment
from o2o.outbox.models import OutboxEvent
from o2o.outbox.services import events_relay
from tests.factories import figures, member
from tests.integration.fulfilment.world import P, build
from tests.integration.groupbuy.support import by, deal, join, open_group, pay, pickup_at

pytestmark = pytest.mark.django_db

CLERK = system("test-clerk")


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


def _queue_orders(w) -> set[int]:  # noqa: ANN001
    q = store_work.store_queue(w.a.pk)
    return {i["order_id"] for k in ("to_pick", "ready_for_pickup", "with_courier") for i in q[k]}


def test_a_group_fills_and_every_order_goes_to_the_store(w, settings):
    # The paid hold and the routed hold (48 h) are both shorter than the group's window.
    settings.O2O = {**settings.O2O, "ORDER_PAID_HOLD_S": 600}
    d = deal(w, size=3, price_fen=600, hours=72)
    members = [member()[0] for _ in range(3)]
    first = open_group(w, d, members[0])
    g = first.group
    assert (g.size, g.joined, g.status) == (3, 1, "open")
    assert g.expires_at == g.opened_at + timedelta(hours=72)
    o1 = Order.objects.get(pk=first.order_id)
    # The deal price, for this order only: 600 fen instead of the shelf's 1000.
    assert (o1.goods_fen, o1.discount_fen, o1.total_fen) == (1000, 400, 600) and o1.hold == "group"
    assert o1.payment_deadline <= g.expires_at and o1.utm_source == "groupbuy"
    pay(o1.pk)
    o1.refresh_from_db()
    assert o1.status == "allocated" and o1.hold == "group"
    assert o1.pk not in _queue_orders(w)  # paid, but the group is not full: the store does not see it
    # Its stock stays held at least until the group's expiry (+ the margin), whatever the paid hold says.
    res = Reservation.objects.get(reference=o1.number)
    assert res.expires_at >= g.expires_at + timedelta(seconds=groups.hold_margin_s())

    second = join(w, g.pk, members[1])
    pay(second.order_id, "alipay")
    g.refresh_from_db()
    assert (g.joined, g.status) == (2, "open")
    assert not OutboxEvent.objects.filter(topic="group.full").exists()
    assert _queue_orders(w) == set()

    third = join(w, g.pk, members[2])
    g.refresh_from_db()
    assert (g.joined, g.status) == (3, "full") and g.full_at is not None
    orders = {p.order_id for p in (first, second, third)}
    assert set(Order.objects.filter(pk__in=orders).values_list("hold", flat=True)) == {""}
    # The two paid orders are in the store's queue now; the third shows once it is paid.
    assert _queue_orders(w) == {first.order_id, second.order_id}
    pay(third.order_id)
    assert _queue_orders(w) == orders
    full = OutboxEvent.objects.get(topic="group.full")
    assert full.aggregate == "group" and full.aggregate_id == str(g.pk)
    assert sorted(full.payload["order_ids"]) == sorted(orders)
    notes = OrderEvent.objects.filter(order_id=first.order_id, kind="note").values_list("reason", flat=True)
    assert any("released to the store" in n for n in notes)
    # Released: the paid holds run the usual paid time from now (the group's window no longer matters).
    assert Reservation.objects.get(reference=o1.number).expires_at >= g.full_at + timedelta(seconds=590)
    # Released twice (a replayed join, the sweep): nothing more happens.
    assert groups.group_release(g.pk) == 0
    assert checks.run() == []


def test_a_held_order_cannot_be_picked(w):
    d = deal(w, size=2)
    place = open_group(w, d, member()[0])
    pay(place.order_id)
    shipment = Shipment.objects.get(order_id=place.order_id)
    assert shipment.status == "allocated"
    for action in (lambda: store_work.shipment_start_picking(shipment.pk, by=CLERK),
                   lambda: store_work.shipment_mark_ready(shipment.pk, by=CLERK, pick_all=True)):
        with pytest.raises(Conflict) as exc:
            action()
        assert exc.value.code == "order_on_hold" and exc.value.details["order_id"] == place.order_id
    shipment.refresh_from_db()
    assert shipment.status == "allocated"
    join(w, place.group_id, member()[0])
    assert store_work.shipment_start_picking(shipment.pk, by=CLERK).status == "picking"


def test_a_full_group_takes_no_one_and_places_nothing(w):
    d = deal(w, size=2)
    g = open_group(w, d, member()[0]).group
    join(w, g.pk, member()[0])
    orders, stock = Order.objects.count(), figures(w.a, w.s1)
    with pytest.raises(Conflict) as exc:
        join(w, g.pk, member()[0])
    assert exc.value.code == "group_full" and exc.value.details["joined"] == 2
    assert Order.objects.count() == orders and figures(w.a, w.s1) == stock
    g.refresh_from_db()
    assert (g.joined, g.status) == (2, "full")


def test_an_expired_group_takes_no_one(w):
    d = deal(w, size=3)
    g = open_group(w, d, member()[0]).group
    Group.objects.filter(pk=g.pk).update(opened_at=timezone.now() - timedelta(hours=25),
                                         expires_at=timezone.now() - timedelta(hours=1))
    orders = Order.objects.count()
    with pytest.raises(Conflict) as exc:
        join(w, g.pk, member()[0])
    assert exc.value.code == "group_expired"
    assert Order.objects.count() == orders


def test_the_conditional_update_is_the_guard_not_the_precheck(w, monkeypatch):
    """A place taken between the pre-check and the UPDATE (the race, made deterministic): 409, and the
    order placed meanwhile is rolled back with its stock."""
    d = deal(w, size=2)
    g = open_group(w, d, member()[0]).group
    real = groups.order_place

    def place_then_fill(**kw):  # noqa: ANN003
        order = real(**kw)
        Group.objects.filter(pk=g.pk).update(joined=2, status="full", full_at=timezone.now())
        return order

    monkeypatch.setattr(groups, "order_place", place_then_fill)
    orders, stock = Order.objects.count(), figures(w.a, w.s1)
    with pytest.raises(Conflict) as exc:
        with transaction.atomic():
            groups.group_join(group_id=g.pk, member=member()[0], qty=1, fulfil=pickup_at(w.a), by=CLERK)
    assert exc.value.code == "group_full"
    assert Order.objects.count() == orders and figures(w.a, w.s1) == stock


def test_one_place_per_member_and_the_member_limit(w):
    d = deal(w, size=3, limit=2)
    m = member()[0]
    g = open_group(w, d, m).group
    with pytest.raises(Conflict) as exc:
        join(w, g.pk, m)
    assert exc.value.code == "already_joined"
    with pytest.raises(InvalidInput) as exc:
        open_group(w, d, member()[0], qty=3)
    assert exc.value.code == "member_limit_exceeded"
    # One unit held in the first group: a second group of the same deal may take one more, not two.
    with pytest.raises(Conflict) as exc:
        open_group(w, d, m, qty=2)
    assert exc.value.code == "member_limit_reached" and exc.value.details["held"] == 1
    assert open_group(w, d, m, qty=1).qty == 1


def test_a_store_deal_is_a_pickup_at_its_store_and_a_stopped_deal_opens_nothing(w):
    d = deal(w, store=w.a)
    delivery = groups.Fulfil(channel="app", choice="fastest", lat=P.lat, lng=P.lng)
    with pytest.raises(InvalidInput) as exc:
        open_group(w, d, member()[0], fulfil=delivery)
    assert exc.value.code == "deal_store_only"
    with pytest.raises(InvalidInput):
        open_group(w, d, member()[0], fulfil=pickup_at(w.b))
    place = open_group(w, d, member()[0])
    assert Order.objects.get(pk=place.order_id).total_fen == 600
    stopped = deal(w, active=False)
    with pytest.raises(Conflict) as exc:
        open_group(w, stopped, member()[0])
    assert exc.value.code == "deal_not_live"
    assert not Group.objects.filter(deal=stopped).exists()


def test_the_payment_deadline_is_never_after_the_group_expiry(w):
    d = deal(w, size=2)
    g = open_group(w, d, member()[0]).group
    soon = timezone.now() + timedelta(minutes=5)
    Group.objects.filter(pk=g.pk).update(expires_at=soon)
    m = member()[0]
    with transaction.atomic():
        p = groups.group_join(group_id=g.pk, member=m, qty=1, fulfil=pickup_at(w.a), by=by(m))
    assert Order.objects.get(pk=p.order_id).payment_deadline == soon


def test_an_unpaid_order_gives_its_place_back_and_the_member_may_join_again(w):
    d = deal(w, size=3)
    first = open_group(w, d, member()[0])
    m = member()[0]
    late = join(w, first.group_id, m)
    deadline = Order.objects.get(pk=late.order_id).payment_deadline
    pay(first.order_id)
    assert lifecycle.orders_expire(now=deadline + timedelta(seconds=1)) == 1
    assert events_relay(handlers=[on_order_event])[1] == 0
    g = Group.objects.get(pk=first.group_id)
    assert (g.joined, g.status) == (1, "open")
    assert GroupMember.objects.get(pk=late.pk).dropped_at is not None
    assert Order.objects.get(pk=late.order_id).hold == ""
    # The relay again (at least once delivery): nothing more.
    assert groups.member_drop(late.order_id) is False
    again = join(w, g.pk, m)
    assert again.pk != late.pk and Group.objects.get(pk=g.pk).joined == 2
    shown = selectors.group_dict(Group.objects.get(pk=g.pk), member_id=m.pk)["mine"]
    assert shown["order_id"] == again.order_id and shown["dropped_at"] is None  # the live place, not the lapsed one
    assert len(selectors.my_groups(m.pk)) == 2


def test_a_member_who_cancels_before_the_group_fills_is_refunded_and_frees_the_place(w):
    d = deal(w, size=3)
    first = open_group(w, d, member()[0])
    second = join(w, first.group_id, member()[0])
    pay(second.order_id)
    lifecycle.order_cancel(order_id=second.order_id, by=by(second.member), reason="不想要了 changed my mind",
                           member_id=second.member_id)
    order = Order.objects.get(pk=second.order_id)
    assert order.status == "cancelled" and order.refunded_fen == order.paid_fen == 600
    assert groups.member_drop(second.order_id) is True
    assert Group.objects.get(pk=first.group_id).joined == 1


def test_a_full_group_is_not_reopened_by_a_member_who_never_pays(w):
    d = deal(w, size=2)
    first = open_group(w, d, member()[0])
    pay(first.order_id)
    second = join(w, first.group_id, member()[0])
    deadline = Order.objects.get(pk=second.order_id).payment_deadline
    assert lifecycle.orders_expire(now=deadline + timedelta(seconds=1)) == 1
    assert groups.member_drop(second.order_id) is False
    g = Group.objects.get(pk=first.group_id)
    assert (g.joined, g.status) == (2, "full")
    assert first.order_id in _queue_orders(w)


def test_bad_deals_are_refused_by_the_database(w):
    from django.db import IntegrityError

    for bad in ({"size": 1}, {"price_fen": -1}, {"hours": 0}, {"hours": 24 * 8}, {"limit": 0}):
        with pytest.raises((IntegrityError, ApiError)), transaction.atomic():
            deal(w, **bad)
    g = open_group(w, deal(w, size=2), member()[0]).group
    with pytest.raises(IntegrityError), transaction.atomic():
        Group.objects.filter(pk=g.pk).update(joined=3)
