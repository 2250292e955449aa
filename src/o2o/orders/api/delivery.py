"""Same-city delivery: the couriers' status callbacks, a shipment's tracking, and the courier sandbox.

* ``POST /delivery/callbacks/{provider}`` (no auth: the body's or the URL's signature is the
  proof): the raw body, the headers, and the query-string signatures (Dada ``o2o_token`` as
  ``X-Dada-Token``, SF ``sign`` as ``X-Sf-Sign``); answers exactly the provider's ack.
* ``GET /delivery/shipments/{id}/tracking``: the member who owns the order (404 for anyone
  else's) or staff who may see the shipment's store (403 otherwise): every dispatch attempt
  with its events and rider.
* ``POST /delivery/sandbox/advance`` and ``/sandbox/fail`` (simulator mode and HQ staff only;
  404 in production): move the simulated couriers' clock and apply what falls due, or make a
  shipment's current courier fail.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router

from o2o.accounts.permissions import actor_of, require
from o2o.common.errors import InvalidInput, NotFound
from o2o.core.access import ActorKind, Perm
from o2o.orders import couriers, delivery, delivery_sweeps
from o2o.orders.api.delivery_schemas import AdvanceIn, AdvanceOut, CallbackAck, FailIn, FailOut, TrackingOut
from o2o.orders.api.schemas import ErrorOut, with_errors
from o2o.orders.models import CourierTask, DeliveryAlert, Shipment, TrackingEvent

router = Router(tags=["delivery"])

_RAW_JSON = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "the provider's callback body, exactly as sent"}}}}}


@router.post("/callbacks/{provider}", auth=None, response={200: CallbackAck, 400: CallbackAck, 404: ErrorOut},
             openapi_extra=_RAW_JSON,
             summary="A courier provider's status callback (dada, sf, own); answers the provider's ack")
def courier_callback(request: HttpRequest, provider: str):
    if provider not in couriers.PROVIDERS:
        raise NotFound("未知配送渠道 Unknown courier provider", code="unknown_provider",
                       details={"provider": provider[:40], "allowed": list(couriers.PROVIDERS)})
    try:
        body = request.body
    except RequestDataTooBig:
        raise InvalidInput("回调内容过大 Callback body too large", code="body_too_large") from None
    headers = couriers.callback_headers(request.GET.dict(), dict(request.headers))
    status, content_type, ack = delivery.tracking_apply(provider, headers, body)
    return HttpResponse(ack, status=status, content_type=content_type)


def _local(at):  # noqa: ANN001, ANN202
    return timezone.localtime(at) if at is not None else None


def _tracking(shipment: Shipment, *, staff: bool) -> dict:
    tasks = (CourierTask.objects.filter(shipment=shipment).order_by("attempt")
             .prefetch_related(Prefetch("events", queryset=TrackingEvent.objects.order_by("at", "pk"))))
    alerts = DeliveryAlert.objects.filter(shipment=shipment).order_by("created_at", "pk") if staff else []
    return {
        "shipment_id": shipment.pk, "order_id": shipment.order_id, "order_number": shipment.order.number,
        "location_id": shipment.location_id, "location_name": shipment.location.name, "mode": shipment.mode,
        "status": shipment.status, "courier": shipment.courier,
        "eta": ({"earliest": _local(shipment.eta_earliest), "latest": _local(shipment.eta_latest)}
                if shipment.eta_earliest and shipment.eta_latest else None),
        "handed_over_at": _local(shipment.handed_over_at), "completed_at": _local(shipment.completed_at),
        "tasks": [{
            "attempt": t.attempt, "provider": t.provider, "shipment_ref": t.shipment_ref,
            "external_id": t.external_id, "status": t.status, "fee_fen": t.fee_fen if staff else None,
            "rider": {"name": t.rider_name, "phone": t.rider_phone} if (t.rider_name or t.rider_phone) else None,
            "failed_reason": t.failed_reason, "created_at": _local(t.created_at), "updated_at": _local(t.updated_at),
            "events": [{"status": e.status, "at": _local(e.at), "reason": e.reason, "received_at": _local(e.received_at)}
                       for e in t.events.all()],
        } for t in tasks],
        "alerts": [{"id": a.pk, "kind": a.kind, "message": a.message, "created_at": _local(a.created_at),
                    "resolved_at": _local(a.resolved_at)} for a in alerts],
    }


@router.get("/shipments/{shipment_id}/tracking", response=with_errors({200: TrackingOut}),
            summary="A shipment's courier tracking: every dispatch attempt, its events and rider")
def shipment_tracking(request: HttpRequest, shipment_id: int):
    actor = actor_of(request)
    shipment = Shipment.objects.select_related("order", "location").filter(pk=shipment_id).first()
    if actor.kind is ActorKind.MEMBER:
        if shipment is None or shipment.order.member_id != actor.id:
            raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment", details={"shipment_id": shipment_id})
        return _tracking(shipment, staff=False)
    if shipment is None:
        raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment", details={"shipment_id": shipment_id})
    require(request, Perm.ORDER_VIEW, location=shipment.location_id)
    return _tracking(shipment, staff=True)


def _sandbox_admin(request: HttpRequest) -> None:
    if not couriers.simulator_mode():
        raise NotFound("未找到 Not found", code="not_found")
    require(request, Perm.ORDER_FULFIL)  # chain-wide: HQ staff only


@router.post("/sandbox/advance", response=with_errors({200: AdvanceOut}),
             summary="Simulator mode: move the couriers' clock forward and apply the callbacks that fall due")
def sandbox_advance(request: HttpRequest, body: AdvanceIn):
    _sandbox_admin(request)
    return delivery_sweeps.sandbox_run(body.minutes)


@router.post("/sandbox/fail", response=with_errors({200: FailOut}, 409),
             summary="Simulator mode: make a shipment's current courier task fail (no_rider, rider_cancelled, timeout)")
def sandbox_fail(request: HttpRequest, body: FailIn):
    _sandbox_admin(request)
    if not Shipment.objects.filter(pk=body.shipment_id).exists():
        raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment",
                       details={"shipment_id": body.shipment_id})
    task = delivery_sweeps.sandbox_fail(body.shipment_id, body.mode)
    return {"shipment_id": body.shipment_id, "shipment_ref": task.shipment_ref, "provider": task.provider,
            "mode": body.mode}
