"""社区团购 consolidated delivery: the member pays the community fee, not the courier fee; one courier booking per
(store, leader's point, slot) carries every shipment ready before its pick-up, and they follow it; a late one
takes the next slot; a lead that ends hands the run over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from o2o.accounts.pii_services import member_set_phone
from o2o.common.errors import Conflict
from o2o.groupbuy import community, runs
from o2o.groupbuy.models import CommunityLeader, CommunityOrder, CommunityRun, CommunityRunShipment
from o2o.inventory import checks
from o2o.orders import couriers, delivery_sweeps, lifecycle
from o2o.orders.actors import system
from o2o.orders.models import CourierTask, DeliveryAlert, Order, OrderEvent, Shipment
from o2o.outbox.models import OutboxEvent
from tests.factories import member, sku, stock_in
from tests.integration.fulfilment.world import build
from tests.integration.groupbuy.support import book_at_once, by, fresh_couriers, pay
from tests.integration.groupbuy.support import leader as make_leader
from tests.integration.orders.test_delivery_world import pack

__all__ = ["book_at_once", "fresh_couriers"]  # the autouse fixtures
pytestmark = pytest.mark.django_db


@pytest.fixture
def w(monkeypatch):
    return build(monkeypatch)


@pytest.fixture
def fee(settings):
    settings.O2O = {**settings.O2O, "COMMUNITY_FEE_FEN": 200}
    return 200


@pytest.fixture
def sandbox(django_capture_on_commit_callbacks):
    def go(minutes: int) -> list[dict]:
        with django_capture_on_commit_callbacks(execute=True):
            return delivery_sweeps.sandbox_run(minutes)["callbacks"]
    return go


def leader(w, boss, **kw) -> CommunityLeader:  # noqa: ANN001
    """A point whose leader has a phone (the courier's contact: the providers refuse a booking without one)."""
    member_set_phone(member=boss, phone=f"139{boss.pk:08d}")
    return make_leader(w, boss, **kw)


def place(w, lead: CommunityLeader, mem=None, *, qty: int = 1, sku=None, now: datetime | None = None,  # noqa: ANN001
          **kw) -> CommunityOrder:
    mem = mem or member()[0]
    with transaction.atomic():
        return community.community_order_place(leader_id=lead.pk, member=mem, lines=[((sku or w.s1).pk, qty)],
                                               channel="mini_program", choice="same_city", by=by(mem), now=now,
                                               **kw)


def shipment_of(placed: CommunityOrder) -> Shipment:
    [s] = Shipment.objects.filter(order_id=placed.order_id)
    return s


def ready(placed: CommunityOrder, capture) -> CourierTask | None:  # noqa: ANN001
    """Paid, then the store marks it packed (awaiting a courier: the dispatch), bookings after the commit."""
    pay(placed.order_id)  # a real (sandbox) payment: a cancel refunds it
    with capture(execute=True):
        return pack(shipment_of(placed))


def run_of(placed: CommunityOrder) -> CommunityRun:
    return CommunityRunShipment.objects.select_related("run").get(shipment=shipment_of(placed)).run


def test_the_slot_is_tomorrow_before_the_cut_off_and_the_day_after_from_it(settings):
    settings.O2O = {**settings.O2O, "COMMUNITY_CUTOFF_HOUR": 18}
    day = timezone.localtime().replace(hour=17, minute=59, second=0, microsecond=0)
    assert runs.slot_for(day) == day.date() + timedelta(days=1)
    assert runs.slot_for(day.replace(hour=18, minute=0)) == day.date() + timedelta(days=2)
    assert runs.slot_for(day.astimezone(UTC)) == day.date() + timedelta(days=1)  # read in local time


def test_two_members_to_one_point_share_one_booking_and_pay_the_community_fee(w, fee, sandbox,
                                                                                django_capture_on_commit_callbacks):
    lead = leader(w, member("团长")[0])
    one, two = place(w, lead), place(w, lead, qty=2)
    for placed in (one, two):
        order = Order.objects.get(pk=placed.order_id)
        courier_fee = order.pricing["community"]["courier_fee_fen"]
        assert courier_fee >= 500  # a same-city order under the free-delivery threshold pays the courier fee...
        assert (order.delivery_fee_fen, order.pricing["delivery_fee_fen"]) == (fee, fee)  # ...not a community one
        assert order.total_fen == order.goods_fen - order.discount_fen + fee == order.pricing["total_fen"]
        assert any("community fee ¥2.00" in e for e in order.pricing["explanation"])
        assert order.pricing["explanation"][-1] == f"应付 Total: ¥{order.total_fen // 100}.{order.total_fen % 100:02d}"
        placed_event = OutboxEvent.objects.get(topic="order.placed", aggregate_id=str(order.pk))
        assert placed_event.payload["total_fen"] == order.total_fen  # announced with the community fee
    run = run_of(one)
    assert run_of(two).pk == run.pk and run.location_id == w.a.pk and run.slot_date == runs.slot_for(one.created_at)
    assert run.lead_shipment_id is None and CourierTask.objects.count() == 0  # nothing booked before ready
    task = ready(one, django_capture_on_commit_callbacks)
    assert ready(two, django_capture_on_commit_callbacks) == task
    assert CourierTask.objects.count() == 1 and len(couriers.simulator("dada").requests) == 1
    task.refresh_from_db()
    assert task.shipment_id == shipment_of(one).pk and task.fee_fen > 0 and task.external_id  # cost once
    run.refresh_from_db()
    assert run.lead_shipment_id == shipment_of(one).pk
    assert CommunityRunShipment.objects.filter(run=run, boarded_at__isnull=False).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(2):  # the minute sweep: the follower has no task of its own, and needs none
            delivery_sweeps.sweep(timezone.now())
    assert CourierTask.objects.count() == 1 and len(couriers.simulator("dada").requests) == 1
    assert OrderEvent.objects.filter(order_id=two.order_id, reason__contains="travels with community run").count() == 1
    # Promised for the slot's morning, not the same-city hour: no "late" alert today.
    start, end = runs.slot_window(run.slot_date)
    assert {(s.eta_earliest, s.eta_latest) for s in (shipment_of(one), shipment_of(two))} == {(start, end)}
    assert timezone.localtime(end).hour == 12 and not DeliveryAlert.objects.exists()
    sandbox(40)
    run.refresh_from_db()
    assert run.picked_up_at is not None and run.delivered_at is not None
    for placed in (one, two):
        assert shipment_of(placed).status == "completed"
        assert Order.objects.get(pk=placed.order_id).status == "completed"
    boss = CommunityLeader.objects.get(pk=lead.pk).member_id
    seen = community.leader_orders(boss)
    assert {r["order_id"] for r in seen} == {one.order_id, two.order_id}
    assert {tuple(r["slot_dates"]) for r in seen} == {(run.slot_date.isoformat(),)}
    community.handed_over(order_id=two.order_id, member_id=boss)  # the follower reached the point too
    assert checks.run() == []  # the followers' stock left the store with the courier


def test_a_free_delivery_order_pays_no_community_fee_either(w, fee):
    lead = leader(w, member()[0])
    dear = sku(price_fen=5000)
    stock_in(w.a, dear, 10)
    placed = place(w, lead, qty=2, sku=dear)  # ¥100: over the free-delivery threshold
    order = Order.objects.get(pk=placed.order_id)
    assert order.delivery_fee_fen == 0 and order.pricing["community"] == {
        "leader_id": lead.pk, "courier_fee_fen": 0, "community_fee_fen": 0}


def test_the_total_the_member_confirmed_is_checked_with_the_community_fee(w, fee):
    lead = leader(w, member()[0])
    first = Order.objects.get(pk=place(w, lead).order_id)
    with pytest.raises(Conflict) as exc:
        place(w, lead, expected_total_fen=first.total_fen - fee + first.pricing["community"]["courier_fee_fen"])
    assert exc.value.code == "total_changed" and exc.value.details["total_fen"] == first.total_fen
    assert Order.objects.count() == 1 and CommunityRunShipment.objects.count() == 1  # nothing of it is left
    again = place(w, lead, expected_total_fen=first.total_fen)
    assert Order.objects.get(pk=again.order_id).total_fen == first.total_fen


def test_another_point_or_another_store_gets_its_own_run_and_booking(w, django_capture_on_commit_callbacks):
    lead, other = leader(w, member()[0]), leader(w, member()[0], name="隔壁团长")
    mine, theirs = place(w, lead), place(w, other)
    assert run_of(mine).pk != run_of(theirs).pk
    only_b = sku()
    stock_in(w.b, only_b, 10)
    far = place(w, lead, sku=only_b)  # only store B has it
    assert shipment_of(far).location_id == w.b.pk
    assert run_of(far).pk != run_of(mine).pk and run_of(far).location_id == w.b.pk
    tasks = {ready(p, django_capture_on_commit_callbacks).pk for p in (mine, theirs, far)}
    assert len(tasks) == 3 and CourierTask.objects.count() == 3
    assert CommunityRun.objects.count() == 3


def test_an_order_after_the_runs_pick_up_takes_the_next_slot(w, sandbox, django_capture_on_commit_callbacks):
    lead = leader(w, member()[0])
    early, ready_late = place(w, lead), place(w, lead)
    run = run_of(early)
    first = ready(early, django_capture_on_commit_callbacks)
    sandbox(12)  # the courier picks the run up
    run.refresh_from_db()
    assert run.picked_up_at is not None
    late = place(w, lead)  # placed after the run left
    assert run_of(late).slot_date == run.slot_date + timedelta(days=1)
    # Placed before the pick-up but packed after it: the goods missed the courier, so the next slot's run.
    second = ready(ready_late, django_capture_on_commit_callbacks)
    assert second is not None and second.pk != first.pk
    moved = run_of(ready_late)
    assert moved.slot_date == run.slot_date + timedelta(days=1) and moved.lead_shipment_id == second.shipment_id
    assert run_of(late).pk == moved.pk  # the late order travels with it
    assert ready(late, django_capture_on_commit_callbacks) == second and CourierTask.objects.count() == 2
    assert OrderEvent.objects.filter(order_id=ready_late.order_id, reason__contains="next slot").exists()


def test_a_cancelled_lead_hands_the_run_to_the_next_shipment(w, django_capture_on_commit_callbacks):
    lead = leader(w, member()[0])
    one, two = place(w, lead), place(w, lead)
    task = ready(one, django_capture_on_commit_callbacks)
    assert ready(two, django_capture_on_commit_callbacks) == task
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.order_cancel(order_id=one.order_id, by=system("t"), reason="顾客取消 cancelled")
    task.refresh_from_db()
    assert task.status == "cancelled"
    with django_capture_on_commit_callbacks(execute=True):
        delivery_sweeps.dispatch_missing(timezone.now())  # the follower left without a courier gets one
    [new] = CourierTask.objects.filter(shipment=shipment_of(two))
    assert new.status != "cancelled" and run_of(two).lead_shipment_id == shipment_of(two).pk


def test_a_follow_lost_after_the_callback_is_caught_up(w, sandbox, django_capture_on_commit_callbacks, monkeypatch):
    lead = leader(w, member()[0])
    one, two = place(w, lead), place(w, lead)
    ready(one, django_capture_on_commit_callbacks)
    ready(two, django_capture_on_commit_callbacks)
    with monkeypatch.context() as m:
        m.setattr(runs, "run_follow", lambda *a, **kw: 0)  # the process died after the callback's commit
        sandbox(40)
    assert shipment_of(one).status == "completed" and shipment_of(two).status == "awaiting_courier"
    out = StringIO()
    call_command("community-runs", stdout=out)
    assert "1 shipment(s) caught up" in out.getvalue()
    assert shipment_of(two).status == "completed" and Order.objects.get(pk=two.order_id).status == "completed"
    assert runs.runs_catch_up() == 0  # nothing left behind
    assert checks.run() == []


def test_shipments_ready_the_evening_before_wait_and_ride_one_morning_trip(w, settings,
                                                                             django_capture_on_commit_callbacks):
    """By default a run books its courier an hour before the slot's window (07:00): packed earlier, the
    shipments wait with no booking (the sweep asks again) and the morning's one trip carries them all."""
    settings.O2O = {**settings.O2O, "COMMUNITY_DISPATCH_LEAD_MIN": 60}
    lead = leader(w, member()[0])
    now = timezone.now()
    one, two = place(w, lead, now=now), place(w, lead, now=now)
    slot = run_of(one).slot_date
    assert slot > timezone.localtime(now).date() and runs.dispatch_at(slot) > now
    assert ready(one, django_capture_on_commit_callbacks) is None  # held: no courier called tonight
    assert ready(two, django_capture_on_commit_callbacks) is None
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_sweeps.dispatch_missing(runs.dispatch_at(slot) - timedelta(minutes=1)) == 0
    assert CourierTask.objects.count() == 0
    assert {shipment_of(p).status for p in (one, two)} == {"awaiting_courier"}
    with django_capture_on_commit_callbacks(execute=True):
        delivery_sweeps.dispatch_missing(runs.dispatch_at(slot) + timedelta(minutes=1))
    [task] = CourierTask.objects.all()
    run = run_of(one)
    assert run.pk == run_of(two).pk and run.slot_date == slot and task.shipment_id == run.lead_shipment_id
    assert CommunityRunShipment.objects.filter(run=run, boarded_at__isnull=False).count() == 2
    assert DeliveryAlert.objects.count() == 0  # promised for the slot's morning: nothing is late


def test_a_courier_failing_after_the_pick_up_alerts_the_store_for_every_shipment_on_the_run(
        w, sandbox, django_capture_on_commit_callbacks):
    lead = leader(w, member()[0])
    one, two = place(w, lead), place(w, lead)
    task = ready(one, django_capture_on_commit_callbacks)
    assert ready(two, django_capture_on_commit_callbacks) == task
    sandbox(12)  # the rider picks the run up: both travel
    assert {shipment_of(p).status for p in (one, two)} == {"out_for_delivery"}
    with transaction.atomic():
        runs.on_tracking(task=task, shipment=shipment_of(one), target="failed", now=timezone.now())
        runs.on_tracking(task=task, shipment=shipment_of(one), target="failed", now=timezone.now())  # once
    [alert] = DeliveryAlert.objects.filter(shipment=shipment_of(two))
    assert alert.kind == "courier_failed" and f"run_failed:{run_of(one).pk}:" in alert.key
    assert not DeliveryAlert.objects.filter(shipment=shipment_of(one), key__startswith="run_failed").exists()
