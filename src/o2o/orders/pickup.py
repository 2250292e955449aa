"""Pickup at the counter (门店自提): issue the code, verify it once, and the deadline sweep.

* :func:`code_issue` -- a fresh 10-digit code (core ``new_code`` with ``secrets.randbelow``),
  live until the shipment's pickup deadline. Two partial UNIQUE indexes keep live codes
  unique and at most one live code per shipment; a clash with another live code retries
  with a new code inside a savepoint.
* :func:`pickup_verify` -- the clerk types the code or scans the signed QR. The code must
  belong to a shipment at the clerk's store (``wrong_store``, 403), ready for pickup
  (``not_ready``, 409), not used (``used``, 409) and not past its deadline (``expired``,
  409). The conditional UPDATE ``live -> used`` decides who wins; the goods then leave the
  store (the reservation is fulfilled) and the shipment completes. **Every** attempt is
  written to :class:`PickupVerification`; refused ones after their transaction rolled back,
  so the log survives. Too many refused look-ups at one store within an hour answer 429
  ``too_many_attempts`` before any look-up (``PICKUP_MAX_FAILURES_PER_HOUR``).
* :func:`pickups_expire` -- ready shipments past their deadline: cancel and refund
  (policy ``cancel``, the default) or only raise an alert (``keep``).

The verification logic is :func:`verify_in_tx` (caller's transaction, so the API can wrap it
in its idempotency record) and :func:`attempt_log` (its own transaction, for refusals).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict, NotFound
from o2o.core.orders import BadQr, new_code, normalize, refund_for
from o2o.core.orders import OrderStatus as OS
from o2o.core.orders import ShipmentStatus as SS
from o2o.core.orders import qr as core_qr
from o2o.fulfilment.handover import routed_shipment_fulfil
from o2o.orders import history
from o2o.orders.actors import By, system
from o2o.orders.lifecycle import refund, release_shipment
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    AlertKind,
    CodeStatus,
    DeliveryAlert,
    EventKind,
    Order,
    OrderLine,
    PickupCode,
    PickupVerification,
    Shipment,
    ShipmentStatus,
)
from o2o.orders.pickup_qr import qr_key
from o2o.stores.models import Location

log = logging.getLogger("o2o.orders")

_randbelow = secrets.randbelow  # tests replace it to force a clash
ISSUE_ATTEMPTS = 8
MAX_FAILURES_PER_HOUR = 20
# Refusals that do not count towards the brute-force limit: a malformed code is refused by its
# check digit before any look-up (it tells nothing), a throttled attempt looks nothing up, and
# staff of another store naming this counter (``forbidden``) must not be able to lock it.
NOT_COUNTED = ("ok", "malformed", "throttled", "forbidden")

# result -> (HTTP status, message)
_REFUSALS: dict[str, tuple[int, str]] = {
    "malformed": (422, "取货码格式不正确（应为 10 位数字）Malformed pickup code (10 digits expected)"),
    "bad_signature": (422, "二维码签名无效，请让顾客刷新二维码或报取货码 Bad QR signature; ask for the code"),
    "unknown": (404, "无此取货码 Unknown pickup code"),
    "wrong_store": (403, "该取货码不属于本店 This pickup code belongs to another store"),
    "not_ready": (409, "该订单尚未备好或已取消 The shipment is not ready for pickup"),
    "used": (409, "该取货码已核销 This pickup code was already used"),
    "expired": (409, "取货码已过期 The pickup code has expired"),
    "throttled": (429, "本店核销失败次数过多，请稍后再试 Too many failed verifications at this store; wait"),
}


@dataclass(frozen=True)
class Attempt:
    """One verification attempt as the log keeps it (never the full code)."""

    location_id: int
    method: str
    code_tail: str
    user_id: int | None
    at: datetime
    shipment_id: int | None = None
    result: str = "ok"


class Refused(ApiError):
    """A verification that did not hand anything over; ``attempt`` is what the log records."""

    def __init__(self, result: str, attempt: Attempt, **details: Any) -> None:
        status, message = _REFUSALS[result]
        code = "too_many_attempts" if result == "throttled" else result
        # Another store's shipment stays unnamed: the answer must not help anyone map live codes.
        shown = None if result == "wrong_store" else attempt.shipment_id
        super().__init__(message, code=code, status=status,
                         details={"result": code, "location_id": attempt.location_id,
                                  "shipment_id": shown, "code_tail": attempt.code_tail, **details})
        self.attempt = replace(attempt, result=result)


def hold_hours() -> int:
    return int(settings.O2O.get("PICKUP_HOLD_HOURS", 72))


def max_failures() -> int:
    return int(settings.O2O.get("PICKUP_MAX_FAILURES_PER_HOUR", MAX_FAILURES_PER_HOUR))


def expired_policy() -> str:
    policy = settings.O2O.get("PICKUP_EXPIRED_POLICY", "cancel")
    if policy not in ("cancel", "keep"):
        raise ValueError(f"O2O['PICKUP_EXPIRED_POLICY'] must be 'cancel' or 'keep', not {policy!r}")
    return policy


# --- issuing ---------------------------------------------------------------------------------

def code_issue(shipment: Shipment, now: datetime) -> PickupCode:
    """A live code for a ready shipment until its pickup deadline (caller's transaction)."""
    assert shipment.pickup_deadline is not None, "set the pickup deadline first"
    for _ in range(ISSUE_ATTEMPTS):
        try:
            with transaction.atomic():
                return PickupCode.objects.create(shipment=shipment, code=new_code(_randbelow), issued_at=now,
                                                 expires_at=shipment.pickup_deadline)
        except IntegrityError:
            if PickupCode.objects.filter(shipment=shipment, status=CodeStatus.LIVE).exists():
                raise Conflict("该发货单已有有效取货码 The shipment already has a live pickup code",
                               code="code_already_live", details={"shipment_id": shipment.pk}) from None
            log.info("pickup code clash for shipment %s; drawing another", shipment.pk)
    raise Conflict("无法生成取货码，请重试 Could not draw a free pickup code; try again", code="retry",
                   details={"shipment_id": shipment.pk})


# --- verifying -------------------------------------------------------------------------------

def code_tail(text: str | None) -> str:
    digits = "".join(c for c in (text or "") if c.isascii() and c.isdigit())
    return digits[-4:]


def _throttle(attempt: Attempt) -> None:
    since = attempt.at - timedelta(hours=1)
    failures = (PickupVerification.objects.filter(location_id=attempt.location_id, at__gte=since)
                .exclude(result__in=NOT_COUNTED).count())
    if failures >= max_failures():
        raise Refused("throttled", attempt, failures_last_hour=failures, limit=max_failures())


def _find(attempt: Attempt, *, code: str, shipment_id: int | None) -> PickupCode:
    """The code: the live one with this value, else the latest used/void one (for the right answer)."""
    qs = PickupCode.objects.filter(code=code)
    if shipment_id is not None:
        qs = qs.filter(shipment_id=shipment_id)
    found = qs.filter(status=CodeStatus.LIVE).first() or qs.order_by("-issued_at", "-pk").first()
    if found is None:
        raise Refused("unknown", attempt)
    return found


def _refusal_of(code: PickupCode, shipment: Shipment, attempt: Attempt, now: datetime) -> Refused | None:
    if code.status == CodeStatus.USED:
        return Refused("used", attempt, used_at=timezone.localtime(code.used_at).isoformat(),
                       used_by=code.used_by_id)
    if code.status == CodeStatus.VOID or shipment.status != ShipmentStatus.READY_FOR_PICKUP:
        if shipment.pickup_deadline is not None and shipment.pickup_deadline <= now:
            return Refused("expired", attempt, expires_at=timezone.localtime(code.expires_at).isoformat())
        return Refused("not_ready", attempt, shipment_status=shipment.status)
    if code.expires_at <= now:
        return Refused("expired", attempt, expires_at=timezone.localtime(code.expires_at).isoformat())
    return None


def verify_in_tx(*, location_id: int, by: By, code: str | None = None, qr: str | None = None,
                 now: datetime | None = None) -> dict[str, Any]:
    """Verify and hand over in the caller's transaction; raises :class:`Refused` (log it after rollback)."""
    now = now or timezone.now()
    if not Location.objects.filter(pk=location_id).exists():
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    method = "qr" if qr is not None else "code"
    attempt = Attempt(location_id=location_id, method=method, code_tail="" if qr is not None else code_tail(code),
                      user_id=by.user_id, at=now)
    _throttle(attempt)
    shipment_id = None
    if qr is not None:
        try:
            claims = core_qr.verify(qr, qr_key(), now=int(now.timestamp()))
        except BadQr as exc:
            raise Refused(exc.reason, attempt) from None
        canonical, shipment_id = claims.code, claims.shipment_id
        attempt = replace(attempt, code_tail=canonical[-4:])
    else:
        canonical = normalize(code) if code is not None else None
        if canonical is None:
            raise Refused("malformed", attempt)
    found = _find(attempt, code=canonical, shipment_id=shipment_id)
    shipment = Shipment.objects.get(pk=found.shipment_id)
    attempt = replace(attempt, shipment_id=shipment.pk)
    if shipment.location_id != location_id:
        raise Refused("wrong_store", attempt)
    order = lock_order(shipment.order_id)  # the order row first; then read everything fresh
    found = PickupCode.objects.get(pk=found.pk)
    shipment = Shipment.objects.select_related("location").get(pk=shipment.pk)
    refusal = _refusal_of(found, shipment, attempt, now)
    if refusal is not None:
        raise refusal
    won = PickupCode.objects.filter(pk=found.pk, status=CodeStatus.LIVE, expires_at__gt=now).update(
        status=CodeStatus.USED, used_at=now, used_by_id=by.user_id)
    if not won:  # someone got there between our read and the update (no row lock on SQLite)
        found.refresh_from_db()
        raise _refusal_of(found, shipment, attempt, now) or Refused("used", attempt)
    if shipment.routed_id is not None:
        try:
            routed_shipment_fulfil(routed_id=shipment.routed_id, who=by.who,
                                   reason=f"自提核销 picked up: {order.number}")
        except Conflict as exc:  # the stock no longer holds these goods (e.g. a count shorted them)
            raise Refused("not_ready", attempt, shipment_status=shipment.status, problem=exc.code,
                          problem_details=exc.details) from None
    history.shipment_move(shipment, SS.COMPLETED, by=by, now=now, follow=True,
                          reason=f"顾客已取货 picked up (code …{attempt.code_tail}, {method})",
                          completed_at=now, handed_over_at=now)
    PickupVerification.objects.create(location_id=location_id, shipment=shipment, code_tail=attempt.code_tail,
                                      method=method, result="ok", user_id=by.user_id, at=now)
    order.refresh_from_db(fields=["status"])
    return {"result": "ok", "order_id": order.pk, "order_number": order.number, "order_status": order.status,
            "shipment": shipment}


def attempt_log(attempt: Attempt) -> None:
    """Write a refused attempt (its own transaction, after the verification rolled back)."""
    try:
        with transaction.atomic():
            PickupVerification.objects.create(location_id=attempt.location_id, shipment_id=attempt.shipment_id,
                                              code_tail=attempt.code_tail, method=attempt.method,
                                              result=attempt.result, user_id=attempt.user_id, at=attempt.at)
    except DatabaseError:
        log.exception("could not log a refused pickup verification at location %s", attempt.location_id)


def pickup_verify(*, location_id: int, by: By, code: str | None = None, qr: str | None = None,
                  now: datetime | None = None) -> dict[str, Any]:
    """Verify a pickup code (or signed QR) at ``location_id`` and hand the goods over.

    The caller has checked ``order.fulfil`` at ``location_id``. One transaction; a refusal is
    logged after it rolled back and re-raised (:class:`Refused`, an ``ApiError``).
    """
    if (code is None) == (qr is None):
        raise ValueError("pass exactly one of code and qr")
    try:
        with transaction.atomic():
            return verify_in_tx(location_id=location_id, by=by, code=code, qr=qr, now=now)
    except Refused as exc:
        attempt_log(exc.attempt)
        raise


# --- the deadline sweep ----------------------------------------------------------------------

def _alert(shipment: Shipment, message: str, now: datetime) -> bool:
    """The store's pickup_expired alert, once per shipment (the key is unique)."""
    try:
        with transaction.atomic():
            DeliveryAlert.objects.create(shipment=shipment, location_id=shipment.location_id,
                                         kind=AlertKind.PICKUP_EXPIRED, message=message[:300],
                                         key=f"pickup_expired:{shipment.pk}", created_at=now)
    except IntegrityError:
        return False
    return True


def _units_refund(order: Order, units: dict[int, int]) -> int:
    """What these units paid (core ``refund_for``); their lines record them as come back."""
    total = 0
    for line in OrderLine.objects.filter(order=order, sku_id__in=list(units)).order_by("sku_id"):
        qty = min(units[line.sku_id], line.qty - line.returned_qty)
        if qty <= 0:
            continue
        fen = refund_for(line.payable_fen, line.qty, line.returned_qty, line.refunded_fen, qty)
        OrderLine.objects.filter(pk=line.pk, returned_qty=line.returned_qty).update(
            returned_qty=F("returned_qty") + qty, refunded_fen=F("refunded_fen") + fen)
        total += fen
    return total


def refund_dropped(order: Order, units: dict[int, int], *, by: By, reason: str, now: datetime) -> int:
    """Some of a paid order's units will never be handed over ({sku_id: qty}): refund them.

    When no shipment of the order counts any more, the whole order is cancelled and what is
    left of the payment (delivery fee included) is refunded; otherwise those units' payable
    share is refunded and the order follows its shipments. Caller's transaction, order row
    locked. Returns the fen refunded.
    """
    counting = Shipment.objects.filter(order=order).exclude(
        status__in=[ShipmentStatus.CANCELLED, ShipmentStatus.REROUTED])
    if not counting.exists():
        history.order_move(order, OS.CANCELLED, by=by, reason=reason, now=now, cancelled_at=now,
                           cancel_reason=reason[:200])
        amount = order.paid_fen - order.refunded_fen
    else:
        amount = _units_refund(order, units) if units else 0
        history.order_follow(order, by=by, reason=reason, now=now)
    refund(order, amount, reason, by)
    return amount


def _cancel(order: Order, shipment: Shipment, by: By, now: datetime) -> int:
    """Void the code, put the goods back, cancel the shipment, refund its share; the refund in fen."""
    reason = "超过自提期限未取货 not collected by the pickup deadline"
    PickupCode.objects.filter(shipment=shipment, status=CodeStatus.LIVE).update(status=CodeStatus.VOID)
    release_shipment(shipment, SS.CANCELLED, by=by, reason=reason, now=now)
    return refund_dropped(order, units_of(shipment.lines), by=by, reason=f"{reason} (shipment #{shipment.pk})",
                          now=now)


def units_of(lines: list[dict]) -> dict[int, int]:
    """{sku_id: qty} of shipment or plan lines (a SKU listed twice is added up)."""
    units: dict[int, int] = {}
    for ln in lines:
        units[int(ln["sku_id"])] = units.get(int(ln["sku_id"]), 0) + int(ln["qty"])
    return units


def pickup_expire(shipment_id: int, *, policy: str, now: datetime) -> str | None:
    """One due shipment in its own transaction: "cancelled", "kept", or None if no longer due."""
    by = system("pickup_expire")
    with transaction.atomic():
        order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
        if order_id is None:
            return None
        order = lock_order(order_id)
        shipment = Shipment.objects.get(pk=shipment_id)
        if (shipment.status != ShipmentStatus.READY_FOR_PICKUP or shipment.pickup_deadline is None
                or shipment.pickup_deadline > now):
            return None
        deadline = timezone.localtime(shipment.pickup_deadline).strftime("%Y-%m-%d %H:%M")
        if policy == "keep":
            if not _alert(shipment, f"订单 {order.number} 已过自提期限 {deadline}，请联系顾客 "
                                    f"order {order.number} passed its pickup deadline; contact the customer", now):
                return None
            history.log(order, by=by, kind=EventKind.NOTE, shipment=shipment, at=now,
                        reason=f"超过自提期限 pickup deadline {deadline} passed; kept for the store")
            history.emit(order, "order.pickup_expired", key=f"order:{order.pk}:pickup_expired:{shipment.pk}",
                         shipment_id=shipment.pk, policy=policy, refund_fen=0)
            return "kept"
        amount = _cancel(order, shipment, by, now)
        _alert(shipment, f"订单 {order.number} 超过自提期限 {deadline} 未取，已取消并退款 {amount} 分 "
                         f"order {order.number} not collected by {deadline}; cancelled, {amount} fen refunded", now)
        history.emit(order, "order.pickup_expired", key=f"order:{order.pk}:pickup_expired:{shipment.pk}",
                     shipment_id=shipment.pk, policy=policy, refund_fen=amount)
        return "cancelled"


def pickups_expire(now: datetime | None = None, *, limit: int = 500) -> dict[str, int]:
    """Every ready shipment past its pickup deadline, by ``O2O["PICKUP_EXPIRED_POLICY"]``; counts."""
    now = now or timezone.now()
    policy = expired_policy()
    due = Shipment.objects.filter(status=ShipmentStatus.READY_FOR_PICKUP, pickup_deadline__lte=now)
    if policy == "keep":
        due = due.exclude(alerts__kind=AlertKind.PICKUP_EXPIRED)
    counts = {"cancelled": 0, "kept": 0, "failed": 0}
    for pk in list(due.order_by("pickup_deadline", "pk").values_list("pk", flat=True)[:limit]):
        try:
            done = pickup_expire(pk, policy=policy, now=now)
        except (ApiError, DatabaseError):
            log.exception("could not expire pickup shipment %s", pk)
            counts["failed"] += 1
            continue
        if done is not None:
            counts[done] += 1
    return counts
