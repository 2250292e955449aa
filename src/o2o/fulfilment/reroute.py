"""Re-routing one shipment: its store rejected it, or picking came up short.

``shipment_reject`` (a store's answer, through the API) and ``shipment_reroute_short`` (the
``reservation_shorted`` signal and the ``o2o reroute-shorted`` sweep) share one step, in
one transaction:

1. lock the shipment row and move it from ``reserved`` to ``rejected`` / ``short`` with a
   conditional UPDATE (a second attempt finds it closed: 409 ``shipment_not_open``);
2. route **its** lines with the core ``reroute`` excluding its location and every location
   excluded earlier in the decision chain (``excluded_location_ids`` is cumulative), with the
   order's choice as first routed (``models.routing_of``: an express-only order stays
   express-only, a same-city one same-city);
3. store the new decision (``parent`` = the shipment's decision, ``source_shipment`` = the
   shipment, UNIQUE: a shipment is re-routed at most once), reserve its shipments and
   release the old reservation (a shorted one is already closed), in location-id order
   (the inventory's lock order; ``decisions.record``).

The new decision may leave lines unfilled (nothing else has them): the rejection still
stands and the decision records why, for customer service. When stock is taken between
routing and reserving, step 2-3 is retried on a fresh network (``ATTEMPTS``); if it still
fails the whole step rolls back (409) and the store may send it again with a new key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict, NotFound
from o2o.core.geo import LatLng
from o2o.core.routing import Choice, Order, OrderLine, Plan, reroute
from o2o.fulfilment import clock
from o2o.fulfilment.decisions import inputs_json, modes_json, record
from o2o.fulfilment.models import RoutedShipment, RoutingDecision, ShipmentStatus, Trigger, routing_of
from o2o.fulfilment.network import load_network
from o2o.fulfilment.ownership import owner_of
from o2o.fulfilment.quotes import network_for
from o2o.inventory.errors import InsufficientStock
from o2o.inventory.ledger import Who
from o2o.inventory.models import ReservationStatus
from o2o.inventory.reservations import reservation_release

log = logging.getLogger("o2o.fulfilment")

PICK_SHORT_WHO = Who(label="system:pick_short")
ATTEMPTS = 3  # routings tried when the stock a plan relied on is taken before it is reserved


def get_shipment(shipment_id: int) -> RoutedShipment:
    s = RoutedShipment.objects.filter(pk=shipment_id).first()
    if s is None:
        raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment", details={"shipment_id": shipment_id})
    return s


def _lock(shipment_id: int) -> RoutedShipment:
    qs = RoutedShipment.objects.filter(pk=shipment_id)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",))
    s = qs.select_related("decision").first()
    if s is None:
        raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment", details={"shipment_id": shipment_id})
    return s


def _lines(shipment: RoutedShipment) -> tuple[OrderLine, ...]:
    return tuple(OrderLine(int(ln["sku_id"]), int(ln["qty"]), int(ln.get("weight_g", 0)) // max(1, int(ln["qty"])))
                 for ln in shipment.lines)


def _reroute(shipment_id: int, *, trigger: str, status: str, reason: str, who: Who,
             now: datetime | None) -> RoutingDecision:
    """Steps 1-3 of the module docstring, in the caller's transaction."""
    shipment = _lock(shipment_id)
    won = RoutedShipment.objects.filter(pk=shipment.pk, status=ShipmentStatus.RESERVED).update(
        status=status, status_changed_at=timezone.now(), status_reason=reason[:200])
    if not won:
        shipment.refresh_from_db(fields=["status"])
        raise Conflict("发货单已不在待拣状态 The shipment is no longer open", code="shipment_not_open",
                       details={"shipment_id": shipment.pk, "status": shipment.status})
    release = None
    if shipment.reservation_id is not None:
        reservation_id = shipment.reservation_id

        def release_old() -> None:
            # the append-only stock ledger gets a fixed reason, never text a person typed (PIPL erasure)
            reservation_release(reservation_id=reservation_id, who=who, reason=f"改派 reroute: {trigger}"[:200])

        release = (shipment.location_id, release_old)
    parent = shipment.decision
    excluded = set(parent.excluded_location_ids) | {shipment.location_id}
    lines = _lines(shipment)
    point = LatLng(parent.dest_lat, parent.dest_lng)
    now = clock.local(now)  # the engine reads local hours
    choice, modes = routing_of(parent.choice)
    pickup_id = parent.pickup_location_id if choice is Choice.PICKUP else None
    order = Order(order_id=parent.order_ref, lines=lines, destination=point, choice=choice, pickup_node_id=pickup_id)
    before = Plan(order_id=parent.order_ref, choice=choice, shipments=(), unfilled=(), cost_fen=0, cash_fen=0,
                  objective_fen=0)
    for attempt in range(1, ATTEMPTS + 1):
        # The excluded location's stock plays no part, so routing before the release is exact.
        snap = load_network(lines=lines, point=point, now=now, pickup_location_id=pickup_id)
        plan = reroute(order, before, sorted(excluded), network_for(snap, modes), now, lines=lines)
        try:
            with transaction.atomic():
                return record(order=order, plan=plan, snap=snap, trigger=trigger, who=who, parent=parent,
                              source_shipment=shipment, excluded=excluded, release=release, choice=parent.choice,
                              inputs=inputs_json(order, snap, reason=reason, source_shipment_id=shipment.pk,
                                                 **modes_json(modes)))
        except InsufficientStock:
            if attempt == ATTEMPTS:
                raise
            log.info("re-routing shipment %s: stock taken before it was reserved; routing again", shipment.pk)
    raise AssertionError("unreachable")  # pragma: no cover


def shipment_reject(*, shipment_id: int, reason: str, who: Who, now: datetime | None = None) -> RoutingDecision:
    """The shipment's store will not fulfil it: release it and route its lines elsewhere."""
    with transaction.atomic():
        return _reroute(shipment_id, trigger=Trigger.STORE_REJECTED, status=ShipmentStatus.REJECTED,
                        reason=reason, who=who, now=now)


def shipment_reroute_short(shipment_id: int, *, now: datetime | None = None) -> RoutingDecision | None:
    """Re-route a shipment whose reservation was shorted; None when it is already handled.

    Its own transaction. Idempotent: a shipment no longer ``reserved`` (or already the
    source of a re-route, UNIQUE) is skipped.
    """
    try:
        with transaction.atomic():
            s = _lock(shipment_id)
            if s.status != ShipmentStatus.RESERVED or s.reservation is None \
                    or s.reservation.status != ReservationStatus.SHORTED:
                return None
            return _reroute(shipment_id, trigger=Trigger.PICK_SHORT, status=ShipmentStatus.SHORT,
                            reason="拣货缺货 reservation shorted at the store", who=PICK_SHORT_WHO, now=now)
    except (Conflict, IntegrityError):
        return None  # another process re-routed it first


def reroute_shorted(reservation_ids: Iterable[int] | None = None, *, limit: int = 500) -> list[int]:
    """Re-route open shipments whose reservation is shorted (those named, or all); the new decisions' ids.

    A shipment an app owns (an order's, ``ownership``) is handed to its owner instead.

    Each shipment in its own transaction; one that fails is logged and left for the next sweep.
    """
    qs = RoutedShipment.objects.filter(status=ShipmentStatus.RESERVED, reservation__status=ReservationStatus.SHORTED,
                                       rerouted_by__isnull=True).order_by("pk")
    if reservation_ids is not None:
        qs = qs.filter(reservation_id__in=list(reservation_ids))
    done: list[int] = []
    # Scan past the ones left as they are (an owner declines a shipment already packed), so they
    # can never hide newer ones; at most ``limit`` re-routes and ten times that many looks a run.
    for pk in list(qs.values_list("pk", flat=True)[:10 * limit]):
        if len(done) >= limit:
            break
        owner = owner_of(pk)
        try:
            d = owner.reroute_short(pk) if owner is not None else shipment_reroute_short(pk)
        except (ApiError, DatabaseError):
            log.exception("could not re-route shorted shipment %s", pk)
            continue
        if isinstance(d, RoutingDecision):
            done.append(d.pk)
    return done


def on_reservation_shorted(sender, reservation_ids: tuple[int, ...] = (), **kwargs) -> None:  # noqa: ANN001
    """Receiver of ``o2o.inventory.signals.reservation_shorted`` (after the POS commit)."""
    done = reroute_shorted(reservation_ids)
    if done:
        log.info("re-routed shorted reservations %s: decisions %s", reservation_ids, done)
