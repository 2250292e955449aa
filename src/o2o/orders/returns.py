"""Returns across channels: an online order returned at any store or by courier, a till purchase online.

* ``return_create``: the customer (or staff for them) announces a return. Only goods that
  left the store can come back: units in completed shipments (a POS sale is completed at
  the counter). The quantities are reserved at once with a conditional UPDATE
  (``returned_qty + q <= handed over``, a CHECK keeps ``returned_qty <= qty``), so two
  returns racing for one line can never return more than was bought: 409
  ``return_exceeds_quantity`` names the line. The refund of each line is fixed then by the
  core's cumulative schedule (``refund_for``): exact in fen whatever the sequence of partial
  returns, and a cancelled return gives its units and fen back to the schedule.
* ``return_receive``: the goods arrive at the return's location: restocked there (a ledger
  movement of kind ``return`` keyed by the return), refunded through ``lifecycle.refund``
  (the payments hook), ``OrderLine.refunded_fen`` grows (conditional, within the line's
  payable); once every paid fen of a completed order is back the order is ``refunded``.
  The outbox event ``order.refunded_lines`` names the lines and amounts for points and
  coupon reversal (the members and marketing issues subscribe).
* ``return_at_store``: the customer hands the goods over at a counter: created and received
  in one transaction.
* ``return_cancel``: a requested return is cancelled (customer or staff) or rejected (staff,
  ``reject=True``); its units become returnable again.

Every write takes the order row lock first (``locks``), then stock rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from o2o.catalog.models import Channel
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.orders import OrderStatus as S
from o2o.core.orders import refund_for
from o2o.inventory import buckets
from o2o.inventory.ledger import Entry, record
from o2o.inventory.models import MovementKind
from o2o.orders import history, lifecycle, numbers
from o2o.orders.actors import By
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    EventKind,
    Order,
    OrderLine,
    Return,
    ReturnLine,
    ReturnMethod,
    ReturnStatus,
    Shipment,
    ShipmentStatus,
)
from o2o.stores.models import Location, LocationKind

__all__ = ["ACTIVE_RETURN", "return_at_store", "return_cancel", "return_create", "return_receive"]

# Returns whose units and refund count against their lines (a cancelled/rejected one gave them back).
ACTIVE_RETURN = (ReturnStatus.REQUESTED, ReturnStatus.RECEIVED, ReturnStatus.REFUNDED)
NOT_RETURNABLE = {S.PENDING_PAYMENT, S.CANCELLED, S.EXPIRED}
RETURN_LOCATION_KINDS = {LocationKind.STORE, LocationKind.WAREHOUSE}
MAX_QTY = 1_000_000


def _location(location_id: int) -> Location:
    loc = Location.objects.filter(pk=location_id, active=True).first()
    if loc is None:
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    if loc.kind not in RETURN_LOCATION_KINDS:
        raise InvalidInput("该网点不收退货 This location does not take returns (stores and warehouses do)",
                           code="invalid_return_location", details={"location_id": location_id, "kind": loc.kind})
    return loc


def _wanted(order: Order, lines: Sequence[tuple[int, int]]) -> list[tuple[OrderLine, int]]:
    """The order's lines and quantities asked for, in line order; 422 for anything malformed."""
    if not lines:
        raise InvalidInput("至少需要一行 At least one line is needed", code="empty_return", details={"lines": []})
    if len(lines) > settings.O2O["MAX_BASKET_LINES"]:
        raise InvalidInput("行数过多 Too many lines", code="too_many_lines",
                           details={"max": settings.O2O["MAX_BASKET_LINES"], "got": len(lines)})
    bad = [{"order_line_id": i, "qty": q} for i, q in lines
           if not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= MAX_QTY]
    if bad:
        raise InvalidInput("数量必须为正整数 Quantities must be positive", code="invalid_quantity",
                           details={"lines": bad})
    ids = [i for i, _ in lines]
    if len(set(ids)) != len(ids):
        raise InvalidInput("同一订单行出现多次 An order line appears twice", code="duplicate_line",
                           details={"order_line_ids": sorted({i for i in ids if ids.count(i) > 1})})
    rows = {ln.pk: ln for ln in OrderLine.objects.filter(order=order, pk__in=ids)}
    unknown = [i for i in ids if i not in rows]
    if unknown:
        raise InvalidInput("订单行不属于该订单 The lines are not on this order", code="unknown_order_line",
                           details={"order_id": order.pk, "order_line_ids": unknown})
    return sorted(((rows[i], q) for i, q in lines), key=lambda pair: pair[0].pk)


def _handed_over(order: Order) -> dict[int, int] | None:
    """Units per SKU that left the store (completed shipments); None: all of them (a POS sale)."""
    if order.channel == Channel.POS:
        return None
    out: dict[int, int] = defaultdict(int)
    for lines in Shipment.objects.filter(order=order, status=ShipmentStatus.COMPLETED).values_list("lines", flat=True):
        for ln in lines:
            out[int(ln["sku_id"])] += int(ln["qty"])
    return out


def _reserve(line: OrderLine, qty: int, bound: int) -> int:
    """Add ``qty`` to the line's returned units if that stays within ``bound``; the units before."""
    won = OrderLine.objects.filter(pk=line.pk, returned_qty__lte=bound - qty).update(
        returned_qty=F("returned_qty") + qty)
    returned = OrderLine.objects.filter(pk=line.pk).values_list("returned_qty", flat=True).get()
    if not won:
        raise Conflict("退货数量超过可退数量 More units than can be returned on this line",
                       code="return_exceeds_quantity",
                       details={"order_line_id": line.pk, "sku_id": line.sku_id, "requested": qty,
                                "bought": line.qty, "handed_over": bound, "returned": returned,
                                "returnable": max(bound - returned, 0)})
    return returned - qty


def _committed_fen(line: OrderLine) -> int:
    """The refund already promised on this line by active returns (received or not)."""
    return ReturnLine.objects.filter(order_line=line, order_return__status__in=ACTIVE_RETURN).aggregate(
        s=Sum("refund_fen"))["s"] or 0


def _number(now: datetime) -> str:
    for _ in range(3):
        number = numbers.return_number(now)
        if not Return.objects.filter(number=number).exists():
            return number
    return number


def _line_payload(rl: ReturnLine) -> dict:
    return {"order_line_id": rl.order_line_id, "sku_id": rl.order_line.sku_id, "qty": rl.qty,
            "refund_fen": rl.refund_fen}


def return_create(*, order_id: int, lines: Sequence[tuple[int, int]], method: str, location_id: int, reason: str,
                  by: By, requested_by_member_id: int | None = None, now: datetime | None = None) -> Return:
    """Announce a return of ``lines`` [(order_line_id, qty)] to ``location_id`` (status requested).

    ``requested_by_member_id``: a member returning their own order (another member's order is 404).
    """
    now = now or timezone.now()
    if method not in ReturnMethod.values:
        raise InvalidInput("退货方式不正确 Unknown return method", code="invalid_method",
                           details={"method": method, "allowed": list(ReturnMethod.values)})
    with transaction.atomic():
        order = lock_order(order_id)
        if requested_by_member_id is not None and order.member_id != requested_by_member_id:
            raise NotFound("订单不存在 Unknown order", code="unknown_order", details={"order_id": order_id})
        if order.status in NOT_RETURNABLE:
            raise Conflict("该订单不能退货 This order cannot be returned", code="order_not_returnable",
                           details={"order_id": order.pk, "status": order.status})
        loc = _location(location_id)
        wanted = _wanted(order, lines)
        handed = _handed_over(order)
        priced: list[tuple[OrderLine, int, int]] = []
        for line, qty in wanted:
            bound = line.qty if handed is None else min(line.qty, handed.get(line.sku_id, 0))
            before = _reserve(line, qty, bound)
            fen = refund_for(line.payable_fen, line.qty, before, _committed_fen(line), qty)
            priced.append((line, qty, fen))
        try:
            with transaction.atomic():
                ret = Return.objects.create(
                    number=_number(now), order=order, method=method, location=loc, status=ReturnStatus.REQUESTED,
                    reason=reason[:200], refund_fen=sum(fen for _, _, fen in priced), created_at=now,
                    created_by_id=by.user_id, requested_by_member_id=requested_by_member_id or by.member_id)
        except IntegrityError:
            raise Conflict("退货单号冲突，请重试 Return number taken; send again", code="retry") from None
        rows = ReturnLine.objects.bulk_create([ReturnLine(order_return=ret, order_line=line, qty=qty, refund_fen=fen)
                                               for line, qty, fen in priced])
        history.log(order, by=by, kind=EventKind.NOTE, at=now,
                    reason=f"退货申请 return {ret.number} ({method}) to location {loc.pk}: {reason}")
        history.emit(order, "order.return_requested", key=f"return:{ret.pk}:requested", return_id=ret.pk,
                     return_number=ret.number, method=method, location_id=loc.pk, refund_fen=ret.refund_fen,
                     lines=[_line_payload(rl) for rl in rows])
        return ret


def _lock_return(return_id: int) -> tuple[Order, Return]:
    order_id = Return.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("退货单不存在 Unknown return", code="unknown_return", details={"return_id": return_id})
    order = lock_order(order_id)
    return order, Return.objects.get(pk=return_id)  # changes only under the order's lock


def _move(ret: Return, target: str, **fields: object) -> None:
    current = ret.status
    won = Return.objects.filter(pk=ret.pk, status=current).update(status=target, **fields)
    if not won:
        raise Conflict("退货单状态已变化，请刷新 The return changed meanwhile; reload it", code="return_changed",
                       details={"return_id": ret.pk, "expected": current})
    ret.status = target
    for k, v in fields.items():
        setattr(ret, k, v)


def _open(ret: Return) -> None:
    if ret.status != ReturnStatus.REQUESTED:
        raise Conflict("退货单已处理 The return is no longer open", code="return_not_open",
                       details={"return_id": ret.pk, "status": ret.status})


def _restock(ret: Return, lines: list[ReturnLine], by: By, now: datetime) -> None:
    """The goods are back on the shelf where they arrived: a ``return`` movement per SKU, keyed by the return.

    Written with the ledger directly rather than ``stock_receive``: a delisted (inactive)
    SKU must still be taken back, and the movement kind says it is a customer return.
    """
    entries = [Entry(ret.location_id, rl.order_line.sku_id, MovementKind.RETURN, rl.qty, delta_on_hand=rl.qty,
                     key=f"return:{ret.pk}:{rl.order_line.sku_id}", reason=f"退货入库 return {ret.number}"[:200],
                     reference=ret.number, details={"order_id": ret.order_id, "return_id": ret.pk},
                     occurred_at=now)
               for rl in sorted(lines, key=lambda r: r.order_line.sku_id)]
    record(entries, by.who)
    for e in entries:
        buckets.apply_change(location_id=e.location_id, sku_id=e.sku_id, d_on_hand=e.qty)


def _receive(order: Order, ret: Return, *, by: By, now: datetime) -> Return:
    _open(ret)
    lines = list(ret.lines.select_related("order_line").order_by("order_line_id"))
    _restock(ret, lines, by, now)
    _move(ret, ReturnStatus.RECEIVED, received_at=now, received_by_id=by.user_id)
    for rl in lines:
        if rl.refund_fen and not OrderLine.objects.filter(
                pk=rl.order_line_id, refunded_fen__lte=F("payable_fen") - rl.refund_fen).update(
                refunded_fen=F("refunded_fen") + rl.refund_fen):
            raise Conflict("退款超过该行实付 The refund exceeds what the line paid", code="refund_exceeds_paid",
                           details={"order_line_id": rl.order_line_id, "refund_fen": rl.refund_fen})
    lifecycle.refund(order, ret.refund_fen, f"退货 return {ret.number}", by, order_return=ret)
    _move(ret, ReturnStatus.REFUNDED)
    history.log(order, by=by, kind=EventKind.NOTE, at=now,
                reason=f"退货已收货并退款 return {ret.number} received at {ret.location_id}, refund {ret.refund_fen} fen")
    history.emit(order, "order.refunded_lines", key=f"return:{ret.pk}:refunded", return_id=ret.pk,
                 return_number=ret.number, location_id=ret.location_id, refund_fen=ret.refund_fen,
                 lines=[_line_payload(rl) for rl in lines])
    _follow_refund(order, by=by, now=now)
    return ret


def _follow_refund(order: Order, *, by: By, now: datetime) -> None:
    """completed -> refunded once every paid fen came back (a free order: once every unit did)."""
    status, paid, refunded = Order.objects.filter(pk=order.pk).values_list(
        "status", "paid_fen", "refunded_fen").get()
    order.status, order.paid_fen, order.refunded_fen = status, paid, refunded
    if status != S.COMPLETED or refunded < paid:
        return
    if paid == 0 and OrderLine.objects.filter(order=order, returned_qty__lt=F("qty")).exists():
        return
    history.order_move(order, S.REFUNDED, by=by, now=now, reason="全部退款 everything paid was refunded")


def return_receive(*, return_id: int, by: By, now: datetime | None = None) -> Return:
    """The return's goods arrived at its location: restock, refund, and close it (status refunded)."""
    now = now or timezone.now()
    with transaction.atomic():
        order, ret = _lock_return(return_id)
        return _receive(order, ret, by=by, now=now)


def return_at_store(*, order_id: int, lines: Sequence[tuple[int, int]], location_id: int, reason: str, by: By,
                    now: datetime | None = None) -> Return:
    """The customer hands the goods over at a counter: created and received in one transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        ret = return_create(order_id=order_id, lines=lines, method=ReturnMethod.STORE, location_id=location_id,
                            reason=reason, by=by, now=now)
        order = lock_order(order_id)
        return _receive(order, ret, by=by, now=now)


def return_cancel(*, return_id: int, by: By, reason: str = "", member_id: int | None = None,
                  reject: bool = False, now: datetime | None = None) -> Return:
    """Close a requested return without taking the goods (cancelled, or ``reject``-ed by staff).

    Its units become returnable again (conditional UPDATE) and its refund leaves the line's schedule.
    """
    now = now or timezone.now()
    with transaction.atomic():
        order, ret = _lock_return(return_id)
        if member_id is not None and order.member_id != member_id:
            raise NotFound("退货单不存在 Unknown return", code="unknown_return", details={"return_id": return_id})
        _open(ret)
        _move(ret, ReturnStatus.REJECTED if reject else ReturnStatus.CANCELLED)
        lines = list(ret.lines.select_related("order_line").order_by("order_line_id"))
        for rl in lines:
            if not OrderLine.objects.filter(pk=rl.order_line_id, returned_qty__gte=rl.qty).update(
                    returned_qty=F("returned_qty") - rl.qty):
                raise Conflict("退货数量不一致 The line's returned units disagree with the return",
                               code="return_changed", details={"order_line_id": rl.order_line_id})
        what = "rejected" if reject else "cancelled"
        history.log(order, by=by, kind=EventKind.NOTE, at=now,
                    reason=f"退货单{'拒收' if reject else '撤销'} return {ret.number} {what}: {reason}")
        history.emit(order, f"order.return_{what}", key=f"return:{ret.pk}:{what}", return_id=ret.pk,
                     return_number=ret.number, lines=[_line_payload(rl) for rl in lines])
        return ret
