"""A till's sale recorded as an order, so the order center (and the member) sees every channel.

``pos_order_record`` turns one receipt into an order of channel ``pos``, choice ``counter``,
``store`` = the till's store and ``external_ref`` = the receipt number. The order is created
``pending_payment`` and moved ``paid -> completed`` at the sale's time (both in its history),
with one ``counter`` shipment completed at the store, the lines at the till's prices and one
paid ``Payment`` (provider ``cash`` for cash and card, ``wechat`` / ``alipay`` otherwise, with
a receipt-scoped transaction id).

Money: the till's discount (``subtotal - paid``) is split over the lines with the core's
``allocate`` (largest remainder), so the lines' payables sum to exactly what was paid and a
later return refunds exact fen. Paying more than the subtotal is refused (422).

Idempotent by receipt: ``UNIQUE (store, external_ref)`` decides. The same receipt with the
same content answers the first order (``created=False``); other content is 409
``receipt_conflict``. The content compared is the till's own data (lines, amounts, method,
member, time), not who sent it.

Stock is NOT touched here: the till's stock movements come through the POS events endpoint
(``o2o.inventory.pos``) for the same receipt. A return of this order through the returns
service restocks at the return's location (``returns``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.catalog.models import Channel, Sku
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.orders import OrderStatus as S
from o2o.core.orders import ShipmentStatus as SS
from o2o.core.orders import allocate
from o2o.inventory.pos_events import CLOCK_SKEW, OLDEST
from o2o.orders import history, numbers
from o2o.orders.actors import By
from o2o.orders.models import (
    EventKind,
    FulfilmentChoice,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    PaymentStatus,
    Provider,
    Shipment,
    ShipmentMode,
    ShipmentStatus,
)
from o2o.stores.models import Location, LocationKind

__all__ = ["MAX_RECEIPT", "PAYMENT_METHODS", "PosLine", "pos_order_record"]

PAYMENT_METHODS = {"cash": Provider.CASH, "card": Provider.CASH, "wechat": Provider.WECHAT,
                   "alipay": Provider.ALIPAY}
MAX_RECEIPT = 40  # "pos:{store}:{receipt}" must fit a payment's 64-character transaction id
MAX_QTY = 1_000_000
MAX_UNIT_PRICE_FEN = 10_000_000_000  # ¥100,000,000 a unit


@dataclass(frozen=True)
class PosLine:
    sku_id: int
    qty: int
    unit_price_fen: int


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check_receipt(receipt_no: object) -> str:
    if (not isinstance(receipt_no, str) or not 0 < len(receipt_no) <= MAX_RECEIPT
            or not all("!" <= ch <= "~" for ch in receipt_no)):
        raise InvalidInput(f"小票号无效 receipt_no must be 1-{MAX_RECEIPT} printable ASCII characters",
                           code="invalid_receipt", details={"max": MAX_RECEIPT})
    return receipt_no


def _check_lines(lines: Sequence[tuple[int, int, int]]) -> list[PosLine]:
    """The receipt's lines merged per SKU (same price) and sorted by SKU; 422/404 otherwise."""
    if not lines:
        raise InvalidInput("至少需要一行 At least one line is needed", code="empty_receipt", details={"lines": []})
    if len(lines) > settings.O2O["MAX_BASKET_LINES"]:
        raise InvalidInput("行数过多 Too many lines", code="too_many_lines",
                           details={"max": settings.O2O["MAX_BASKET_LINES"], "got": len(lines)})
    bad = [{"index": i, "sku_id": s, "qty": q, "unit_price_fen": p} for i, (s, q, p) in enumerate(lines)
           if not (_is_int(s) and s > 0 and _is_int(q) and 1 <= q <= MAX_QTY and _is_int(p)
                   and 0 <= p <= MAX_UNIT_PRICE_FEN)]
    if bad:
        raise InvalidInput("行数据无效 Invalid lines (qty 1-1000000, price 0-10000000000 fen)",
                           code="invalid_lines", details={"lines": bad[:50]})
    merged: dict[int, PosLine] = {}
    clash: set[int] = set()
    for s, q, p in lines:
        seen = merged.get(s)
        if seen is not None and seen.unit_price_fen != p:
            clash.add(s)
        merged[s] = PosLine(s, q + (seen.qty if seen else 0), p)
    if clash:
        raise InvalidInput("同一 SKU 价格不同，请用整单优惠 A SKU appears at two prices; send one line and the discount",
                           code="duplicate_sku", details={"sku_ids": sorted(clash)})
    # Inactive SKUs are accepted: a till may sell off a product that is no longer listed online.
    known = set(Sku.objects.filter(pk__in=list(merged)).values_list("pk", flat=True))
    unknown = sorted(set(merged) - known)
    if unknown:
        raise NotFound("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": unknown})
    return [merged[s] for s in sorted(merged)]


def _check_store(location_id: int) -> None:
    kind = Location.objects.filter(pk=location_id, active=True).values_list("kind", flat=True).first()
    if kind is None:
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    if kind != LocationKind.STORE:
        raise InvalidInput("只有门店有收银台 Only stores have tills", code="not_a_store",
                           details={"location_id": location_id, "kind": kind})


def _check_time(occurred_at: datetime, now: datetime) -> datetime:
    """The sale's time; a till clock a little ahead counts as now, far ahead or naive is refused."""
    if not isinstance(occurred_at, datetime) or timezone.is_naive(occurred_at):
        raise InvalidInput("时间须带时区 occurred_at needs a time zone", code="invalid_time")
    if occurred_at > now + CLOCK_SKEW or occurred_at < OLDEST:
        raise InvalidInput("销售时间不合理 occurred_at is too far in the future or the past", code="invalid_time",
                           details={"occurred_at": occurred_at.isoformat(), "now": now.isoformat()})
    return min(occurred_at, now)


def _digest(content: dict) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def pos_order_record(*, location_id: int, receipt_no: str, lines: Sequence[tuple[int, int, int]], paid_fen: int,
                     payment_method: str, member_id: int | None = None, occurred_at: datetime, by: By,
                     now: datetime | None = None) -> tuple[Order, bool]:
    """Record a till's receipt as a completed order; (order, created). A replay answers the first order."""
    now = now or timezone.now()
    receipt = _check_receipt(receipt_no)
    at = _check_time(occurred_at, now)
    if payment_method not in PAYMENT_METHODS:
        raise InvalidInput("支付方式不正确 Unknown payment method", code="invalid_payment_method",
                           details={"payment_method": payment_method, "allowed": sorted(PAYMENT_METHODS)})
    pos_lines = _check_lines(lines)
    goods = sum(ln.qty * ln.unit_price_fen for ln in pos_lines)
    if not _is_int(paid_fen) or not 0 <= paid_fen <= goods:
        raise InvalidInput("实收金额不能超过商品金额 paid_fen must be between 0 and the receipt's subtotal",
                           code="paid_exceeds_subtotal", details={"paid_fen": paid_fen, "subtotal_fen": goods})
    _check_store(location_id)
    if member_id is not None and not Member.objects.filter(pk=member_id).exists():
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": member_id})
    content = {"location_id": location_id, "receipt_no": receipt, "paid_fen": paid_fen,
               "payment_method": payment_method, "member_id": member_id,
               "occurred_at": occurred_at.astimezone(UTC).isoformat(),
               "lines": [[ln.sku_id, ln.qty, ln.unit_price_fen] for ln in pos_lines]}
    digest = _digest(content)
    existing = Order.objects.filter(store_id=location_id, external_ref=receipt).first()
    if existing is not None:
        return _replay(existing, digest), False
    try:
        with transaction.atomic():
            member_id = _till_member(member_id)
            order = _create(location_id, receipt, pos_lines, goods, paid_fen, payment_method, member_id, at, by,
                            {**content, "digest": digest}, now)
    except IntegrityError:
        existing = Order.objects.filter(store_id=location_id, external_ref=receipt).first()
        if existing is None:  # another unique value (an order number) collided
            raise Conflict("订单号冲突，请重试 Order number taken; send again", code="retry") from None
        return _replay(existing, digest), False
    return order, True


def _replay(order: Order, digest: str) -> Order:
    if (order.pricing or {}).get("pos", {}).get("digest") != digest:
        raise Conflict("同一小票号已记录了不同内容 This receipt was recorded with different content",
                       code="receipt_conflict", details={"order_id": order.pk, "number": order.number,
                                                         "store_id": order.store_id, "receipt_no": order.external_ref})
    return order


def _chain(start: int, rows: dict[int, tuple]) -> tuple[list[int], int | None, bool]:
    """Follow ``merged_into`` from ``start`` through ``rows`` ({pk: (is_active, merged_into_id, deleted_at)}):
    (the ids walked, the member the sale belongs to, whether the walk left ``rows``)."""
    walked: list[int] = []
    member_id: int | None = start
    while member_id is not None and member_id not in walked:
        if member_id not in rows:
            return walked, None, True
        walked.append(member_id)
        is_active, merged_into, deleted_at = rows[member_id]
        if deleted_at is not None:
            return walked, None, False
        if merged_into is None:
            return walked, (member_id if is_active else None), False
        member_id = merged_into
    return walked, None, False  # a cycle (cannot happen): anonymous


def _till_member(member_id: int | None) -> int | None:
    """The member a till's sale belongs to, read under lock: the sale already happened, so it is never
    refused for the member's sake; a member merged meanwhile -> the member they were merged into (OneID),
    a member whose data was erased -> no member (the sale stays, anonymous).

    The merge chain is walked without locks, then all its rows are locked at once in id order (the order
    a merge, its undo and an erasure lock members in), and walked again: a chain that changed meanwhile is
    walked again from the start (a deadlock-free ``SELECT ... FOR NO KEY UPDATE``)."""
    if member_id is None:
        return None
    fields = ("pk", "is_active", "merged_into_id", "deleted_at")
    for _ in range(5):
        chain: list[int] = []
        current: int | None = member_id
        gone: int | None = None  # an id of the chain with no row (cannot happen: members are never deleted)
        while current is not None and current not in chain:  # the chain as it is now, no locks
            row = Member.objects.filter(pk=current).values_list("merged_into_id").first()
            if row is None:
                gone = current
                break
            chain.append(current)
            current = row[0]
        locked = {pk: rest for pk, *rest in Member.objects.select_for_update(no_key=True).filter(pk__in=chain)
                  .order_by("pk").values_list(*fields)}
        walked, owner, left = _chain(member_id, locked)
        if not left:
            return owner
        if (locked[walked[-1]][1] if walked else member_id) == gone:
            return None
    raise Conflict("会员合并中，请重试 The member is being merged; send the sale again", code="retry",
                   details={"member_id": member_id})


def _create(location_id: int, receipt: str, lines: list[PosLine], goods: int, paid_fen: int, method: str,
            member_id: int | None, at: datetime, by: By, pos: dict, now: datetime) -> Order:
    discount = goods - paid_fen
    subtotals = [ln.qty * ln.unit_price_fen for ln in lines]
    parts = allocate(discount, subtotals)
    adjustments = ([{"kind": "pos", "label": "门店优惠 discount at the till", "amount_fen": discount,
                     "per_line": list(parts)}] if discount else [])
    for _ in range(3):
        number = numbers.order_number(at)
        if not Order.objects.filter(number=number).exists():
            break
    order = Order.objects.create(
        number=number, member_id=member_id, channel=Channel.POS, choice=FulfilmentChoice.COUNTER,
        status=OrderStatus.PENDING_PAYMENT, store_id=location_id, goods_fen=goods, discount_fen=discount,
        delivery_fee_fen=0, total_fen=paid_fen, external_ref=receipt, created_at=at, updated_at=now,
        placed_by_id=by.user_id,
        pricing={"goods_fen": goods, "discount_fen": discount, "delivery_fee_fen": 0, "total_fen": paid_fen,
                 "adjustments": adjustments, "pos": pos})
    skus = dict(Sku.objects.filter(pk__in=[ln.sku_id for ln in lines]).values_list("pk", "name"))
    list_prices = dict(Sku.objects.filter(pk__in=[ln.sku_id for ln in lines]).values_list("pk", "list_price_fen"))
    OrderLine.objects.bulk_create([
        OrderLine(order=order, sku_id=ln.sku_id, name=skus[ln.sku_id][:200], qty=ln.qty,
                  unit_price_fen=ln.unit_price_fen, list_price_fen=list_prices[ln.sku_id], subtotal_fen=sub,
                  discount_fen=part, payable_fen=sub - part)
        for ln, sub, part in zip(lines, subtotals, parts, strict=True)])
    history.log(order, by=by, kind=EventKind.ORDER, to_status=OrderStatus.PENDING_PAYMENT, at=at,
                reason=f"POS 销售 sale at the till, receipt {receipt}")
    history.emit(order, "order.placed", key=f"order:{order.pk}:placed", total_fen=paid_fen, receipt_no=receipt,
                 store_id=location_id)
    shipment = Shipment.objects.create(
        order=order, location_id=location_id, mode=ShipmentMode.COUNTER, status=ShipmentStatus.PENDING,
        lines=[{"sku_id": ln.sku_id, "qty": ln.qty} for ln in lines], created_at=at, status_changed_at=at)
    provider = PAYMENT_METHODS[method]
    Payment.objects.create(
        order=order, provider=provider, out_trade_no=numbers.out_trade_no(number, 1), amount_fen=paid_fen,
        status=PaymentStatus.PAID, transaction_id="" if provider == Provider.CASH else f"pos:{location_id}:{receipt}",
        client_params={"pos_method": method, "receipt_no": receipt}, created_at=at, expires_at=at, paid_at=at)
    history.order_move(order, S.PAID, by=by, now=at, reason=f"POS 收款 paid at the till ({method})", paid_at=at,
                       paid_fen=paid_fen)
    history.shipment_move(shipment, SS.COMPLETED, by=by, now=at, reason="门店现场交付 handed over at the counter",
                          handed_over_at=at, completed_at=at)
    order.refresh_from_db()
    return order
