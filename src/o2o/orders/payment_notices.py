"""Payment notifications: verify, then apply in one transaction; safe twice, concurrently, or late.

``notice_receive(provider, headers, body)`` answers with the provider's acknowledgement:

* not provably from the provider (:class:`BadSignature`) or unreadable (:class:`MalformedNotice`):
  a ``rejected`` PaymentNotice row, a failure ack, nothing else changes;
* authentic but nothing to act on (:class:`IgnorableNotice`, e.g. Alipay ``WAIT_BUYER_PAY``):
  a success ack (recorded as ``ignored``) so the provider stops retrying;
* otherwise one transaction: order row lock first, then the payment row, then
  :func:`apply_locked`. The partial UNIQUE index on ``(provider, notify_id)`` for applied
  outcomes is the backstop: a second delivery that slipped past the checks rolls back.

Money is never kept for an order we will not fill: a payment for an expired or cancelled order,
or a second payment for an order already paid, is taken in and refunded in full
(``late_refunded``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from o2o.adapters.payments import BadSignature, IgnorableNotice, MalformedNotice
from o2o.adapters.payments import PaymentNotice as Notice
from o2o.common.errors import ApiError
from o2o.core.orders import OrderStatus as S
from o2o.orders import gateways, history, lifecycle
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import EventKind, NoticeOutcome, Order, Payment, PaymentNotice, PaymentStatus
from o2o.orders.payment_refunds import refund_payment

log = logging.getLogger("o2o.orders.payments")

APPLIED_ONCE = (NoticeOutcome.APPLIED, NoticeOutcome.LATE_REFUNDED, NoticeOutcome.CLOSED)
_FAILS = (NoticeOutcome.AMOUNT_MISMATCH, NoticeOutcome.UNKNOWN_PAYMENT, NoticeOutcome.REJECTED)
_RAW_HEADERS = ("content-type", "wechatpay-timestamp", "wechatpay-nonce", "wechatpay-serial",
                "wechatpay-signature-type")


@dataclass(frozen=True)
class NoticeResult:
    outcome: str
    ack: tuple[int, str, bytes]
    detail: str = ""
    payment_id: int | None = None
    order_id: int | None = None


def _record(provider: str, outcome: str, detail: str, *, notify_id: str = "", out_trade_no: str = "",
            raw: dict[str, Any] | None = None, now: datetime | None = None) -> PaymentNotice:
    return PaymentNotice.objects.create(provider=provider, notify_id=notify_id[:64], out_trade_no=out_trade_no[:32],
                                        outcome=outcome, detail=detail[:200], raw=raw or {},
                                        received_at=now or timezone.now())


def _raw_request(headers: Any, body: bytes) -> dict[str, Any]:
    kept = {k: v for k, v in dict(headers).items() if isinstance(k, str) and k.lower() in _RAW_HEADERS}
    return {"headers": kept, "body": bytes(body[:8000]).decode("utf-8", "replace")}


def notice_receive(provider: str, headers: Any, body: bytes) -> tuple[int, str, bytes]:
    """Handle a notification as POSTed by the provider; returns its ack ``(status, content_type, body)``."""
    return notice_handle(provider, headers, body).ack


def notice_handle(provider: str, headers: Any, body: bytes, *, now: datetime | None = None) -> NoticeResult:
    gateway = gateways.payment_gateway(provider)  # 404 for an unknown provider
    now = now or timezone.now()
    try:
        notice = gateway.parse_notice(headers, body, now=now)
    except IgnorableNotice as exc:
        _record(provider, NoticeOutcome.IGNORED, exc.message, raw=_raw_request(headers, body), now=now)
        return NoticeResult(NoticeOutcome.DUPLICATE, gateway.notice_ack(True), detail=exc.message)
    except (BadSignature, MalformedNotice) as exc:
        log.warning("%s notice rejected: %s", provider, exc.message)
        _record(provider, NoticeOutcome.REJECTED, f"{exc.code}: {exc.message}", raw=_raw_request(headers, body),
                now=now)
        return NoticeResult(NoticeOutcome.REJECTED, gateway.notice_ack(False), detail=exc.message)
    return notice_apply(provider, notice, now=now)


def notice_apply(provider: str, notice: Notice, *, now: datetime | None = None) -> NoticeResult:
    """Apply a verified notice (from a notification or a reconciliation query)."""
    gateway = gateways.payment_gateway(provider)
    now = now or timezone.now()
    ids = {"notify_id": notice.notify_id, "out_trade_no": notice.out_trade_no, "now": now}
    raw = {"transaction_id": notice.transaction_id, "amount_fen": notice.amount_fen, "status": notice.status,
           "provider_data": notice.raw}
    row = Payment.objects.filter(provider=provider, out_trade_no=notice.out_trade_no).values_list(
        "pk", "order_id").first()
    if row is None:
        log.error("%s notice for unknown out_trade_no %s", provider, notice.out_trade_no)
        _record(provider, NoticeOutcome.UNKNOWN_PAYMENT, "无此支付 no such payment", raw=raw, **ids)
        return NoticeResult(NoticeOutcome.UNKNOWN_PAYMENT, gateway.notice_ack(False))
    payment_id, order_id = row
    try:
        with transaction.atomic():
            order = lock_order(order_id)
            payment = _lock_payment(payment_id)
            outcome, detail = apply_locked(order, payment, notice, provider=provider, now=now)
            _record(provider, outcome, detail, raw=raw, **ids)
    except (ApiError, DatabaseError) as exc:
        if isinstance(exc, IntegrityError) and PaymentNotice.objects.filter(
                provider=provider, notify_id=notice.notify_id[:64], outcome__in=APPLIED_ONCE).exists():
            # The applied-once index: a concurrent delivery of this notify id won.
            outcome, detail = NoticeOutcome.DUPLICATE, "已由并发通知处理 applied by a concurrent delivery"
            _record(provider, outcome, detail, raw=raw, **ids)
            return NoticeResult(outcome, gateway.notice_ack(True), detail=detail, payment_id=payment_id,
                                order_id=order_id)
        log.exception("%s notice %s could not be applied", provider, notice.notify_id)
        _record(provider, NoticeOutcome.REJECTED, f"处理失败 could not apply: {exc}", raw=raw, **ids)
        return NoticeResult(NoticeOutcome.REJECTED, gateway.notice_ack(False), payment_id=payment_id,
                            order_id=order_id)
    return NoticeResult(outcome, gateway.notice_ack(outcome not in _FAILS), detail=detail, payment_id=payment_id,
                        order_id=order_id)


def _lock_payment(payment_id: int) -> Payment:
    qs = Payment.objects.filter(pk=payment_id)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",), no_key=True)
    return qs.get()


def apply_locked(order: Order, payment: Payment, notice: Notice, *, provider: str,
                 now: datetime) -> tuple[str, str]:
    """The decision, with the order and the payment rows locked: (outcome, detail)."""
    if notice.notify_id and PaymentNotice.objects.filter(provider=provider, notify_id=notice.notify_id[:64],
                                                         outcome__in=APPLIED_ONCE).exists():
        return NoticeOutcome.DUPLICATE, "通知已处理 notice already applied"
    if notice.status == "closed":
        if payment.status == PaymentStatus.PAID:
            return NoticeOutcome.DUPLICATE, "已支付，忽略关闭 paid; closed notice ignored"
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(status=PaymentStatus.CLOSED)
        return NoticeOutcome.CLOSED, "交易已关闭 trade closed at the provider"
    if notice.amount_fen != payment.amount_fen:
        log.error("%s notice for %s: amount %s fen, expected %s", provider, payment.out_trade_no, notice.amount_fen,
                  payment.amount_fen)
        return NoticeOutcome.AMOUNT_MISMATCH, f"金额不符 notice {notice.amount_fen} fen, payment {payment.amount_fen} fen"
    if payment.status == PaymentStatus.PAID:
        if payment.transaction_id == notice.transaction_id[:64]:
            return NoticeOutcome.DUPLICATE, "重复通知 already applied"
        log.error("%s: payment %s paid by %s, notice says %s", provider, payment.out_trade_no, payment.transaction_id,
                  notice.transaction_id)
        return NoticeOutcome.UNKNOWN_PAYMENT, f"另一笔交易 another transaction {notice.transaction_id[:40]}"
    paid_at = notice.paid_at or now
    won = Payment.objects.filter(pk=payment.pk, status__in=[PaymentStatus.CREATED, PaymentStatus.CLOSED]).update(
        status=PaymentStatus.PAID, transaction_id=notice.transaction_id[:64], paid_at=paid_at)
    if not won:
        return NoticeOutcome.DUPLICATE, "已由并发通知处理 applied meanwhile"
    payment.status, payment.transaction_id, payment.paid_at = PaymentStatus.PAID, notice.transaction_id[:64], paid_at
    by = system(f"payment:{provider}")
    if order.status == S.PENDING_PAYMENT:
        lifecycle.order_paid(order, amount_fen=payment.amount_fen, by=by, now=now)
        return NoticeOutcome.APPLIED, f"已入账 paid {payment.amount_fen} fen"
    # The order expired or was cancelled, or another payment paid it already: give the money back.
    Order.objects.filter(pk=order.pk).update(paid_fen=F("paid_fen") + payment.amount_fen)
    order.refresh_from_db(fields=["paid_fen", "refunded_fen"])
    why = (f"迟到付款，订单已{order.status} late payment for a {order.status} order"
           if order.status in (S.CANCELLED, S.EXPIRED) else "重复付款 duplicate payment of a paid order")
    if payment.amount_fen > 0:
        refund_payment(order, payment, payment.amount_fen, f"{why}: 全额退款 refunded in full", by)
    history.log(order, by=by, kind=EventKind.NOTE, reason=f"{why} ({payment.out_trade_no}): 自动全额退款 auto refund")
    return NoticeOutcome.LATE_REFUNDED, why
