"""Refunds: taken from the order and its paid payments in the caller's transaction, sent after commit.

* :func:`refund_create` is the refunder installed into ``lifecycle`` (cancel, returns): it
  spreads the amount over the order's paid payments, latest first.
* :func:`refund_payment` refunds one payment (a late or duplicate payment, refunded in full).

Both move money with conditional UPDATEs (``refunded_fen = refunded_fen + x WHERE refunded_fen
+ x <= paid``) on the order and on each payment; the CHECK constraints back them. Asking for
more than is left is a 409 ``refund_exceeds_paid`` and changes nothing. Each payment's share
gets a ``Refund`` row (``processing``) whose ``out_refund_no`` is the provider's idempotency
key; the provider is called only after the transaction commits (:func:`refund_send`), so a
rollback can never leave money sent for a refund we do not record. Providers deduplicate by
``out_refund_no``: ``o2o retry-refunds`` re-sends what is still processing or failed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from o2o.adapters.payments import BadSignature, ProviderError
from o2o.common.errors import Conflict
from o2o.orders import gateways, history, numbers
from o2o.orders.actors import By
from o2o.orders.models import EventKind, Order, Payment, PaymentStatus, Provider, Refund, RefundStatus

log = logging.getLogger("o2o.orders.payments")


def _too_much(order: Order, amount_fen: int) -> Conflict:
    fresh = Order.objects.filter(pk=order.pk).values("paid_fen", "refunded_fen").first() or {}
    return Conflict("退款金额超过可退金额 The refund exceeds what is left of the payment", code="refund_exceeds_paid",
                    details={"order_id": order.pk, "amount_fen": amount_fen, "paid_fen": fresh.get("paid_fen"),
                             "refunded_fen": fresh.get("refunded_fen")})


def _order_take(order: Order, amount_fen: int) -> None:
    won = Order.objects.filter(pk=order.pk, refunded_fen__lte=F("paid_fen") - amount_fen).update(
        refunded_fen=F("refunded_fen") + amount_fen)
    if not won:
        raise _too_much(order, amount_fen)


def _payment_take(order: Order, payment: Payment, amount_fen: int, reason: str, by: By,
                  order_return: Any = None) -> Refund:
    won = Payment.objects.filter(pk=payment.pk, status=PaymentStatus.PAID,
                                 refunded_fen__lte=F("amount_fen") - amount_fen).update(
        refunded_fen=F("refunded_fen") + amount_fen)
    if not won:
        raise _too_much(order, amount_fen)
    payment.refunded_fen += amount_fen
    seq = Refund.objects.filter(order=order).count() + 1
    return_id = getattr(order_return, "pk", order_return)
    refund = Refund.objects.create(
        payment=payment, order=order, out_refund_no=numbers.out_refund_no(order.number, seq), amount_fen=amount_fen,
        status=RefundStatus.PROCESSING, reason=reason[:200], order_return_id=return_id, created_by_id=by.user_id)
    if payment.provider == Provider.CASH:
        # Cash and zero-yuan payments: no gateway; the counter pays cash back on the spot.
        Refund.objects.filter(pk=refund.pk).update(status=RefundStatus.SUCCEEDED)
        refund.status = RefundStatus.SUCCEEDED
    else:
        transaction.on_commit(partial(refund_send, refund.pk), robust=True)
    history.log(order, by=by, kind=EventKind.NOTE,
                reason=f"退款 refund {amount_fen} fen ({payment.provider} {refund.out_refund_no}): {reason}")
    history.emit(order, "order.refund_created", key=f"refund:{refund.out_refund_no}", refund_id=refund.pk,
                 payment_id=payment.pk, amount_fen=amount_fen, provider=payment.provider)
    return refund


def refund_create(order: Order, amount_fen: int, reason: str, by: By, order_return: Any = None) -> list[Refund]:
    """Refund ``amount_fen`` of the order's payments, latest first (caller's transaction, order locked)."""
    assert transaction.get_connection().in_atomic_block, "refund_create needs the caller's transaction"
    if amount_fen <= 0:
        return []
    refunds: list[Refund] = []
    with transaction.atomic():  # a savepoint: a 409 half-way leaves nothing behind
        _order_take(order, amount_fen)
        remaining = amount_fen
        paid = (Payment.objects.filter(order=order, status=PaymentStatus.PAID, refunded_fen__lt=F("amount_fen"))
                .order_by("-paid_at", "-pk"))
        for payment in paid:
            take = min(remaining, payment.amount_fen - payment.refunded_fen)
            refunds.append(_payment_take(order, payment, take, reason, by, order_return))
            remaining -= take
            if not remaining:
                break
        if remaining:
            raise _too_much(order, amount_fen)
    order.refresh_from_db(fields=["refunded_fen", "paid_fen"])
    return refunds


def refund_payment(order: Order, payment: Payment, amount_fen: int, reason: str, by: By) -> Refund:
    """Refund one payment (caller's transaction, order locked): late and duplicate payments."""
    assert transaction.get_connection().in_atomic_block, "refund_payment needs the caller's transaction"
    with transaction.atomic():
        _order_take(order, amount_fen)
        refund = _payment_take(order, payment, amount_fen, reason, by)
    order.refresh_from_db(fields=["refunded_fen", "paid_fen"])
    return refund


def refund_send(refund_id: int) -> str:
    """Ask the provider to pay ``refund_id`` out (after commit, or again from ``retry-refunds``).

    Safe to repeat: the provider deduplicates by ``out_refund_no``. A verified refusal marks the
    refund ``failed``; an unknown outcome (network, unsigned answer) leaves it ``processing``.
    Returns the refund's new status.
    """
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.status == RefundStatus.SUCCEEDED:
        return refund.status if refund else ""
    payment = refund.payment
    status, refund_no, raw = RefundStatus.PROCESSING, "", {}
    if payment.provider == Provider.CASH:
        status = RefundStatus.SUCCEEDED
    else:
        try:
            gateway = gateways.payment_gateway(payment.provider)
            gateways.sandbox_sync(payment)
            result = gateway.refund(out_trade_no=payment.out_trade_no, out_refund_no=refund.out_refund_no,
                                    amount_fen=refund.amount_fen, total_fen=payment.amount_fen,
                                    reason=refund.reason[:80])
            status, refund_no, raw = RefundStatus(result.status), result.refund_id[:64], result.raw
        except ProviderError as exc:
            status = RefundStatus.FAILED if exc.verified else RefundStatus.PROCESSING
            raw = {"error": exc.code, "message": exc.message[:500], "verified": exc.verified}
            log.warning("refund %s: provider error %s (%s)", refund.out_refund_no, exc.code, exc.message)
        except (BadSignature, ValueError) as exc:
            raw = {"error": type(exc).__name__, "message": str(exc)[:500]}
            log.warning("refund %s: %s", refund.out_refund_no, exc)
        except Exception as exc:  # noqa: BLE001 - after commit: never lose the refund, retry later
            raw = {"error": type(exc).__name__, "message": str(exc)[:500]}
            log.exception("refund %s could not be sent", refund.out_refund_no)
    fields: dict[str, Any] = {"status": status.value, "raw": raw}
    if refund_no:
        fields["refund_id"] = refund_no
    Refund.objects.filter(pk=refund.pk).exclude(status=RefundStatus.SUCCEEDED).update(**fields)
    return status.value


def refunds_retry(*, min_age_s: int = 60, limit: int = 500, now: datetime | None = None) -> dict[str, int]:
    """Re-send refunds still processing or failed (older than ``min_age_s``); counts by new status."""
    now = now or timezone.now()
    due = (Refund.objects.filter(status__in=[RefundStatus.PROCESSING, RefundStatus.FAILED],
                                 created_at__lte=now - timedelta(seconds=min_age_s))
           .order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    counts: dict[str, int] = {}
    for pk in list(due):
        status = refund_send(pk)
        counts[status] = counts.get(status, 0) + 1
    return counts
