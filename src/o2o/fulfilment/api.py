"""Fulfilment API: checkout quotes, routing decisions, store rejections, an order's routing history.

* ``POST /quote``: members and staff (like availability); stores nothing.
* ``POST /decisions``: HQ-scope staff with ``stock.reserve`` (the order service's account):
  the engine may place shipments anywhere, so narrower scopes may not route.
* ``POST /shipments/{id}/reject``: ``stock.reserve`` at the shipment's store (its clerks and
  manager, its region's manager, HQ); answers the new decision as the caller may see it (the
  body of ``GET /decisions/{id}``: a store sees only its own shipments).
* ``GET /decisions``, ``GET /decisions/{id}``: ``stock.view``, scoped (see ``selectors``).

POSTs take an ``Idempotency-Key`` (the inventory's Stripe-style helper, per actor and operation).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Header, Query, Router

from o2o.accounts.permissions import actor_of, require, visible_location_ids
from o2o.common.errors import Conflict
from o2o.core.access import Actor, ActorKind, Perm
from o2o.fulfilment import decisions, quotes, reroute, selectors
from o2o.fulfilment.models import RoutingDecision
from o2o.fulfilment.ownership import owner_of
from o2o.fulfilment.schemas import (
    DecisionIn,
    DecisionOut,
    HistoryOut,
    QuoteIn,
    QuoteOut,
    RejectIn,
    with_errors,
)
from o2o.inventory.idempotency import run_idempotent
from o2o.inventory.ledger import Who

try:
    from ninja import Status
except ImportError:  # django-ninja < 1.6: a (status, body) tuple means the same
    def Status(status_code: int, value: Any) -> tuple[int, Any]:  # type: ignore[no-redef]  # noqa: N802
        return status_code, value

router = Router(tags=["fulfilment"])

IdemKey = Header(None, alias="Idempotency-Key", description="repeat-safe key (1-120 chars), kept 24 h")


def _who(actor: Actor) -> Who:
    user_id = actor.id if actor.kind is ActorKind.STAFF else None
    return Who(user_id=user_id, label=f"{actor.kind.value}:{actor.id}")


def _idempotent(request: HttpRequest, op: str, key: str | None, payload: Any, work) -> Status:  # noqa: ANN001
    actor = actor_of(request)
    out = run_idempotent(operation=f"{op}:{actor.kind.value}:{actor.id}"[:64], key=key, payload=payload, work=work)
    return Status(out.status, out.body)


def _decision_body(d: RoutingDecision, visible: list[int] | None) -> dict:
    """The new decision as the caller may see it (a store sees only its own shipments)."""
    fresh = selectors.decision_get(d.pk, visible)
    return DecisionOut.model_validate(fresh).model_dump(mode="json")


@router.post("/quote", response=with_errors({200: QuoteOut}),
             summary="Fulfilment options for a cart at the customer's point (pickup, same-city, express)")
def quote(request: HttpRequest, body: QuoteIn):
    require(request, Perm.LOCATION_VIEW)
    return quotes.quote(lines=[(ln.sku_id, ln.qty) for ln in body.lines], lat=body.lat, lng=body.lng,
                        coord=body.coord, pickup_location_id=body.pickup_location_id)


@router.post("/decisions", response=with_errors({201: DecisionOut}, 409),
             summary="Route an order: store the decision and reserve every shipment, or nothing")
def decision_create(request: HttpRequest, body: DecisionIn, idempotency_key: str | None = IdemKey):
    who = _who(require(request, Perm.STOCK_RESERVE))

    def work() -> tuple[int, dict]:
        d = decisions.decision_create(order_ref=body.order_ref, lines=[(ln.sku_id, ln.qty) for ln in body.lines],
                                      lat=body.lat, lng=body.lng, coord=body.coord, choice=body.choice,
                                      pickup_location_id=body.pickup_location_id, who=who)
        return 201, _decision_body(d, None)  # HQ scope only: sees it whole

    return _idempotent(request, "fulfilment.decision", idempotency_key, body.model_dump(mode="json"), work)


@router.get("/decisions", response=with_errors({200: HistoryOut}),
            summary="An order's routing history: its decisions, oldest first")
def decision_history(request: HttpRequest, order_ref: str = Query(..., min_length=1, max_length=100)):
    visible = visible_location_ids(request, Perm.STOCK_VIEW)
    return selectors.history(order_ref, visible)


@router.get("/decisions/{decision_id}", response=with_errors({200: DecisionOut}), summary="A routing decision")
def decision_get(request: HttpRequest, decision_id: int):
    visible = visible_location_ids(request, Perm.STOCK_VIEW)
    return selectors.decision_get(decision_id, visible)


@router.post("/shipments/{shipment_id}/reject", response=with_errors({201: DecisionOut}, 409),
             summary="The store will not fulfil a shipment: release it and re-route its lines")
def shipment_reject(request: HttpRequest, shipment_id: int, body: RejectIn, idempotency_key: str | None = IdemKey):
    shipment = reroute.get_shipment(shipment_id)
    who = _who(require(request, Perm.STOCK_RESERVE, location=shipment.location_id))
    owner = owner_of(shipment.pk)
    if owner is not None:  # an order's shipment: its store rejects it through the order center
        raise Conflict("这是订单的发货单，请在门店工作台拒单 This shipment belongs to an order; "
                       "reject it with POST /api/v1/store/shipments/{id}/reject", code="owned_shipment",
                       details={"routed_shipment_id": shipment.pk, "owner": owner.name})
    visible = visible_location_ids(request, Perm.STOCK_VIEW)  # the answer shows what GET would
    reason = body.reason

    def work() -> tuple[int, dict]:
        d = reroute.shipment_reject(shipment_id=shipment_id, reason=reason, who=who)
        return 201, _decision_body(d, visible)

    return _idempotent(request, "fulfilment.reject", idempotency_key,
                       {"shipment_id": shipment_id, **body.model_dump(mode="json")}, work)
