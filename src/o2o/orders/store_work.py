"""The store's work on online orders: start picking, mark ready (pickup / courier / express), reject,
an express parcel delivered; the store's work queue and its alerts.

Each service is one transaction that locks the order row first (``locks``), then follows the
cross-app lock order (routed shipment -> reservation and stock -> order shipment). ``by`` is
the staff member, recorded in the order's history and the inventory ledger.

* ``shipment_start_picking``: ``allocated -> picking`` (optional: picking a line or "ready" starts it).
  Neither it, picking nor ``shipment_mark_ready`` touches a held order (``Order.hold``, a 拼团 not yet
  full): 409 ``order_on_hold``.
* ``shipment_pick_line``: the clerk confirms a line (by its SKU) as picked, whole or ``qty`` units
  (an absolute count: repeating it changes nothing; 0 takes the confirmation back). Recorded on
  the line (``ShipmentLine.picked_qty``, who and when) and in the order's history.
* ``shipment_mark_ready``: refused with 409 ``lines_not_picked`` (the open lines in ``details``)
  until every line is fully picked, unless ``pick_all`` (an integration that confirms picking in its
  own system: every line is recorded as picked by the caller, in the same transaction). Then: pickup -> ``ready_for_pickup`` with a pickup code and deadline
  (the reservation is held until a day after it; a hold that already lapsed, expired or
  shorted, is a 409 ``hold_lost`` and nothing changes: the clerk rejects the shipment, which
  re-routes it); same city -> ``awaiting_courier`` and a courier is booked
  (``delivery.dispatch_for``); express -> ``shipped`` with its tracking number, and the goods
  leave the store's stock.
* ``shipment_mark_delivered``: an express parcel was signed for: ``shipped -> completed``
  (staff of the shipping location now; a carrier integration later calls the same service).
  ``express_auto_complete`` (``o2o complete-express``) completes parcels shipped more than
  ``O2O["EXPRESS_AUTO_COMPLETE_DAYS"]`` (7) days ago that nobody confirmed.
* ``shipment_reject``: the store cannot fill it (or picking came up short): the routing
  engine moves its lines to other stores (``fulfilment.reroute``); only before picking ended.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Q
from django.utils import timezone

from o2o.common.errors import ApiError, Conflict, InvalidInput, NotFound
from o2o.core.orders import IllegalTransition, check_shipment
from o2o.core.orders import ShipmentMode as M
from o2o.core.orders import ShipmentStatus as SS
from o2o.fulfilment import reroute
from o2o.fulfilment.handover import routed_shipment_fulfil
from o2o.fulfilment.models import RoutedShipment, RoutingDecision
from o2o.inventory.models import Reservation
from o2o.inventory.reservations import reservation_extend
from o2o.orders import delivery, history, pickup
from o2o.orders.actors import By, system
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    DeliveryAlert,
    EventKind,
    Order,
    OrderLine,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)

log = logging.getLogger("o2o.orders")

TO_PICK = (ShipmentStatus.ALLOCATED, ShipmentStatus.PICKING)
WITH_COURIER = (ShipmentStatus.AWAITING_COURIER, ShipmentStatus.OUT_FOR_DELIVERY)
QUEUE_STATUSES = (*TO_PICK, ShipmentStatus.READY_FOR_PICKUP, *WITH_COURIER)
READY_TARGET = {M.PICKUP: SS.READY_FOR_PICKUP, M.SAME_CITY: SS.AWAITING_COURIER, M.EXPRESS: SS.SHIPPED}


def shipment_find(shipment_id: int) -> Shipment:
    s = Shipment.objects.select_related("location").filter(pk=shipment_id).first()
    if s is None:
        raise NotFound("发货单不存在 Unknown shipment", code="unknown_shipment", details={"shipment_id": shipment_id})
    return s


def _locked(shipment_id: int) -> tuple[Order, Shipment]:
    """Lock the shipment's order, then read the shipment fresh."""
    order = lock_order(shipment_find(shipment_id).order_id)
    return order, shipment_find(shipment_id)


def _not_held(order: Order, s: Shipment) -> None:
    """A held order (``Order.hold``, e.g. a group deal not yet full) is not picked: 409 ``order_on_hold``."""
    if order.hold:
        raise Conflict("订单等待中(如拼团未成团)，暂不能备货 The order is on hold (e.g. its group is not full yet)",
                       code="order_on_hold", details={"order_id": order.pk, "shipment_id": s.pk, "hold": order.hold})


def _check(shipment: Shipment, target: SS) -> None:
    try:
        check_shipment(M(shipment.mode), SS(shipment.status), target)
    except IllegalTransition as exc:
        raise history.illegal(exc, shipment_id=shipment.pk, mode=shipment.mode) from None


def shipment_start_picking(shipment_id: int, by: By, *, now: datetime | None = None) -> Shipment:
    """``allocated -> picking``; the order follows."""
    with transaction.atomic():
        order, s = _locked(shipment_id)
        _not_held(order, s)
        return history.shipment_move(s, SS.PICKING, by=by, now=now, reason="开始拣货 picking started")


# --- picking, line by line --------------------------------------------------------------------

def _pick_rows(s: Shipment) -> dict[int, ShipmentLine]:
    """The shipment's pick lines by SKU, made from ``Shipment.lines`` on first use (the caller holds the
    order's row lock, so nobody else makes them meanwhile; the UNIQUE constraint backs that up)."""
    wanted: dict[int, int] = {}
    for ln in s.lines:
        wanted[int(ln["sku_id"])] = wanted.get(int(ln["sku_id"]), 0) + int(ln["qty"])
    rows = {r.sku_id: r for r in ShipmentLine.objects.filter(shipment=s)}
    missing = [ShipmentLine(shipment=s, sku_id=sku, qty=qty) for sku, qty in wanted.items() if sku not in rows]
    if missing:
        ShipmentLine.objects.bulk_create(missing)
        rows = {r.sku_id: r for r in ShipmentLine.objects.filter(shipment=s)}
    return rows


def picked_of(shipment_ids: list[int]) -> dict[int, dict[int, int]]:
    """{shipment id: {sku id: picked qty}} for pick lines made so far (a line not yet made: 0 picked)."""
    out: dict[int, dict[int, int]] = {}
    for sid, sku, picked in ShipmentLine.objects.filter(shipment_id__in=shipment_ids).values_list(
            "shipment_id", "sku_id", "picked_qty"):
        out.setdefault(sid, {})[sku] = picked
    return out


def _line_dict(row: ShipmentLine) -> dict[str, Any]:
    return {"sku_id": row.sku_id, "qty": row.qty, "picked_qty": row.picked_qty, "picked": row.picked_qty >= row.qty,
            "picked_at": timezone.localtime(row.picked_at) if row.picked_at else None,
            "picked_by": row.picked_by_id}


def _open_lines(rows: dict[int, ShipmentLine]) -> list[dict[str, Any]]:
    return [{"sku_id": r.sku_id, "qty": r.qty, "picked_qty": r.picked_qty}
            for r in sorted(rows.values(), key=lambda r: r.sku_id) if r.picked_qty < r.qty]


def shipment_pick_line(shipment_id: int, sku_id: int, by: By, qty: int | None = None, *,
                       now: datetime | None = None) -> dict[str, Any]:
    """Confirm ``qty`` units (default: the whole line) of the shipment's line of ``sku_id`` as picked.

    An absolute count, so repeating it is harmless (nothing is rewritten; no second history entry);
    0 takes a confirmation back. Only while the shipment is to be picked (409 ``not_picking``);
    an ``allocated`` shipment starts picking. 404 ``unknown_line``; 422 ``invalid_pick_qty``
    beyond the line's quantity. Answers the line and what is still open.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order, s = _locked(shipment_id)
        _not_held(order, s)
        if s.status not in TO_PICK:
            raise Conflict("该发货单不在拣货阶段 This shipment is not being picked", code="not_picking",
                           details={"shipment_id": s.pk, "status": s.status})
        rows = _pick_rows(s)
        row = rows.get(sku_id)
        if row is None:
            raise NotFound("发货单中没有这一商品 This shipment has no line of that SKU", code="unknown_line",
                           details={"shipment_id": s.pk, "sku_id": sku_id, "lines": sorted(rows)})
        qty = row.qty if qty is None else qty
        if qty < 0 or qty > row.qty:
            raise InvalidInput("拣货数量应在 0 到该行数量之间 The picked quantity must be between 0 and the line's",
                               code="invalid_pick_qty",
                               details={"shipment_id": s.pk, "sku_id": sku_id, "qty": qty, "line_qty": row.qty})
        changed = (ShipmentLine.objects.filter(pk=row.pk, qty__gte=qty).exclude(picked_qty=qty)
                   .update(picked_qty=qty, picked_at=now, picked_by_id=by.user_id))
        if changed:
            if s.status == ShipmentStatus.ALLOCATED and qty > 0:
                history.shipment_move(s, SS.PICKING, by=by, now=now, reason="开始拣货 picking started")
            name = OrderLine.objects.filter(order_id=s.order_id, sku_id=sku_id).values_list("name", flat=True).first()
            history.log(order, by=by, kind=EventKind.NOTE, shipment=s, at=now,
                        reason=f"拣货确认 picked {qty}/{row.qty}: {name or sku_id}")
        row.refresh_from_db()
        rows[sku_id] = row
        s.refresh_from_db(fields=["status"])
        return {"shipment_id": s.pk, "shipment_status": s.status, "line": _line_dict(row), "changed": bool(changed),
                "all_picked": not _open_lines(rows), "open_lines": _open_lines(rows)}


def _lines_picked(order: Order, s: Shipment, by: By, now: datetime, pick_all: bool) -> None:
    """Every line fully picked, else 409 ``lines_not_picked``; ``pick_all`` records them all picked first."""
    rows = _pick_rows(s)
    if pick_all:
        n = (ShipmentLine.objects.filter(shipment=s, picked_qty__lt=F("qty"))
             .update(picked_qty=F("qty"), picked_at=now, picked_by_id=by.user_id))
        if n:
            history.log(order, by=by, kind=EventKind.NOTE, shipment=s, at=now,
                        reason=f"全部确认拣货 all lines confirmed picked (pick_all: {n} lines)")
        return
    still = _open_lines(rows)
    if still:
        raise Conflict("还有商品未确认拣货 Some lines are not picked yet", code="lines_not_picked",
                       details={"shipment_id": s.pk, "lines": still})


def shipment_mark_ready(shipment_id: int, by: By, tracking_no: str = "", *, pick_all: bool = False,
                        now: datetime | None = None) -> Shipment:
    """Packed: ready for pickup / awaiting a courier / shipped (see the module docstring)."""
    now = now or timezone.now()
    tracking_no = (tracking_no or "").strip()
    with transaction.atomic():
        order, s = _locked(shipment_id)
        _not_held(order, s)
        target = READY_TARGET.get(M(s.mode))
        if target is None:
            raise Conflict("门店现场订单无需备货 A counter sale has nothing to prepare", code="illegal_transition",
                           details={"shipment_id": s.pk, "mode": s.mode})
        _check(s, target)
        _lines_picked(order, s, by, now, pick_all)
        if target is SS.READY_FOR_PICKUP:
            deadline = now + timedelta(hours=pickup.hold_hours())
            reservation_id = _reservation_id(s)
            # Hold the goods a day past the deadline (the pickup sweep runs first).
            if reservation_id is not None and not reservation_extend(reservation_id=reservation_id,
                                                                     expires_at=deadline + timedelta(days=1)):
                raise _hold_lost(s, reservation_id)
            history.shipment_move(s, target, by=by, now=now, reason="已备好，待顾客自提 ready for pickup",
                                  ready_at=now, pickup_deadline=deadline)
            pickup.code_issue(s, now)
        elif target is SS.AWAITING_COURIER:
            reservation_id = _reservation_id(s)
            # The goods must still be held here until the rider collects them (up to the paid hold).
            if reservation_id is not None and not reservation_extend(reservation_id=reservation_id,
                                                                     expires_at=now + timedelta(days=1)):
                raise _hold_lost(s, reservation_id)
            history.shipment_move(s, target, by=by, now=now, reason="已打包，等待骑手 packed; booking a courier",
                                  ready_at=now)
            delivery.dispatch_for(s, by=by)
        else:
            if not tracking_no:
                raise InvalidInput("快递发货需要运单号 An express parcel needs its tracking number",
                                   code="tracking_no_required", details={"shipment_id": s.pk})
            if s.routed_id is not None:
                routed_shipment_fulfil(routed_id=s.routed_id, who=by.who,
                                       reason=f"快递发货 shipped {tracking_no}: {order.number}")
            history.shipment_move(s, target, by=by, now=now, reason=f"已交快递 handed to the carrier: {tracking_no}",
                                  ready_at=now, handed_over_at=now, tracking_no=tracking_no[:64])
        return s


def _reservation_id(s: Shipment) -> int | None:
    if s.routed_id is None:
        return None
    return RoutedShipment.objects.filter(pk=s.routed_id).values_list("reservation_id", flat=True).first()


def _hold_lost(s: Shipment, reservation_id: int) -> Conflict:
    res = Reservation.objects.filter(pk=reservation_id).values("status", "expires_at", "closed_at").first() or {}

    def local(at: datetime | None) -> str | None:
        return timezone.localtime(at).isoformat() if at is not None else None

    return Conflict("商品预占已失效，请拒单改派 The stock held for this shipment was released (expired or short); "
                    "reject it so that it is re-routed", code="hold_lost",
                    details={"shipment_id": s.pk, "reservation_id": reservation_id,
                             "reservation_status": res.get("status"), "expires_at": local(res.get("expires_at")),
                             "closed_at": local(res.get("closed_at"))})


# --- express: delivered, or confirmed automatically ---------------------------------------------

DELIVERED_SKEW = timedelta(minutes=5)  # a scanner's clock a little ahead counts as now


def express_auto_days() -> int:
    days = settings.O2O.get("EXPRESS_AUTO_COMPLETE_DAYS", 7)
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"O2O['EXPRESS_AUTO_COMPLETE_DAYS'] must be a whole number of days >= 1, not {days!r}")
    return days


def _delivered_at(s: Shipment, at: datetime | None, now: datetime) -> datetime:
    if at is None:
        return now
    if timezone.is_naive(at):
        raise InvalidInput("签收时间须带时区 at needs a time zone", code="invalid_time",
                           details={"shipment_id": s.pk})
    shipped = s.handed_over_at
    if at > now + DELIVERED_SKEW or (shipped is not None and at < shipped):
        raise InvalidInput("签收时间应在发货之后、当前之前 at must be between shipping and now", code="invalid_time",
                           details={"shipment_id": s.pk, "at": at.isoformat(), "now": timezone.localtime(now).isoformat(),
                                    "handed_over_at": timezone.localtime(shipped).isoformat() if shipped else None})
    return min(at, now)


def shipment_mark_delivered(shipment_id: int, by: By, at: datetime | None = None, *,
                            now: datetime | None = None) -> Shipment:
    """An express parcel was signed for (at ``at``, default now): ``shipped -> completed``; the order follows.

    Only express shipments (409 ``not_express``); from ``shipped`` only (409
    ``illegal_transition``: not yet shipped, or already completed).
    """
    now = now or timezone.now()
    with transaction.atomic():
        _, s = _locked(shipment_id)
        if s.mode != M.EXPRESS:
            raise Conflict("只有快递发货单可确认签收 Only an express shipment is confirmed as delivered",
                           code="not_express", details={"shipment_id": s.pk, "mode": s.mode, "status": s.status})
        _check(s, SS.COMPLETED)
        delivered = _delivered_at(s, at, now)
        reason = "快递已签收 delivered" + (f" ({s.tracking_no})" if s.tracking_no else "")
        if delivered != now:
            reason += f" at {timezone.localtime(delivered):%Y-%m-%d %H:%M}"
        return history.shipment_move(s, SS.COMPLETED, by=by, now=now, completed_at=delivered, reason=reason)


def _express_due(cut: datetime) -> Q:
    return Q(mode=M.EXPRESS, status=SS.SHIPPED) & (
        Q(handed_over_at__lte=cut) | Q(handed_over_at__isnull=True, status_changed_at__lte=cut))


def express_auto_complete(now: datetime | None = None, *, limit: int = 500) -> int:
    """Complete express parcels shipped more than ``EXPRESS_AUTO_COMPLETE_DAYS`` ago (``o2o complete-express``).

    One transaction each, the order row lock first; a parcel confirmed or completed meanwhile
    is skipped (checked again under the lock). Safe to run in several processes. The count done.
    """
    now = now or timezone.now()
    days = express_auto_days()
    due = _express_due(now - timedelta(days=days))
    by = system("express-auto-complete")
    done = 0
    for pk in list(Shipment.objects.filter(due).order_by("pk").values_list("pk", flat=True)[:limit]):
        try:
            with transaction.atomic():
                _, s = _locked(pk)
                if not Shipment.objects.filter(due, pk=pk).exists():
                    continue
                history.shipment_move(s, SS.COMPLETED, by=by, now=now, completed_at=now,
                                      reason=f"签收超时自动确认 auto-confirmed {days} days after shipping")
                done += 1
        except (ApiError, DatabaseError):
            log.exception("could not auto-complete express shipment %s", pk)
    return done


def shipment_reject(shipment_id: int, by: By, reason: str, short: bool = False, *,
                    now: datetime | None = None) -> tuple[Shipment, RoutingDecision]:
    """The store will not (or, ``short``, cannot) fill it: re-route its lines to other stores.

    The old shipment becomes ``rerouted`` and the new decision's shipments join the order
    (``reroutes``, in this transaction); then the order follows its shipments. Lines that no
    other store can take are refunded; when nothing is left the order is cancelled and
    refunded whole (``pickup.refund_dropped``). A pickup order cannot move to another store
    (the customer chose this one), so rejecting it cancels and refunds it.
    """
    now = now or timezone.now()
    why = f"拣货缺货 short at picking: {reason}" if short else f"门店拒单 store rejected: {reason}"
    with transaction.atomic():
        order, s = _locked(shipment_id)
        if s.status not in TO_PICK:
            raise Conflict("只能在拣货完成前拒单 Only a paid shipment not yet packed can be rejected",
                           code="illegal_transition",
                           details={"kind": "shipment", "from": s.status, "to": SS.REROUTED.value,
                                    "shipment_id": s.pk, "mode": s.mode})
        _check(s, SS.REROUTED)
        if s.routed_id is None:
            raise Conflict("该发货单无法改派 This shipment was not routed; it cannot be re-routed",
                           code="not_routed", details={"shipment_id": s.pk})
        decision = reroute.shipment_reject(shipment_id=s.routed_id, reason=why[:200], who=by.who)
        s.refresh_from_db()
        order.refresh_from_db()
        history.log(order, by=by, kind=EventKind.NOTE, shipment=s, at=now, reason=why)
        # Lines no other store can take are refunded (all of them: the order is cancelled).
        unfilled = pickup.units_of(decision.plan.get("unfilled") or [])
        pickup.refund_dropped(order, unfilled, by=by, reason=why, now=now)
        return s, decision


# --- the work queue ----------------------------------------------------------------------------

def _names(order_ids: set[int]) -> dict[tuple[int, int], str]:
    return {(o, sku): name for o, sku, name in
            OrderLine.objects.filter(order_id__in=order_ids).values_list("order_id", "sku_id", "name")}


def promise_of(s: Shipment) -> datetime | None:
    """What the store is measured against: the pickup deadline once ready, else the promised latest ETA."""
    return s.pickup_deadline if s.status == ShipmentStatus.READY_FOR_PICKUP else s.eta_latest


def store_shipment_dict(s: Shipment, *, now: datetime, names: dict[tuple[int, int], str] | None = None,
                        order: Order | None = None, picked: dict[int, dict[int, int]] | None = None) -> dict[str, Any]:
    """A shipment as the store sees it: the order's number and contact (masked), lines (with how many
    units were confirmed picked), the timer."""
    order = order or s.order
    names = names if names is not None else _names({s.order_id})
    done = (picked if picked is not None else picked_of([s.pk])).get(s.pk, {})
    lines = [{"sku_id": ln["sku_id"], "qty": ln["qty"], "name": names.get((s.order_id, ln["sku_id"]), ""),
              "picked_qty": min(done.get(ln["sku_id"], 0), ln["qty"])} for ln in s.lines]
    promise = promise_of(s)
    left = None if promise is None else int((promise - now).total_seconds() // 60)

    def local(at: datetime | None) -> datetime | None:
        return timezone.localtime(at) if at is not None else None

    return {
        "id": s.pk, "order_id": order.pk, "order_number": order.number, "order_status": order.status,
        "location_id": s.location_id, "location_name": s.location.name, "mode": s.mode, "status": s.status,
        "lines": lines, "all_picked": all(ln["picked_qty"] >= ln["qty"] for ln in lines),
        "courier": s.courier, "tracking_no": s.tracking_no, "contact_name": order.contact_name,
        "contact_phone": order.contact_phone_masked,
        "eta_earliest": local(s.eta_earliest), "eta_latest": local(s.eta_latest),
        "pickup_deadline": local(s.pickup_deadline), "ready_at": local(s.ready_at),
        "handed_over_at": local(s.handed_over_at), "completed_at": local(s.completed_at),
        "promise_at": local(promise), "minutes_left": left, "late": promise is not None and promise < now,
    }


def alert_dict(a: DeliveryAlert) -> dict[str, Any]:
    return {"id": a.pk, "shipment_id": a.shipment_id, "order_id": a.shipment.order_id,
            "order_number": a.shipment.order.number, "location_id": a.location_id, "kind": a.kind,
            "message": a.message, "created_at": timezone.localtime(a.created_at),
            "resolved_at": timezone.localtime(a.resolved_at) if a.resolved_at else None,
            "resolved_by": a.resolved_by_id}


def alerts_list(location_id: int, *, open_only: bool = True, limit: int = 200) -> list[dict[str, Any]]:
    qs = DeliveryAlert.objects.filter(location_id=location_id).select_related("shipment__order")
    if open_only:
        qs = qs.filter(resolved_at__isnull=True)
    return [alert_dict(a) for a in qs.order_by("-created_at", "-pk")[:limit]]


def store_queue(location_id: int, statuses: list[str] | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The store's open shipments, most urgent first, grouped by what the staff do next, and its open alerts.
    Shipments of a held order (``Order.hold``: a group deal not yet full) are not shown until it is released."""
    now = now or timezone.now()
    wanted = [s for s in QUEUE_STATUSES if statuses is None or s in statuses]
    shipments = list(Shipment.objects.filter(location_id=location_id, status__in=wanted, order__hold="")
                     .select_related("order", "location"))
    names = _names({s.order_id for s in shipments})
    picked = picked_of([s.pk for s in shipments])
    far = now + timedelta(days=3650)
    shipments.sort(key=lambda s: (promise_of(s) or far, s.pk))
    items = [store_shipment_dict(s, now=now, names=names, picked=picked) for s in shipments]
    groups: dict[str, list[dict[str, Any]]] = {"to_pick": [], "ready_for_pickup": [], "with_courier": []}
    for item in items:
        key = ("to_pick" if item["status"] in TO_PICK else
               "ready_for_pickup" if item["status"] == ShipmentStatus.READY_FOR_PICKUP else "with_courier")
        groups[key].append(item)
    return {"location_id": location_id, "now": timezone.localtime(now), **groups,
            "late": sum(1 for i in items if i["late"]), "alerts": alerts_list(location_id)}


def alert_find(alert_id: int) -> DeliveryAlert:
    a = DeliveryAlert.objects.select_related("shipment__order").filter(pk=alert_id).first()
    if a is None:
        raise NotFound("异常不存在 Unknown alert", code="unknown_alert", details={"alert_id": alert_id})
    return a


def alert_resolve(alert_id: int, *, by: By, now: datetime | None = None) -> DeliveryAlert:
    """Mark an open alert resolved, once (a conditional UPDATE; 409 ``already_resolved`` after that)."""
    now = now or timezone.now()
    with transaction.atomic():
        won = DeliveryAlert.objects.filter(Q(pk=alert_id), Q(resolved_at__isnull=True)).update(
            resolved_at=now, resolved_by_id=by.user_id)
        a = alert_find(alert_id)
        if not won:
            raise Conflict("该异常已处理 The alert was already resolved", code="already_resolved",
                           details={"alert_id": a.pk, "resolved_at": timezone.localtime(a.resolved_at).isoformat(),
                                    "resolved_by": a.resolved_by_id})
        history.log(a.shipment.order, by=by, kind=EventKind.NOTE, shipment=a.shipment, at=now,
                    reason=f"已处理异常 resolved alert #{a.pk} ({a.kind})")
        return a
