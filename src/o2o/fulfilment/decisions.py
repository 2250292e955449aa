"""Routing an order for real: route, then store the decision and reserve its stock, all or nothing.

``decision_create`` is the first routing of an order (trigger ``initial``); ``record`` is
shared with re-routing (``reroute.py``). Both run in the caller's transaction (the API's
idempotency helper opens it), so if any reservation fails nothing is stored: the 409
``insufficient_stock`` names the short lines.

Reservations are created in location-id order (the inventory's global lock order is
(location, SKU)), one per shipment, ``reference = order_ref``; a re-route's release of the
rejected shipment's reservation takes its place in that order too (``release``), so two
stores rejecting towards each other at the same moment cannot deadlock. Held for
``O2O["ROUTED_RESERVATION_TTL_S"]`` (default 48 h: a routed order is paid and waits for
its pick, unlike a 15-minute cart hold).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from o2o.common.errors import Conflict, InvalidInput
from o2o.core.routing import Choice, Mode, Order, Plan, RoutingConfig, route
from o2o.core.routing.surcharges import Surcharges
from o2o.fulfilment import clock
from o2o.fulfilment.models import RoutedShipment, RoutingDecision, ShipmentStatus, Trigger, routing_of
from o2o.fulfilment.network import Snapshot, load_basket, load_network
from o2o.fulfilment.quotes import CannotFill, check_pickup_location, complete, destination, network_for
from o2o.fulfilment.signals import shipment_rerouted
from o2o.inventory.ledger import Who
from o2o.inventory.reservations import reservation_create
from o2o.inventory.validation import Line

DEFAULT_TTL_S = 48 * 3600


def reservation_ttl_s() -> int:
    return int(settings.O2O.get("ROUTED_RESERVATION_TTL_S", DEFAULT_TTL_S))


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as stored: shipments with their cost breakdown and ETA, unfilled lines with reasons."""
    return {
        "order_id": str(plan.order_id), "choice": plan.choice.value, "policy": plan.policy,
        "cost_fen": plan.cost_fen, "cash_fen": plan.cash_fen, "objective_fen": plan.objective_fen,
        "explanation": plan.explanation,
        "shipments": [{
            "location_id": s.node_id, "location_name": s.node_name, "node_kind": s.node_kind.value,
            "mode": s.mode.value, "courier": s.courier, "weight_g": s.weight_g, "distance_m": s.distance_m,
            "lines": [{"sku_id": ln.sku_id, "qty": ln.qty, "weight_g": ln.weight_g} for ln in s.lines],
            "cost": {"pick_fen": s.cost.pick_fen, "courier_base_fen": s.cost.courier_base_fen,
                     "courier_distance_fen": s.cost.courier_distance_fen,
                     "courier_weight_fen": s.cost.courier_weight_fen, "courier_night_fen": s.cost.courier_night_fen,
                     "express_fen": s.cost.express_fen, "lateness_fen": s.cost.lateness_fen,
                     "extra_parcel_fen": s.cost.extra_parcel_fen, "cash_fen": s.cost.cash_fen,
                     "total_fen": s.cost.total_fen},
            "eta": {"earliest": s.eta.earliest.isoformat(), "latest": s.eta.latest.isoformat(),
                    "earliest_min": s.eta.earliest_min, "latest_min": s.eta.latest_min},
        } for s in plan.shipments],
        "unfilled": [{"sku_id": u.sku_id, "qty": u.qty, "reason": u.reason.value, "detail": u.detail}
                     for u in plan.unfilled],
    }


def config_summary(config: RoutingConfig) -> dict[str, Any]:
    return {"circuity": config.circuity, "max_parcels": config.max_parcels,
            "unfilled_line_penalty_fen": config.unfilled_line_penalty_fen,
            "extra_parcel_penalty_fen": config.extra_parcel_penalty_fen,
            "couriers": [c.provider for c in config.couriers], "express": config.express.carrier,
            "same_city_promise_min": config.same_city_promise_min, "pickup_promise_min": config.pickup_promise_min,
            "pickup_collect_min": config.pickup_collect_min}


def inputs_json(order: Order, snap: Snapshot, **extra: Any) -> dict[str, Any]:
    return {"lines": [{"sku_id": ln.sku_id, "qty": ln.qty, "unit_weight_g": ln.weight_g} for ln in order.lines],
            "now": snap.now.isoformat(),
            "candidates": sum(1 for n in snap.network.nodes if any(n.stock.get(ln.sku_id, 0) > 0 for ln in order.lines)),
            "network": snap.summary(), "config": config_summary(snap.network.config), **extra}


def modes_json(modes: frozenset[Mode] | None) -> dict[str, Any]:
    """For the decision's inputs: the only modes the choice allows (nothing when it allows all)."""
    return {} if modes is None else {"modes": sorted(m.value for m in modes)}


def record(*, order: Order, plan: Plan, snap: Snapshot, trigger: str, who: Who, inputs: dict[str, Any],
           parent: RoutingDecision | None = None, source_shipment: RoutedShipment | None = None,
           excluded: Iterable[int] = (), release: tuple[int, Callable[[], object]] | None = None,
           choice: str | None = None) -> RoutingDecision:
    """Store ``plan`` as a decision and reserve every shipment's lines (caller's transaction).

    ``choice``: the customer's choice kind (``ChoiceKind``: ``express`` routes as the engine's
    ``cheapest`` over express only); default the engine's choice. ``release`` = (location id,
    action): the re-route's release of the old reservation, run in location-id order among the
    new reservations (the inventory's lock order).
    """
    point = snap.point
    decision = RoutingDecision.objects.create(
        order_ref=str(order.order_id), parent=parent, source_shipment=source_shipment, trigger=trigger,
        choice=choice or order.choice.value, dest_lat=point.lat, dest_lng=point.lng,
        pickup_location_id=order.pickup_node_id if order.choice is Choice.PICKUP else None,
        inputs=inputs, plan=plan_json(plan), explanation=plan.explanation, objective_fen=max(0, plan.objective_fen),
        cost_fen=max(0, plan.cost_fen), cash_fen=max(0, plan.cash_fen), policy=plan.policy,
        excluded_location_ids=sorted(set(excluded)), created_at=snap.now, created_by_id=who.user_id,
        actor_label=who.label[:100])
    ttl = reservation_ttl_s()
    steps: list[tuple[int, Any]] = [(int(s.node_id), s) for s in plan.shipments]
    if release is not None:
        steps.append((int(release[0]), None))
    for _, s in sorted(steps, key=lambda step: (step[0], step[1] is not None)):
        if s is None:
            release[1]()  # type: ignore[index]
            continue
        res = reservation_create(location_id=int(s.node_id), lines=[Line(int(ln.sku_id), ln.qty) for ln in s.lines],
                                 who=who, reference=decision.order_ref, ttl_s=ttl, now=snap.now)
        RoutedShipment.objects.create(
            decision=decision, location_id=s.node_id, mode=s.mode.value, courier=s.courier, reservation_id=res.id,
            status=ShipmentStatus.RESERVED, cost_fen=max(0, s.cost.total_fen),
            lines=[{"sku_id": ln.sku_id, "qty": ln.qty, "weight_g": ln.weight_g} for ln in s.lines],
            eta_earliest=s.eta.earliest, eta_latest=s.eta.latest, created_at=snap.now)
    if source_shipment is not None:
        shipment_rerouted.send(sender=RoutingDecision, decision=decision, source_shipment=source_shipment)
    return decision


def decision_create(*, order_ref: str, lines: list[tuple[int, int]], lat: float, lng: float, coord: str,
                    choice: str, pickup_location_id: int | None, who: Who,
                    now: datetime | None = None, basket: tuple | None = None,
                    surcharges: Surcharges | None = None) -> RoutingDecision:
    """Route an order and store the decision with one reservation per shipment, or nothing.

    ``surcharges``: the caller's preferences between nodes (e.g. a community point's stores already
    sending a trip, ``o2o.groupbuy.runs.routing_preference``); they choose the plan, never its price.

    ``choice`` is a ``ChoiceKind``, routed as ``routing_of`` says (``same_city`` / ``express``:
    only that mode, as the quote's options of those kinds). ``now`` may be any aware time; the
    engine reads it in local time (``clock.local``).

    422: the quote's input errors, ``invalid_choice``, ``pickup_location_required`` /
    ``pickup_location_unexpected``, ``cannot_fill`` (the plan leaves a line unfilled). 409:
    ``already_routed`` (the order has an initial decision), ``insufficient_stock`` (a
    reservation failed; nothing is stored).
    """
    chosen, modes = routing_of(choice)
    basket = load_basket(lines) if basket is None else basket  # the caller may have checked it already
    point = destination(lat, lng, coord)
    if chosen is Choice.PICKUP and pickup_location_id is None:
        raise InvalidInput("自提须指定门店 Pickup needs pickup_location_id", code="pickup_location_required")
    if chosen is not Choice.PICKUP and pickup_location_id is not None:
        raise InvalidInput("仅自提订单可指定自提门店 pickup_location_id is only for choice pickup",
                           code="pickup_location_unexpected", details={"choice": choice})
    first = RoutingDecision.objects.filter(order_ref=order_ref, trigger=Trigger.INITIAL).values_list("pk", flat=True).first()
    if first is not None:
        raise Conflict("订单已路由 The order is already routed", code="already_routed",
                       details={"order_ref": order_ref, "decision_id": first})
    now = clock.local(now)  # the engine reads local hours (night surcharge, express cut-off, capacity)
    snap = load_network(lines=basket, point=point, now=now, pickup_location_id=pickup_location_id)
    check_pickup_location(snap, pickup_location_id)
    order = Order(order_id=order_ref, lines=basket, destination=point, choice=chosen, pickup_node_id=pickup_location_id)
    plan = route(order, network_for(snap, modes), now, surcharges=surcharges)
    if not complete(plan):
        reasons = {u.sku_id: u.reason.value for u in plan.unfilled}
        raise CannotFill([{"sku_id": ln.sku_id, "qty": ln.qty, "reasons": [reasons[ln.sku_id]] if ln.sku_id in reasons else [],
                           "by_option": {choice: reasons.get(ln.sku_id)}} for ln in basket])
    try:
        with transaction.atomic():
            return record(order=order, plan=plan, snap=snap, trigger=Trigger.INITIAL, who=who, choice=choice,
                          inputs=inputs_json(order, snap, coord=coord, pickup_location_id=pickup_location_id,
                                              **modes_json(modes)))
    except IntegrityError:
        # The same order routed by a concurrent request since the check above (UNIQUE initial).
        first = RoutingDecision.objects.filter(order_ref=order_ref, trigger=Trigger.INITIAL).values_list(
            "pk", flat=True).first()
        if first is None:
            raise
        raise Conflict("订单已路由 The order is already routed", code="already_routed",
                       details={"order_ref": order_ref, "decision_id": first}) from None
