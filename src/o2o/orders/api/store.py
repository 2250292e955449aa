"""The store's side of online orders (staff only; members get 403).

* ``GET /store/queue``: the store's shipments to pick, ready for pickup and with couriers,
  with a timer against the promise, and its open alerts (``order.view`` at the store).
* ``POST /store/shipments/{id}/start | ready | reject``: ``order.fulfil`` at the shipment's
  store; ``Idempotency-Key`` (same key and body = the first answer). ``ready`` of a pickup
  whose stock hold lapsed is a 409 ``hold_lost`` (reject it to re-route it).
* ``POST /store/shipments/{id}/lines/{sku_id}/pick`` ``{qty}``: confirm a line picked (whole by
  default; an absolute count, so repeating it is harmless); ``order.fulfil`` at the shipment's store.
  ``ready`` is a 409 ``lines_not_picked`` until every line is picked, unless ``{"pick_all": true}``
  (an integration that confirms picking in its own system).
* ``POST /store/shipments/{id}/delivered``: an express parcel was signed for (``shipped ->
  completed``); ``order.fulfil`` at the shipping location (HQ anywhere); ``Idempotency-Key``.
* ``POST /store/pickup/verify``: ``order.fulfil`` at ``location_id``; the code must belong to
  a shipment of that store. Every attempt is logged (``PickupVerification``), refusals too.
* ``GET /store/alerts``, ``POST /store/alerts/{id}/resolve``.

A store-scoped staff member may leave ``location_id`` out (their store); another store's id
is a 403. Region and HQ staff name the store.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from o2o.accounts.permissions import actor_of, require
from o2o.catalog.models import Sku
from o2o.common.errors import Forbidden, InvalidInput
from o2o.core.access import Actor, ActorKind, Perm, ScopeKind
from o2o.fulfilment.schemas import with_errors
from o2o.orders import pickup, store_work
from o2o.orders.api.common import IdemKey, by_of, idempotent
from o2o.orders.api.store_schemas import (
    AlertOut,
    DeliveredIn,
    PickIn,
    PickOut,
    QueueOut,
    ReadyIn,
    RejectIn,
    StoreShipmentActionOut,
    VerifyIn,
    VerifyOut,
)
from o2o.orders.models import Shipment

router = Router(tags=["store"])
_BIGINT = 2**63 - 1


def _staff(request: HttpRequest) -> Actor:
    actor = actor_of(request)
    if actor.kind is not ActorKind.STAFF:
        raise Forbidden("仅门店员工可操作 Store staff only", code="staff_only")
    return actor


def _location(request: HttpRequest, location_id: int | None, perm: Perm) -> int:
    actor = _staff(request)
    if location_id is None:
        if actor.scope is not ScopeKind.STORE or actor.location_id is None:
            raise InvalidInput("请指定门店 location_id is required", code="location_required",
                               details={"location_id": None})
        location_id = actor.location_id
    require(request, perm, location=location_id)
    return location_id


def _shipment_for(request: HttpRequest, shipment_id: int) -> Shipment:
    _staff(request)
    s = store_work.shipment_find(shipment_id)
    require(request, Perm.ORDER_FULFIL, location=s.location_id)
    return s


def _shipment_body(s: Shipment, **extra: object) -> dict:
    fresh = Shipment.objects.select_related("order", "location").get(pk=s.pk)
    data = {**store_work.store_shipment_dict(fresh, now=timezone.now()), **extra}
    return StoreShipmentActionOut.model_validate(data).model_dump(mode="json")


@router.get("/queue", response=with_errors({200: QueueOut}),
            summary="The store's work queue: to pick, ready for pickup, with couriers; timers and alerts")
def queue(request: HttpRequest, location_id: int | None = Query(None, gt=0, le=_BIGINT),
          status: str | None = Query(None, max_length=200, description="comma-separated shipment statuses")):
    loc = _location(request, location_id, Perm.ORDER_VIEW)
    statuses = None
    if status:
        statuses = [s.strip() for s in status.split(",") if s.strip()]
        unknown = sorted(set(statuses) - set(store_work.QUEUE_STATUSES))
        if unknown:
            raise InvalidInput("不支持的状态 Unknown queue status", code="invalid_status",
                               details={"status": unknown, "allowed": list(store_work.QUEUE_STATUSES)})
    return store_work.store_queue(loc, statuses)


@router.post("/shipments/{shipment_id}/start", response=with_errors({200: StoreShipmentActionOut}, 409),
             summary="Start picking a shipment (allocated -> picking)")
def shipment_start(request: HttpRequest, shipment_id: int, idempotency_key: str | None = IdemKey):
    _shipment_for(request, shipment_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        return 200, _shipment_body(store_work.shipment_start_picking(shipment_id, by=by))

    return idempotent(request, f"store.start.{shipment_id}", idempotency_key, {}, work)


@router.post("/shipments/{shipment_id}/ready", response=with_errors({200: StoreShipmentActionOut}, 409),
             summary="Packed: ready for pickup (a code is issued) / awaiting a courier / shipped (tracking no)")
def shipment_ready(request: HttpRequest, shipment_id: int, body: ReadyIn, idempotency_key: str | None = IdemKey):
    _shipment_for(request, shipment_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        s = store_work.shipment_mark_ready(shipment_id, by=by, tracking_no=body.tracking_no, pick_all=body.pick_all)
        return 200, _shipment_body(s)

    return idempotent(request, f"store.ready.{shipment_id}", idempotency_key, body.model_dump(mode="json"), work)


@router.post("/shipments/{shipment_id}/lines/{sku_id}/pick", response=with_errors({200: PickOut}, 409),
             summary="Confirm a shipment's line as picked (whole line by default, or qty units)")
def shipment_pick(request: HttpRequest, shipment_id: int, sku_id: int, body: PickIn | None = None,
                  idempotency_key: str | None = IdemKey):
    _shipment_for(request, shipment_id)
    by = by_of(request)
    qty = body.qty if body is not None else None

    def work() -> tuple[int, dict]:
        out = store_work.shipment_pick_line(shipment_id, sku_id, by=by, qty=qty)
        return 200, PickOut.model_validate(out).model_dump(mode="json")

    return idempotent(request, f"store.pick.{shipment_id}.{sku_id}", idempotency_key, {"qty": qty}, work)


@router.post("/shipments/{shipment_id}/delivered", response=with_errors({200: StoreShipmentActionOut}, 409),
             summary="An express parcel was delivered (signed for): shipped -> completed; the order follows")
def shipment_delivered(request: HttpRequest, shipment_id: int, body: DeliveredIn | None = None,
                       idempotency_key: str | None = IdemKey):
    _shipment_for(request, shipment_id)
    by = by_of(request)
    at = body.at if body is not None else None

    def work() -> tuple[int, dict]:
        return 200, _shipment_body(store_work.shipment_mark_delivered(shipment_id, by=by, at=at))

    payload = (body or DeliveredIn()).model_dump(mode="json")  # no body = {"at": null}
    return idempotent(request, f"store.delivered.{shipment_id}", idempotency_key, payload, work)


@router.post("/shipments/{shipment_id}/reject", response=with_errors({200: StoreShipmentActionOut}, 409),
             summary="The store cannot fill it (or picking came up short): re-route its lines elsewhere")
def shipment_reject(request: HttpRequest, shipment_id: int, body: RejectIn, idempotency_key: str | None = IdemKey):
    _shipment_for(request, shipment_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        s, decision = store_work.shipment_reject(shipment_id, by=by, reason=body.reason, short=body.short)
        info = {"decision_id": decision.pk, "new_shipments": decision.shipments.count(),
                "unfilled": decision.plan.get("unfilled") or []}
        return 200, _shipment_body(s, reroute=info)

    return idempotent(request, f"store.reject.{shipment_id}", idempotency_key, body.model_dump(mode="json"), work)


@router.post("/pickup/verify", response=with_errors({200: VerifyOut}, 409, 429),
             summary="Verify a pickup code or signed QR at the counter and hand the goods over")
def pickup_verify(request: HttpRequest, body: VerifyIn, idempotency_key: str | None = IdemKey):
    _staff(request)
    by = by_of(request)
    method = "qr" if body.qr is not None else "code"
    try:
        require(request, Perm.ORDER_FULFIL, location=body.location_id)
    except Forbidden:  # staff of another store: refused and logged
        pickup.attempt_log(pickup.Attempt(location_id=body.location_id, method=method, result="forbidden",
                                          code_tail="" if body.qr is not None else pickup.code_tail(body.code),
                                          user_id=by.user_id, at=timezone.now()))
        raise

    def work() -> tuple[int, dict]:
        out = pickup.verify_in_tx(location_id=body.location_id, by=by, code=body.code, qr=body.qr)
        s: Shipment = out.pop("shipment")
        skus = dict(Sku.objects.filter(pk__in=[ln["sku_id"] for ln in s.lines]).values_list("pk", "barcode"))
        shipment = store_work.store_shipment_dict(Shipment.objects.select_related("order", "location").get(pk=s.pk),
                                                  now=timezone.now())
        lines = [{**ln, "barcode": skus.get(ln["sku_id"], "")} for ln in shipment["lines"]]
        return 200, VerifyOut.model_validate({**out, "shipment": shipment, "lines": lines}).model_dump(mode="json")

    try:
        return idempotent(request, "store.pickup_verify", idempotency_key, body.model_dump(mode="json"), work)
    except pickup.Refused as exc:  # the verification rolled back; its log row is written on its own
        pickup.attempt_log(exc.attempt)
        raise


@router.get("/alerts", response=with_errors({200: list[AlertOut]}),
            summary="The store's delivery and pickup alerts (open ones by default)")
def alerts(request: HttpRequest, location_id: int | None = Query(None, gt=0, le=_BIGINT), open: bool = True):  # noqa: A002
    loc = _location(request, location_id, Perm.ORDER_VIEW)
    return store_work.alerts_list(loc, open_only=open)


@router.post("/alerts/{alert_id}/resolve", response=with_errors({200: AlertOut}, 409),
             summary="Mark an alert resolved (once)")
def alert_resolve(request: HttpRequest, alert_id: int, idempotency_key: str | None = IdemKey):
    _staff(request)
    a = store_work.alert_find(alert_id)
    require(request, Perm.ORDER_FULFIL, location=a.location_id)
    by = by_of(request)

    def work() -> tuple[int, dict]:
        done = store_work.alert_resolve(alert_id, by=by)
        return 200, AlertOut.model_validate(store_work.alert_dict(done)).model_dump(mode="json")

    return idempotent(request, f"store.alert_resolve.{alert_id}", idempotency_key, {}, work)
