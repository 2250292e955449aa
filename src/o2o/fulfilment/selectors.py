"""Reading decisions: one decision, an order's history, and who may see them.

``visible`` is the list from ``visible_location_ids`` (``None`` for HQ scope: everything).

* HQ scope sees every decision whole.
* Region and store scope see a decision when one of its shipments, or the shipment it
  re-routes (``source_shipment``), is at one of their locations; so the store that rejected
  a shipment sees what became of it. They see **only the shipments at their locations**
  (``hidden_shipments`` counts the others); the stored plan is cut to those shipments and
  the explanation (which names the other locations) is withheld when any is hidden, and the
  network summary lists queues and capacity of their locations only.

Datetimes are shown in local time (``settings.TIME_ZONE``, Asia/Shanghai), like the quotes.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.db.models import Prefetch, Q
from django.utils import timezone

from o2o.common.errors import Forbidden, NotFound
from o2o.fulfilment.models import RoutedShipment, RoutingDecision


def _local(at):  # noqa: ANN001, ANN202 - an aware datetime
    return timezone.localtime(at) if at is not None else None


def _shipment(s: RoutedShipment) -> dict[str, Any]:
    return {"id": s.pk, "location_id": s.location_id, "location_name": s.location.name, "mode": s.mode,
            "courier": s.courier, "status": s.status, "status_reason": s.status_reason,
            "reservation_id": s.reservation_id, "lines": [{"sku_id": ln["sku_id"], "qty": ln["qty"]} for ln in s.lines],
            "cost_fen": s.cost_fen, "eta": {"earliest": _local(s.eta_earliest), "latest": _local(s.eta_latest)}}


def _scoped_inputs(inputs: dict[str, Any], visible: Collection[int]) -> dict[str, Any]:
    """The routing inputs without other locations' queues and capacity."""
    network = inputs.get("network")
    if not isinstance(network, dict):
        return inputs
    mine = {str(i) for i in visible}
    network = {**network,
               "no_capacity": [i for i in network.get("no_capacity", []) if str(i) in mine],
               "queues": {k: v for k, v in network.get("queues", {}).items() if k in mine}}
    return {**inputs, "network": network}


def _scoped_plan(plan: dict[str, Any], visible: Collection[int]) -> dict[str, Any]:
    """The stored plan with only the visible shipments (totals and explanation withheld)."""
    keep = ("order_id", "choice", "policy", "unfilled")
    return {**{k: plan[k] for k in keep if k in plan},
            "shipments": [s for s in plan.get("shipments", []) if s.get("location_id") in visible]}


def decision_dict(d: RoutingDecision, visible: Collection[int] | None = None) -> dict[str, Any]:
    """A decision as ``visible`` may see it (``shipments`` should be prefetched with their locations)."""
    shipments = list(d.shipments.all())
    shown = shipments if visible is None else [s for s in shipments if s.location_id in visible]
    hidden = len(shipments) - len(shown)
    inputs, plan, explanation = d.inputs, d.plan, d.explanation
    if visible is not None:
        inputs = _scoped_inputs(inputs, visible)
        if hidden:
            plan, explanation = _scoped_plan(plan, visible), ""
    return {
        "id": d.pk, "order_ref": d.order_ref, "parent_id": d.parent_id, "source_shipment_id": d.source_shipment_id,
        "trigger": d.trigger, "choice": d.choice,
        "destination": {"lat": d.dest_lat, "lng": d.dest_lng, "coord": "gcj02"},
        "pickup_location_id": d.pickup_location_id,
        "shipments": [_shipment(s) for s in shown], "hidden_shipments": hidden,
        "unfilled": d.plan.get("unfilled", []), "explanation": explanation,
        "objective_fen": d.objective_fen, "cost_fen": d.cost_fen, "cash_fen": d.cash_fen, "policy": d.policy,
        "excluded_location_ids": d.excluded_location_ids, "inputs": inputs, "plan": plan,
        "created_at": _local(d.created_at), "created_by_id": d.created_by_id, "actor_label": d.actor_label,
    }


def _with_shipments():
    shipments = RoutedShipment.objects.select_related("location").order_by("pk")
    return (RoutingDecision.objects.select_related("source_shipment")
            .prefetch_related(Prefetch("shipments", queryset=shipments)))


def _visible(qs, visible: Collection[int] | None):  # noqa: ANN001, ANN202
    if visible is None:
        return qs
    here = RoutedShipment.objects.filter(location_id__in=list(visible))
    return qs.filter(Q(pk__in=here.values("decision_id")) | Q(source_shipment__in=here.values("pk")))


def may_see(d: RoutingDecision, visible: Collection[int] | None) -> bool:
    if visible is None:
        return True
    if any(s.location_id in visible for s in d.shipments.all()):
        return True
    return d.source_shipment is not None and d.source_shipment.location_id in visible


def decision_get(decision_id: int, visible: Collection[int] | None) -> dict[str, Any]:
    """One decision; 404 unknown, 403 when the actor may not see it (like inventory)."""
    d = _with_shipments().filter(pk=decision_id).first()
    if d is None:
        raise NotFound("路由决策不存在 Unknown routing decision", code="unknown_decision",
                       details={"decision_id": decision_id})
    seen = None if visible is None else frozenset(visible)
    if not may_see(d, seen):
        raise Forbidden("无权访问 Not allowed here", details={"decision_id": decision_id})
    return decision_dict(d, seen)


def history(order_ref: str, visible: Collection[int] | None) -> dict[str, Any]:
    """The order's decisions the actor may see, oldest first (the re-routing chain)."""
    seen = None if visible is None else frozenset(visible)
    qs = _visible(_with_shipments().filter(order_ref=order_ref), seen).order_by("pk")
    return {"order_ref": order_ref, "decisions": [decision_dict(d, seen) for d in qs]}
