"""社区团购 consolidated delivery: one courier per (store, leader's point, delivery slot), not one per order.

**Slot.** An order placed before the daily cut-off ``O2O["COMMUNITY_CUTOFF_HOUR"]`` (Shanghai time, default
20) is delivered the next morning (``slot_date`` = tomorrow), after it the day after. A slot's run books
its courier at :func:`dispatch_at` (an hour before the slot's window, 07:00 by default): shipments the store
marks ready earlier (the evening before) wait for it (``couriers.HOLD``; the delivery sweep asks again every
minute), so one morning trip carries them all; a shipment ready after the trip left takes the next slot.

**Placing** (:func:`runs_assign`, the order's transaction): every same-city shipment of a community order
joins the :class:`CommunityRun` of (point, its store, slot): ``get_or_create`` on the UNIQUE (leader, store,
slot), so concurrent orders end in one run. A run already picked up takes no new shipment: the next slot's
run does. An express shipment (a point no store reaches) is a parcel of its own.

**Dispatch** (:func:`on_dispatch`, ``couriers.dispatch_hooks``; the shipment's order row locked, then the run
row ``FOR UPDATE``, the same order as a callback's): the first shipment ready becomes the run's lead and
books the courier as any shipment (its task is the run's one booking, its fee recorded once); a later one
*boards* the lead's task while it is not picked up (no booking of its own). Ready after the pick-up: it moves
to the next slot's run. A lead that ended (cancelled, rerouted) or lost its courier hands the run over to
the next shipment dispatched (the delivery sweep dispatches every shipment left without a task).

**Routing** (:func:`routing_preference`): the stores already sending a trip to the point in the slot, as
surcharges on the others (``o2o.core.routing.community.prefer_running``): a booked trip by its recorded
courier fee, a run not booked yet by ``O2O["COMMUNITY_TRIP_FEN"]`` (default 600, the same-city fee). Placing a
community order passes them to the routing (``PlaceRequest.routing_surcharges``).

**Tracking** (:func:`on_tracking`, ``couriers.tracking_hooks``): the lead's pick-up / delivery is written on
the run (conditional UPDATE), and after the commit every boarded shipment follows it, each in its own
transaction with its order row locked (:func:`run_follow`). A follow lost to a crash is caught up by
``o2o community-runs`` (:func:`runs_catch_up`), and by the delivery sweep's dispatch of a boarded shipment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from o2o.core.orders import ShipmentStatus as SS
from o2o.core.routing.community import prefer_running
from o2o.core.routing.surcharges import Surcharges
from o2o.fulfilment.handover import routed_shipment_fulfil
from o2o.groupbuy.models import CommunityLeader, CommunityRun, CommunityRunShipment
from o2o.orders import couriers, history
from o2o.orders.actors import By, system
from o2o.orders.delivery import raise_alert
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    ACTIVE_TASK,
    AlertKind,
    CourierTask,
    EventKind,
    Order,
    Shipment,
    ShipmentMode,
    TaskStatus,
)
from o2o.stores.models import Location

DEFAULT_CUTOFF_HOUR = 20
DEFAULT_TRIP_FEN = 600
DEFAULT_DISPATCH_LEAD_MIN = 60
SLOT_FROM_HOUR, SLOT_BY_HOUR = 8, 12  # a slot's delivery at the point: that morning
MAX_SLOTS_AHEAD = 7  # a point whose runs keep leaving: never loop for ever
_MOVED = {TaskStatus.PICKED_UP, TaskStatus.DELIVERED}


def cutoff_hour() -> int:
    hour = int(settings.O2O.get("COMMUNITY_CUTOFF_HOUR", DEFAULT_CUTOFF_HOUR))
    return min(max(hour, 0), 24)


def slot_for(at: datetime) -> date:
    """The delivery day of an order placed at ``at``: tomorrow before the cut-off, else the day after."""
    local = timezone.localtime(at)
    return local.date() + timedelta(days=1 if local.hour < cutoff_hour() else 2)


def slot_window(slot: date) -> tuple[datetime, datetime]:
    """The slot's promise at the point: that morning, ``SLOT_FROM_HOUR`` to ``SLOT_BY_HOUR`` (Shanghai)."""
    tz = timezone.get_current_timezone()
    start = datetime(slot.year, slot.month, slot.day, SLOT_FROM_HOUR, tzinfo=tz)
    return start, start.replace(hour=SLOT_BY_HOUR)


def dispatch_at(slot: date) -> datetime:
    """When a slot's run books its courier: ``O2O["COMMUNITY_DISPATCH_LEAD_MIN"]`` (default 60) minutes before
    the slot's window opens. Shipments ready earlier wait (``couriers.HOLD``), so an evening's orders all
    ride the next morning's trip instead of the first one ready leaving at once."""
    lead = max(0, int(settings.O2O.get("COMMUNITY_DISPATCH_LEAD_MIN", DEFAULT_DISPATCH_LEAD_MIN)))
    return slot_window(slot)[0] - timedelta(minutes=lead)


def _promise(shipment_id: int, slot: date) -> None:
    """The shipment's ETA becomes its slot's window (what the member is told, what ``late`` alerts read)."""
    start, end = slot_window(slot)
    Shipment.objects.filter(pk=shipment_id).update(eta_earliest=start, eta_latest=end)


def _open_run(leader_id: int, location_id: int, slot: date, now: datetime) -> CommunityRun:
    """The run of (point, store, slot) or later, not yet picked up, its row locked."""
    for _ in range(MAX_SLOTS_AHEAD):
        try:
            with transaction.atomic():
                CommunityRun.objects.get_or_create(leader_id=leader_id, location_id=location_id, slot_date=slot,
                                                   defaults={"created_at": now})
        except IntegrityError:  # created by a concurrent order since: it exists now
            pass
        run = CommunityRun.objects.select_for_update().get(leader_id=leader_id, location_id=location_id,
                                                           slot_date=slot)
        if run.picked_up_at is None:
            return run
        slot += timedelta(days=1)
    raise RuntimeError(f"no open community run for leader {leader_id} within {MAX_SLOTS_AHEAD} days")


def runs_assign(order: Order, leader: CommunityLeader, now: datetime) -> list[CommunityRunShipment]:
    """Put the order's same-city shipments on their runs (the order's transaction)."""
    slot = slot_for(now)
    out = []
    for s in Shipment.objects.filter(order=order, mode=ShipmentMode.SAME_CITY).order_by("pk"):
        run = _open_run(leader.pk, s.location_id, slot, now)
        out.append(CommunityRunShipment.objects.create(run=run, shipment=s))
        _promise(s.pk, run.slot_date)
    return out


def _lead_task(run: CommunityRun) -> CourierTask | None:
    if run.lead_shipment_id is None:
        return None
    return CourierTask.objects.filter(shipment_id=run.lead_shipment_id, status__in=ACTIVE_TASK).first()


def _follow_one(shipment: Shipment, run: CommunityRun, by: By, now: datetime) -> None:
    """Move a boarded shipment as its run's courier moved (its order row locked)."""
    if run.picked_up_at is not None and shipment.status == SS.AWAITING_COURIER:
        if shipment.routed_id is not None:
            routed_shipment_fulfil(routed_id=shipment.routed_id, who=by.who,
                                   reason=f"社区团购批次 #{run.pk} 骑手取货 picked up with community run #{run.pk}")
        history.shipment_move(shipment, SS.OUT_FOR_DELIVERY, by=by, now=now, handed_over_at=now,
                              reason=f"随社区团购批次 #{run.pk} 取货 picked up with community run #{run.pk}")
    if run.delivered_at is not None and shipment.status == SS.OUT_FOR_DELIVERY:
        history.shipment_move(shipment, SS.COMPLETED, by=by, now=now, completed_at=now,
                              reason=f"社区团购批次 #{run.pk} 已送达自提点 delivered to the point with run #{run.pk}")


def on_dispatch(shipment: Shipment, *, by: By, now: datetime) -> object:
    """``couriers.dispatch_hooks``: the run's booking when the shipment travels on another's (module doc);
    ``couriers.HOLD`` before the slot's dispatch time (:func:`dispatch_at`); None: dispatch it as usual
    (not a community shipment, or the run's lead)."""
    placed = CommunityRunShipment.objects.filter(shipment_id=shipment.pk).first()
    if placed is None:
        return None
    run = CommunityRun.objects.select_for_update().get(pk=placed.run_id)
    if run.picked_up_at is not None:
        if placed.boarded_at is not None:  # on the courier already: a follow lost to a crash, caught up
            _follow_one(shipment, run, by, now)
            return _lead_task(run) or CourierTask.objects.filter(shipment_id=run.lead_shipment_id).last()
        run = _open_run(run.leader_id, run.location_id, run.slot_date + timedelta(days=1), now)  # too late
        CommunityRunShipment.objects.filter(pk=placed.pk).update(run=run)
        _promise(shipment.pk, run.slot_date)
        history.log(Order.objects.get(pk=shipment.order_id), by=by, kind=EventKind.NOTE, shipment=shipment,
                    at=now, reason=f"社区团购批次已出发，改随 {run.slot_date} 批次 #{run.pk} the run had left: next "
                                   f"slot {run.slot_date} (run #{run.pk})"[:200])
    if now < dispatch_at(run.slot_date):  # the slot's trip is booked on its morning: wait until then
        return couriers.HOLD
    task = _lead_task(run) if run.lead_shipment_id != shipment.pk else None
    lead = Shipment.objects.filter(pk=run.lead_shipment_id).values_list("status", flat=True).first()
    boarding = CommunityRunShipment.objects.filter(pk=placed.pk, boarded_at__isnull=True).update(boarded_at=now)
    if run.lead_shipment_id == shipment.pk or task is None or lead != SS.AWAITING_COURIER:
        # The first ready (or the lead's re-dispatch, or the lead is gone): this shipment books the courier.
        CommunityRun.objects.filter(pk=run.pk).update(lead_shipment=shipment)
        return None
    if boarding or shipment.courier != task.provider:  # the sweep asks again each minute: say it once
        Shipment.objects.filter(pk=shipment.pk).update(courier=task.provider, tracking_no="")
        shipment.courier, shipment.tracking_no = task.provider, ""
        history.log(Order.objects.get(pk=shipment.order_id), by=by, kind=EventKind.NOTE, shipment=shipment,
                    at=now, reason=f"随社区团购批次 #{run.pk} 统一配送（{task.provider} {task.shipment_ref}） "
                                   f"travels with community run #{run.pk}"[:200])
    return task


def on_tracking(*, task: CourierTask, shipment: Shipment, target: str, now: datetime) -> None:
    """``couriers.tracking_hooks``: a run's lead picked up / delivered: the run records it (once), and its
    boarded shipments follow after the commit."""
    run_id = CommunityRun.objects.filter(lead_shipment_id=shipment.pk).values_list("pk", flat=True).first()
    if run_id is None:
        return
    if target in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        _failed_after_pick_up(run_id, now)
        return
    if target not in _MOVED:
        return
    CommunityRun.objects.filter(pk=run_id, picked_up_at__isnull=True).update(picked_up_at=now)
    if target == TaskStatus.DELIVERED:
        CommunityRun.objects.filter(pk=run_id, delivered_at__isnull=True).update(delivered_at=now)
    transaction.on_commit(partial(run_follow, run_id), robust=True)


def _failed_after_pick_up(run_id: int, now: datetime) -> None:
    """The lead's courier failed after picking the run up: the goods of every boarded shipment are with
    that rider too, so each gets the store's alert (the lead's own comes from ``delivery.courier_failed``).
    Before the pick-up nothing is needed: the lead is dispatched again and the others board its new task."""
    run = CommunityRun.objects.filter(pk=run_id, picked_up_at__isnull=False, delivered_at__isnull=True).first()
    if run is None:
        return
    boarded = CommunityRunShipment.objects.filter(run_id=run_id, boarded_at__isnull=False).values("shipment_id")
    riders = (Shipment.objects.filter(pk__in=boarded, status=SS.OUT_FOR_DELIVERY)
              .exclude(pk=run.lead_shipment_id).order_by("pk"))
    for s in riders:
        raise_alert(s, AlertKind.COURIER_FAILED, key=f"run_failed:{run_id}:{s.pk}",
                    message=f"社区团购批次 #{run_id} 取货后配送失败，货在骑手处，请客服跟进 community run #{run_id}: the "
                            f"courier failed after pick-up; the goods are with the rider, customer service follows up")


def run_follow(run_id: int, *, now: datetime | None = None) -> int:
    """Every boarded shipment of the run follows its courier (each its own transaction); how many moved."""
    moved = 0
    ids = list(CommunityRunShipment.objects.filter(run_id=run_id, boarded_at__isnull=False)
               .values_list("shipment_id", "shipment__order_id").order_by("shipment_id"))
    by = system("community-run")
    for shipment_id, order_id in ids:
        with transaction.atomic():
            lock_order(order_id)
            run = CommunityRun.objects.get(pk=run_id)
            shipment = Shipment.objects.get(pk=shipment_id)
            if shipment.pk == run.lead_shipment_id:
                continue
            before = shipment.status
            _follow_one(shipment, run, by, now or timezone.now())
            moved += shipment.status != before
    return moved


def runs_catch_up(*, limit: int = 500) -> int:
    """``o2o community-runs``: boarded shipments behind their run (a follow lost to a crash) follow it."""
    behind = (CommunityRunShipment.objects.filter(boarded_at__isnull=False, run__picked_up_at__isnull=False)
              .filter(Q(shipment__status=SS.AWAITING_COURIER)
                      | Q(shipment__status=SS.OUT_FOR_DELIVERY, run__delivered_at__isnull=False))
              .exclude(shipment_id=F("run__lead_shipment_id")))
    return sum(run_follow(pk) for pk in behind.values_list("run_id", flat=True).distinct().order_by("run_id")[:limit])


def run_of(shipment_id: int) -> CommunityRun | None:
    placed = CommunityRunShipment.objects.filter(shipment_id=shipment_id).select_related("run").first()
    return placed.run if placed else None


def running_trips(leader_id: int, slot: date) -> dict[int, int]:
    """Store id -> the courier fen of its trip to the point in ``slot`` (runs not picked up, with a shipment
    still going: the booked fee, else ``O2O["COMMUNITY_TRIP_FEN"]``)."""
    estimate = max(0, int(settings.O2O.get("COMMUNITY_TRIP_FEN", DEFAULT_TRIP_FEN)))
    out: dict[int, int] = {}
    for run in CommunityRun.objects.filter(leader_id=leader_id, slot_date=slot, picked_up_at__isnull=True):
        going = CommunityRunShipment.objects.filter(run=run).exclude(
            shipment__status__in=[SS.CANCELLED, SS.REROUTED]).exists()
        if going:
            task = _lead_task(run)
            out[run.location_id] = task.fee_fen if task is not None and task.external_id else estimate
    return out


def routing_preference(leader_id: int, at: datetime) -> Surcharges | None:
    """Surcharges for routing an order to the point placed at ``at``: prefer the stores already going."""
    candidates = Location.objects.filter(active=True, can_same_city=True).values_list("pk", flat=True)
    return prefer_running(running_trips(leader_id, slot_for(at)), list(candidates))
