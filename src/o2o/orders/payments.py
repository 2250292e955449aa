"""Payments of online orders: create through a gateway, notices, refunds, reconciliation.

* :func:`payment_create`: the owner pays a ``pending_payment`` order before its deadline. An
  open payment of the same provider is reused (same ``out_trade_no``, same client parameters);
  another provider gets the next attempt number (``numbers.out_trade_no``). The amount is the
  order's ``total_fen``. A zero-yuan order is paid at once, without a gateway, by a ``cash``
  payment of 0 fen (whatever provider was asked for).
* Notices: :mod:`o2o.orders.payment_notices` (``notice_receive``, re-exported here).
* Refunds: :mod:`o2o.orders.payment_refunds` (``refund_create`` is installed into
  ``lifecycle`` by :func:`install`).
* :func:`payments_reconcile` (``o2o reconcile-payments``): asks the provider about unpaid
  payments whose order's deadline has passed; a paid one is applied like a notice (a late
  payment is refunded), the others are closed at the provider and here.

The gateway call that creates a trade runs inside the transaction that holds the order's row
lock: two concurrent requests cannot create two trades, and a failure rolls the Payment row
back (the provider may keep an unpaid trade nobody was shown; it expires at the deadline).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from o2o.adapters.payments import BadSignature, ProviderError
from o2o.adapters.payments import PaymentNotice as Notice
from o2o.common.errors import ApiError, Conflict, InvalidInput, NotFound
from o2o.core.orders import OrderStatus as S
from o2o.orders import gateways, lifecycle, numbers
from o2o.orders.actors import system
from o2o.orders.locks import lock_order
from o2o.orders.models import NoticeOutcome, Order, Payment, PaymentNotice, PaymentStatus, Provider, Refund
from o2o.orders.payment_notices import NoticeResult, notice_apply, notice_handle, notice_receive
from o2o.orders.payment_refunds import refund_create, refund_payment, refund_send, refunds_retry

__all__ = [
    "NoticeResult", "install", "notice_apply", "notice_handle", "notice_receive", "payment_create", "payment_dict",
    "payments_reconcile", "refund_create", "refund_dict", "refund_payment", "refund_send", "refunds_retry",
]

log = logging.getLogger("o2o.orders.payments")
MAX_ATTEMPTS = 99  # two digits in out_trade_no


def install() -> None:
    """Wire the refund hook into ``lifecycle`` (called by ``OrdersConfig.ready``)."""
    lifecycle.set_refunder(refund_create)


class ProviderUnavailable(ApiError):
    status = 502
    code = "payment_provider_error"


def _local(at: datetime | None) -> datetime | None:
    return timezone.localtime(at) if at is not None else None


def payment_dict(p: Payment, *, owner: bool = True) -> dict[str, Any]:
    """A payment as the API shows it; the signed client parameters only to the order's owner."""
    return {"id": p.pk, "order_id": p.order_id, "provider": p.provider, "out_trade_no": p.out_trade_no,
            "amount_fen": p.amount_fen, "status": p.status, "refunded_fen": p.refunded_fen,
            "transaction_id": p.transaction_id, "client_params": p.client_params if owner else {},
            "created_at": _local(p.created_at), "expires_at": _local(p.expires_at), "paid_at": _local(p.paid_at)}


def refund_dict(r: Refund) -> dict[str, Any]:
    return {"id": r.pk, "payment_id": r.payment_id, "out_refund_no": r.out_refund_no, "amount_fen": r.amount_fen,
            "status": r.status, "reason": r.reason, "order_return_id": r.order_return_id,
            "created_at": _local(r.created_at), "manual": bool((r.raw or {}).get("manual"))}


def _not_payable(order: Order, code: str, message: str) -> Conflict:
    return Conflict(message, code=code, details={"order_id": order.pk, "status": order.status,
                                                 "payment_deadline": (_local(order.payment_deadline).isoformat()
                                                                     if order.payment_deadline else None)})


def payment_create(*, order_id: int, provider: str, member_id: int, payer_id: str | None = None,
                   client_ip: str | None = None, now: datetime | None = None) -> tuple[Payment, bool]:
    """(payment, created): open a payment of ``order_id`` for its owner ``member_id``.

    404 for someone else's order, 409 ``order_not_payable`` / ``payment_deadline_passed``,
    422 when the provider needs what was not given (WeChat: ``payer_id`` or a client IP),
    502 when the provider refuses or cannot be reached (nothing is kept).
    """
    if provider not in gateways.PROVIDERS:
        raise InvalidInput("不支持的支付方式 Unsupported payment provider", code="invalid_provider",
                           details={"provider": provider, "allowed": list(gateways.PROVIDERS)})
    now = now or timezone.now()
    with transaction.atomic():
        order = lock_order(order_id)
        if order.member_id is None or order.member_id != member_id:
            raise NotFound("订单不存在 Unknown order", code="unknown_order", details={"order_id": order_id})
        if order.status != S.PENDING_PAYMENT:
            raise _not_payable(order, "order_not_payable", "订单不是待支付状态 The order is not awaiting payment")
        if order.payment_deadline is None or order.payment_deadline <= now:
            raise _not_payable(order, "payment_deadline_passed", "已超过支付期限 The payment deadline has passed")
        if order.total_fen == 0:
            return _pay_zero(order, now), True
        payment = (Payment.objects.filter(order=order, provider=provider, status=PaymentStatus.CREATED)
                   .order_by("-pk").first())
        created = payment is None
        if payment is None:
            attempt = Payment.objects.filter(order=order).count() + 1
            if attempt > MAX_ATTEMPTS:
                raise _not_payable(order, "too_many_payment_attempts", "支付尝试次数过多 Too many payment attempts")
            payment = Payment.objects.create(order=order, provider=provider, amount_fen=order.total_fen,
                                             out_trade_no=numbers.out_trade_no(order.number, attempt),
                                             expires_at=order.payment_deadline, created_at=now)
        if not payment.client_params:
            payment.client_params = _open_trade(order, payment, payer_id=payer_id, client_ip=client_ip)
            Payment.objects.filter(pk=payment.pk).update(client_params=payment.client_params)
        return payment, created


def _open_trade(order: Order, payment: Payment, *, payer_id: str | None, client_ip: str | None) -> dict[str, Any]:
    gateway = gateways.payment_gateway(payment.provider)
    kw: dict[str, Any] = {"payer_id": payer_id or None}
    if payment.provider == Provider.WECHAT:
        kw["client_ip"] = client_ip or None
    try:
        request = gateway.create_payment(out_trade_no=payment.out_trade_no, amount_fen=payment.amount_fen,
                                         description=f"o2o 订单 {order.number}",
                                         notify_url=gateways.notify_url(payment.provider),
                                         expires_at=payment.expires_at, **kw)
    except ValueError as exc:
        raise InvalidInput(f"支付参数不足 Missing payment parameters: {exc}", code="invalid_payment_request",
                           details={"provider": payment.provider}) from None
    except (ProviderError, BadSignature) as exc:
        log.warning("%s create_payment %s failed: %s", payment.provider, payment.out_trade_no, exc.message)
        raise ProviderUnavailable("支付渠道暂不可用，请稍后重试 The payment provider failed; try again",
                                  details={"provider": payment.provider, "provider_code": exc.code}) from None
    return dict(request.client_params)


def _pay_zero(order: Order, now: datetime) -> Payment:
    """A zero-yuan order needs no gateway: a 0-fen ``cash`` payment, paid on the spot."""
    attempt = Payment.objects.filter(order=order).count() + 1
    payment = Payment.objects.create(order=order, provider=Provider.CASH, amount_fen=0,
                                     out_trade_no=numbers.out_trade_no(order.number, attempt),
                                     status=PaymentStatus.PAID, expires_at=order.payment_deadline or now,
                                     created_at=now, paid_at=now)
    lifecycle.order_paid(order, amount_fen=0, by=system("payment:zero"), now=now)
    return payment


# --- reconciliation ---------------------------------------------------------------------------


def _closed_here(provider: str, out_trade_no: str) -> Notice:
    return Notice(gateways.ADAPTER[provider], f"reconcile:closed:{out_trade_no}", out_trade_no, "", 0, "closed",
                  None, {"source": "reconcile"})


def payments_reconcile(*, now: datetime | None = None, grace_s: int = 300, lookback_s: int = 7 * 86400,
                       limit: int = 500) -> dict[str, int]:
    """Settle unpaid gateway payments whose order's deadline passed (``grace_s`` ago, within ``lookback_s``).

    Each is queried: paid -> applied like a notice (a late payment is refunded at once);
    otherwise closed at the provider (so it can no longer be paid) and here, recorded as a
    ``closed`` notice (which also marks it settled). Provider errors are counted and retried
    on the next run. Returns counts by outcome.
    """
    now = now or timezone.now()
    settled = PaymentNotice.objects.filter(provider=OuterRef("provider"), out_trade_no=OuterRef("out_trade_no"),
                                           outcome=NoticeOutcome.CLOSED)
    due = (Payment.objects.filter(provider__in=gateways.PROVIDERS, transaction_id="",
                                  status__in=[PaymentStatus.CREATED, PaymentStatus.CLOSED],
                                  order__payment_deadline__lte=now - timedelta(seconds=grace_s),
                                  order__payment_deadline__gte=now - timedelta(seconds=lookback_s))
           .exclude(Exists(settled)).order_by("pk")[:limit])
    counts: dict[str, int] = {}
    for payment in list(due):
        outcome = _reconcile_one(payment, now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _reconcile_one(payment: Payment, now: datetime) -> str:
    gateway = gateways.payment_gateway(payment.provider)
    gateways.sandbox_sync(payment)
    try:
        notice = gateway.query(out_trade_no=payment.out_trade_no)
        if notice is not None and notice.status == "paid":
            return notice_apply(payment.provider, notice, now=now).outcome
        if notice is None:
            _close_at_provider(gateway, payment)
            notice = _closed_here(payment.provider, payment.out_trade_no)
        return notice_apply(payment.provider, notice, now=now).outcome
    except (ProviderError, BadSignature) as exc:
        log.warning("reconcile %s %s: %s", payment.provider, payment.out_trade_no, exc.message)
        return "error"


def _close_at_provider(gateway: Any, payment: Payment) -> None:
    close = getattr(gateway, "close", None)
    if close is None:
        return
    try:
        close(out_trade_no=payment.out_trade_no)
    except ProviderError as exc:
        if not (exc.verified and exc.code in ("ORDER_NOT_EXIST", "ACQ.TRADE_NOT_EXIST")):
            raise
