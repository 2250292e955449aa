"""Same-city delivery: book a courier for a packed shipment, follow its callbacks, re-dispatch on failure.

* :func:`dispatch_for` (caller's transaction, order row locked): creates attempt *n* of the
  shipment's :class:`CourierTask` for the next provider in ``couriers.provider_order()`` that
  has not failed this shipment yet. The booking at the provider is an external side effect:
  it runs in ``transaction.on_commit`` (:func:`book_task`), so a rolled-back transaction books
  nothing; a task still unbooked a minute later (a crash right after the commit) is booked by
  the sweep (``o2o delivery-alerts``). A task is booked iff its ``external_id`` is set.
* :func:`tracking_apply`: a provider's status callback, answered with the provider's ack.
  Each event is recorded once (UNIQUE provider + event_id); under the order row lock the task
  moves forward only (a late "accepted" after "picked up" is recorded, not applied) and the
  shipment follows: picked up -> the reservation leaves stock and the shipment is
  ``out_for_delivery``; delivered -> ``completed`` (both steps if "delivered" comes first);
  failed before pick-up -> an alert and the next provider (the shipment's recorded self-loop
  ``awaiting_courier -> awaiting_courier``); no provider left -> a ``no_courier`` alert, the
  parcel stays at the store for the staff; failed after pick-up -> an alert only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from o2o.adapters.couriers import (
    BadSignature,
    CourierStatus,
    DeliveryRequest,
    MalformedCallback,
    Place,
    ProviderError,
)
from o2o.catalog.models import Sku
from o2o.common.errors import ApiError, Conflict, NotFound
from o2o.core.orders import ShipmentStatus as SS
from o2o.fulfilment.handover import routed_shipment_fulfil
from o2o.orders import couriers, history
from o2o.orders.actors import By, system
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    ACTIVE_TASK,
    AlertKind,
    CourierTask,
    DeliveryAlert,
    EventKind,
    Order,
    OrderLine,
    Shipment,
    ShipmentMode,
    TaskStatus,
    TrackingEvent,
)
from o2o.orders.placement import contact_phone

log = logging.getLogger("o2o.orders.delivery")

BOOK_GRACE = timedelta(minutes=1)
# A create refused because the provider already has this shipment_ref: an earlier booking
# whose answer was lost (codes as the providers answer them: Dada 2105, SF 1006).
ALREADY_BOOKED = {"dada:2105", "sf:1006"}
_RANK = {TaskStatus.CREATED: 0, TaskStatus.ACCEPTED: 1, TaskStatus.ARRIVED: 2, TaskStatus.PICKED_UP: 3,
         TaskStatus.DELIVERED: 4}
_DONE = {TaskStatus.DELIVERED, TaskStatus.CANCELLED, TaskStatus.FAILED}


def raise_alert(shipment: Shipment, kind: str, *, key: str, message: str, order: Order | None = None) -> bool:
    """One alert per cause (``key``) for the shipment's store, announced in the outbox; False if it existed."""
    try:
        with transaction.atomic():
            DeliveryAlert.objects.create(shipment=shipment, location_id=shipment.location_id, kind=kind,
                                         message=message[:300], key=key[:120])
    except IntegrityError:
        return False
    order = order or Order.objects.get(pk=shipment.order_id)
    history.emit(order, "delivery.alert", key=f"alert:{key}"[:160], shipment_id=shipment.pk,
                 location_id=shipment.location_id, kind=kind, message=message[:300])
    return True


# --- dispatch -------------------------------------------------------------------------------


def request_for(task: CourierTask) -> DeliveryRequest:
    """The booking: from the shipment's store to the order's address; ValueError if unusable."""
    shipment = task.shipment
    order, store = shipment.order, shipment.location
    if order.dest_lat is None or order.dest_lng is None:
        raise ValueError("订单没有收货坐标 the order has no delivery coordinates")
    qty: dict[int, int] = {}
    for line in shipment.lines:
        qty[int(line["sku_id"])] = qty.get(int(line["sku_id"]), 0) + int(line["qty"])
    weights = dict(Sku.objects.filter(pk__in=qty).values_list("pk", "weight_g"))
    value = sum(ln.payable_fen * min(qty[ln.sku_id], ln.qty) // ln.qty
                for ln in OrderLine.objects.filter(order=order, sku_id__in=qty))
    return DeliveryRequest(
        shipment_ref=task.shipment_ref,
        origin=Place(store.name, "", store.address, store.lat, store.lng),
        destination=Place(order.contact_name, contact_phone(order), order.address, order.dest_lat, order.dest_lng),
        weight_g=sum(weights.get(sku, 0) * n for sku, n in qty.items()), value_fen=value,
        callback_url=couriers.callback_url(task.provider), remark=f"订单 order {order.number}")


def dispatch_for(shipment: Shipment, *, by: By, now: datetime | None = None) -> CourierTask | None:
    """Book a courier for a packed same-city shipment (caller's transaction, order row locked).

    Returns the shipment's active task (an existing one, or attempt *n* for the next provider),
    or None when every provider has failed it (then a ``no_courier`` alert). The provider is
    called after the commit. A consolidated booking (``couriers.dispatch_hooks``) may answer
    another shipment's task instead: the shipment travels on it and books nothing; or hold it
    (``couriers.HOLD``: None, no task yet, the delivery sweep asks again).
    """
    assert transaction.get_connection().in_atomic_block, "dispatch_for needs the caller's transaction"
    now = now or timezone.now()
    if shipment.mode != ShipmentMode.SAME_CITY or shipment.status != SS.AWAITING_COURIER:
        raise Conflict("只有待骑手取货的同城发货单可以派单 Only a same-city shipment awaiting a courier can be "
                       "dispatched", code="not_awaiting_courier",
                       details={"shipment_id": shipment.pk, "mode": shipment.mode, "status": shipment.status})
    active = CourierTask.objects.filter(shipment=shipment, status__in=ACTIVE_TASK).first()
    if active is not None:
        return active
    for hook in couriers.dispatch_hooks:  # a consolidated booking may carry it (couriers.dispatch_hooks)
        shared = hook(shipment, by=by, now=now)
        if shared is couriers.HOLD:  # not yet: the sweep asks again
            return None
        if shared is not None:
            return shared
    tried = list(CourierTask.objects.filter(shipment=shipment).values_list("provider", "status", "attempt"))
    failed = {p for p, status, _ in tried if status == TaskStatus.FAILED}
    attempt = max((a for *_, a in tried), default=0) + 1
    order = Order.objects.get(pk=shipment.order_id)
    left = [p for p in couriers.provider_order()
            if p not in failed and couriers.available(p, store=shipment.location)]
    if not left:
        message = (f"所有配送渠道均失败（{len(tried)} 次），包裹留在门店，请人工处理 Every courier failed "
                   f"({len(tried)} attempt(s)); the parcel stays at the store for manual handling")
        if raise_alert(shipment, AlertKind.NO_COURIER, key=f"no_courier:{shipment.pk}:{len(tried)}",
                       message=message, order=order):
            history.log(order, by=by, kind=EventKind.NOTE, shipment=shipment, reason=message, at=now)
        return None
    provider = left[0]
    task = CourierTask.objects.create(shipment=shipment, provider=provider, attempt=attempt,
                                      shipment_ref=f"S{shipment.pk}-{attempt}", status=TaskStatus.CREATED,
                                      created_at=now, updated_at=now)
    Shipment.objects.filter(pk=shipment.pk).update(courier=provider, tracking_no="")
    shipment.courier, shipment.tracking_no = provider, ""
    history.log(order, by=by, kind=EventKind.NOTE, shipment=shipment, at=now,
                reason=f"呼叫骑手 courier requested: {provider}, 第 {attempt} 次 attempt {attempt}")
    transaction.on_commit(partial(book_task, task.pk), robust=True)
    return task


def book_task(task_id: int) -> str:
    """Book a created task at its provider: "booked", "failed" (the next provider was tried) or
    "skipped" (already booked, being booked elsewhere, or no longer needed). Own transaction."""
    error = ""
    try:
        with transaction.atomic():
            qs = CourierTask.objects.filter(pk=task_id, status=TaskStatus.CREATED, external_id="")
            if connection.vendor == "postgresql":  # one booker at a time; a second one skips it
                qs = qs.select_for_update(skip_locked=True, of=("self",))
            task = qs.select_related("shipment__order", "shipment__location").first()
            if task is None:
                return "skipped"
            if task.shipment.status != SS.AWAITING_COURIER:
                CourierTask.objects.filter(pk=task_id, status=TaskStatus.CREATED).update(
                    status=TaskStatus.CANCELLED, failed_reason="发货单已不待配送 shipment no longer waiting",
                    updated_at=timezone.now())
                return "skipped"
            gateway = couriers.courier_gateway(task.provider, store=task.shipment.location)
            fields: dict[str, Any] = {}
            try:
                if gateway is None:
                    raise ProviderError("配送渠道未配置 provider not configured", code=f"{task.provider}:unavailable")
                booked = gateway.create_order(request_for(task))
                fields = {"external_id": booked.external_id[:64] or task.shipment_ref, "fee_fen": booked.fee_fen}
                rider = booked.raw.get("rider") if isinstance(booked.raw, dict) else None
                if booked.status == CourierStatus.ACCEPTED and isinstance(rider, dict):  # own riders: assigned
                    fields.update(status=TaskStatus.ACCEPTED, rider_name=str(rider.get("name", ""))[:64],
                                  rider_phone=str(rider.get("phone", ""))[:32])
            except ProviderError as exc:
                if exc.code not in ALREADY_BOOKED:
                    error = f"{exc.code}: {exc.message}"
                    if exc.code.endswith((":unreachable", ":bad_response")):  # it may have been booked
                        transaction.on_commit(partial(_cancel_quietly, task.pk, exc.code), robust=True)
                else:
                    fields = {"external_id": task.shipment_ref}
            except (ValueError, OSError) as exc:
                error = f"{task.provider}: {exc}"
            if not error:
                won = CourierTask.objects.filter(pk=task_id, status=TaskStatus.CREATED, external_id="").update(
                    updated_at=timezone.now(), **fields)
                if not won:  # moved on meanwhile (a callback, or cancelled: then undo the booking)
                    CourierTask.objects.filter(pk=task_id, external_id="").update(
                        external_id=fields["external_id"], fee_fen=fields.get("fee_fen", 0))
                    if CourierTask.objects.filter(pk=task_id, status=TaskStatus.CANCELLED).exists():
                        transaction.on_commit(partial(_cancel_at_provider, task_id), robust=True)
                return "booked"
    except DatabaseError:
        log.exception("booking courier task %s failed; the sweep retries it", task_id)
        return "skipped"
    log.warning("courier task %s refused: %s", task_id, error)
    with transaction.atomic():
        task = CourierTask.objects.select_related("shipment").get(pk=task_id)
        order = lock_order(task.shipment.order_id)
        won = CourierTask.objects.filter(pk=task_id, status=TaskStatus.CREATED, external_id="").update(
            status=TaskStatus.FAILED, failed_reason=error[:200], updated_at=timezone.now())
        if won:
            shipment = Shipment.objects.get(pk=task.shipment_id)
            courier_failed(order, shipment, task, f"下单失败 booking refused: {error}", by=system("dispatch"),
                           now=timezone.now())
    return "failed"


def courier_failed(order: Order, shipment: Shipment, task: CourierTask, reason: str, *, by: By,
                   now: datetime) -> None:
    """A task failed (order row locked): alert the store; before pick-up, try the next provider."""
    current = not CourierTask.objects.filter(shipment_id=shipment.pk, attempt__gt=task.attempt).exists()
    if shipment.status == SS.AWAITING_COURIER and current:
        raise_alert(shipment, AlertKind.COURIER_FAILED, key=f"courier_failed:{task.pk}", order=order,
                    message=f"{task.provider} 配送失败，正在改派 courier failed, dispatching again: {reason}")
        history.shipment_move(shipment, SS.AWAITING_COURIER, by=by, now=now,
                              reason=f"配送失败，重新派单 courier {task.provider} failed: {reason}"[:200])
        dispatch_for(shipment, by=by, now=now)
    elif shipment.status == SS.OUT_FOR_DELIVERY:
        raise_alert(shipment, AlertKind.COURIER_FAILED, key=f"courier_failed:{task.pk}", order=order,
                    message=f"{task.provider} 取货后配送失败，货在骑手处，请客服跟进 courier failed after pick-up; "
                            f"the goods are with the rider, customer service follows up: {reason}")


def tasks_cancel(shipment: Shipment, *, by: By, reason: str, now: datetime | None = None) -> int:
    """Cancel the shipment's active courier tasks (caller's transaction, order row locked), e.g. when
    the order is cancelled while awaiting a courier; the providers hear of it after the commit."""
    now = now or timezone.now()
    done = 0
    for task in CourierTask.objects.filter(shipment=shipment, status__in=ACTIVE_TASK):
        if CourierTask.objects.filter(pk=task.pk, status=task.status).update(
                status=TaskStatus.CANCELLED, failed_reason=reason[:200], updated_at=now):
            done += 1
            history.log(Order.objects.get(pk=shipment.order_id), by=by, kind=EventKind.NOTE, shipment=shipment,
                        at=now, reason=f"取消配送 courier cancelled ({task.provider}): {reason}"[:200])
            transaction.on_commit(partial(_cancel_at_provider, task.pk), robust=True)
    return done


def _cancel_at_provider(task_id: int) -> None:
    task = CourierTask.objects.select_related("shipment__location").get(pk=task_id)
    if not task.external_id:
        return  # never booked (a booking that wins later cancels itself)
    gateway = couriers.courier_gateway(task.provider, store=task.shipment.location)
    try:
        if gateway is not None:
            gateway.cancel(shipment_ref=task.shipment_ref, external_id=task.external_id,
                           reason=task.failed_reason or "商家取消 cancelled by the merchant")
    except (ProviderError, ValueError, OSError) as exc:
        log.warning("cancelling courier task %s refused: %s", task_id, exc)
        with transaction.atomic():
            raise_alert(task.shipment, AlertKind.COURIER_FAILED, key=f"cancel_refused:{task.pk}",
                        message=f"{task.provider} 拒绝取消配送，骑手可能已取货 the courier refused the cancel; the "
                                f"rider may have the goods: {exc}")


def _cancel_quietly(task_id: int, why: str) -> None:
    task = CourierTask.objects.select_related("shipment__location").get(pk=task_id)
    gateway = couriers.courier_gateway(task.provider, store=task.shipment.location)
    try:
        if gateway is not None:
            gateway.cancel(shipment_ref=task.shipment_ref, external_id=task.external_id, reason=why)
    except (ProviderError, ValueError, OSError):
        pass  # nothing was booked


# --- tracking -------------------------------------------------------------------------------


def tracking_apply(provider: str, headers: Mapping[str, str], body: bytes, *,
                   now: datetime | None = None) -> tuple[int, str, bytes]:
    """Handle one status callback; the provider's ack ``(status, content_type, body)``."""
    return tracking_handle(provider, headers, body, now=now)[0]


def tracking_handle(provider: str, headers: Mapping[str, str], body: bytes, *, now: datetime | None = None
                    ) -> tuple[tuple[int, str, bytes], dict[str, Any]]:
    """:func:`tracking_apply` with what happened (``outcome``: applied, duplicate, bad_signature,
    malformed, unknown_ref, error)."""
    gateway = couriers.courier_gateway(provider)
    if gateway is None:
        raise NotFound("未知配送渠道 Unknown courier provider", code="unknown_provider", details={"provider": provider})
    info: dict[str, Any] = {"provider": provider, "shipment_ref": None, "status": None}
    try:
        update = gateway.parse_callback(headers, body)
    except (BadSignature, MalformedCallback) as exc:
        log.warning("courier callback from %s refused: %s", provider, exc)
        return gateway.callback_ack(False), {**info, "outcome": exc.code}
    info.update(shipment_ref=update.shipment_ref, status=update.status.value)
    task = (CourierTask.objects.filter(provider=provider, shipment_ref=update.shipment_ref)
            .select_related("shipment__location").first())
    if task is None:
        log.warning("courier callback from %s for unknown ref %r", provider, update.shipment_ref)
        return gateway.callback_ack(False), {**info, "outcome": "unknown_ref"}
    try:
        with transaction.atomic():
            info.update(_apply(task.pk, task.shipment.order_id, update, now or timezone.now()))
    except (ApiError, DatabaseError, ValueError):
        log.exception("courier callback %s %s could not be applied", provider, update.event_id)
        return gateway.callback_ack(False), {**info, "outcome": "error"}
    if provider == "own" and update.status.terminal:  # frees the rider in the store's own pool
        store_gateway = couriers.courier_gateway(provider, store=task.shipment.location)
        if store_gateway is not None and store_gateway is not gateway:
            store_gateway.parse_callback(headers, body)
    return gateway.callback_ack(True), info


def _task_target(old: str, new: str) -> str | None:
    """The task's next status for an incoming one, or None (stale or out of order: record only)."""
    if old == new or old in (TaskStatus.DELIVERED, TaskStatus.CANCELLED):
        return None
    if old == TaskStatus.FAILED:  # a parcel reported lost after pick-up turned up delivered
        return new if new == TaskStatus.DELIVERED else None
    if new in _DONE:
        return new
    return new if _RANK[TaskStatus(new)] > _RANK[TaskStatus(old)] else None


def _apply(task_id: int, order_id: int, update: Any, now: datetime) -> dict[str, Any]:
    order = lock_order(order_id)
    tasks = CourierTask.objects.filter(pk=task_id)
    if connection.vendor == "postgresql":  # waits for a booking of this task in flight (lock order: order, task)
        tasks = tasks.select_for_update(of=("self",))
    task = tasks.get()
    event_id = update.event_id if len(update.event_id) <= 120 else hashlib.sha256(
        update.event_id.encode("utf-8")).hexdigest()
    try:
        with transaction.atomic():
            TrackingEvent.objects.create(task=task, provider=task.provider, event_id=event_id,
                                         status=update.status.value, at=update.at, reason=update.reason[:200],
                                         raw=update.raw, received_at=now)
    except IntegrityError:
        return {"outcome": "duplicate"}
    by = system(f"courier:{task.provider}")
    target = _task_target(task.status, update.status.value)
    fields: dict[str, Any] = {"updated_at": now}
    if update.rider is not None:
        fields.update(rider_name=update.rider.name[:64], rider_phone=update.rider.phone[:32])
    if update.external_id:
        fields["external_id"] = update.external_id[:64]
    if target is not None:
        fields["status"] = target
        if target in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            fields["failed_reason"] = (update.reason or "配送失败 courier failed")[:200]
    CourierTask.objects.filter(pk=task.pk, status=task.status).update(**fields)
    for k, v in fields.items():
        setattr(task, k, v)
    shipment = Shipment.objects.get(pk=task.shipment_id)
    current = not CourierTask.objects.filter(shipment_id=shipment.pk, attempt__gt=task.attempt).exists()
    if target in (TaskStatus.PICKED_UP, TaskStatus.DELIVERED):
        if shipment.status == SS.AWAITING_COURIER and current:
            if shipment.routed_id is not None:
                routed_shipment_fulfil(routed_id=shipment.routed_id, who=by.who,
                                       reason=f"骑手取货 picked up by the courier ({task.shipment_ref})")
            history.shipment_move(shipment, SS.OUT_FOR_DELIVERY, by=by, now=now, handed_over_at=now,
                                  tracking_no=task.external_id[:64],
                                  reason=f"骑手已取货 picked up by {task.provider} {task.rider_name}".strip())
        elif shipment.status in (SS.CANCELLED, SS.REROUTED):
            raise_alert(shipment, AlertKind.COURIER_FAILED, key=f"picked_after_cancel:{task.pk}", order=order,
                        message="已取消的发货单被骑手取货，请追回 a cancelled shipment was picked up; get it back")
    if target == TaskStatus.DELIVERED and shipment.status == SS.OUT_FOR_DELIVERY and current:
        history.shipment_move(shipment, SS.COMPLETED, by=by, now=now, completed_at=now,
                              reason=f"已送达 delivered by {task.provider}")
    elif target in (TaskStatus.FAILED, TaskStatus.CANCELLED):
        courier_failed(order, shipment, task, update.reason or update.status.value, by=by, now=now)
    elif target is None and task.status != update.status.value:
        history.log(order, by=by, kind=EventKind.NOTE, shipment=shipment, at=now,
                    reason=f"配送回调已记录未应用 courier update recorded, not applied: {update.status.value} "
                           f"after {task.status} ({task.shipment_ref})"[:200])
    if target is not None and current:
        for hook in couriers.tracking_hooks:  # shipments sharing this booking follow it
            hook(task=task, shipment=shipment, target=target, now=now)
    return {"outcome": "applied" if target else "recorded", "shipment_status": shipment.status}


def late_sweep(now: datetime | None = None) -> dict[str, int]:
    """``o2o delivery-alerts``: late alerts, unbooked tasks booked, lost dispatches redone."""
    from o2o.orders.delivery_sweeps import sweep

    return sweep(now)
