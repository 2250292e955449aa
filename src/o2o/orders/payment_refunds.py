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

Money taken at a till (:func:`paid_at_till`: ``cash``, which covers cash, card and zero-yuan
payments, and POS wallet payments, ``client_params.pos_method`` wechat/alipay, whose trade the
online gateway never saw) never goes to a gateway. Its refund is ``succeeded`` at once only
when the money is handed back at a counter: the refund belongs to a return made at a store
(``ReturnMethod.STORE``, ``return_at_store``) or the payment was zero. Otherwise (a courier
return of a till purchase, any other refund of it) it stays ``processing``, marked as a manual
payout at the store (``raw["manual"]``); ``retry-refunds`` skips it and the staff who pay it
out record that with :func:`refund_settle_manual`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from o2o.adapters.payments import BadSignature, ProviderError
from o2o.common.errors import Conflict, NotFound
from o2o.orders import gateways, history, numbers
from o2o.orders.actors import By
from o2o.orders.locks import lock_order
from o2o.orders.models import (
    EventKind,
    Order,
    Payment,
    PaymentStatus,
    Provider,
    Refund,
    RefundStatus,
    Return,
    ReturnMethod,
)

log = logging.getLogger("o2o.orders.payments")

MANUAL_NOTE = "门店人工退款 manual payout at the store"


def paid_at_till(payment: Payment) -> bool:
    """Money no online gateway can give back: cash/card/zero-yuan (``cash``) or anything paid at a POS
    till (``client_params.pos_method``, recorded by ``pos_orders``: a wechat/alipay wallet there too)."""
    return payment.provider == Provider.CASH or "pos_method" in (payment.client_params or {})


# The same rule as a filter on refunds (``retry-refunds`` must never send these to a gateway). has_key
# is true or false, never NULL, so the NOT of ``exclude`` keeps every gateway refund.
TILL_REFUND = Q(payment__provider=Provider.CASH) | Q(payment__client_params__has_key="pos_method")


def _at_counter(order_return: Any) -> bool:
    """The refund belongs to a return made at a store counter (the customer is there to take the money)."""
    if order_return is None:
        return False
    method = getattr(order_return, "method", None)
    if method is None:
        return_id = getattr(order_return, "pk", order_return)
        method = Return.objects.filter(pk=return_id).values_list("method", flat=True).first()
    return method == ReturnMethod.STORE


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
    till = paid_at_till(payment)
    at_counter = till and (payment.amount_fen == 0 or _at_counter(order_return))
    manual = till and not at_counter
    how = (payment.client_params or {}).get("pos_method") or payment.provider
    if manual:  # nobody is at a counter: a person pays it out (refund_settle_manual); no gateway knows the trade
        status, raw, note = (RefundStatus.PROCESSING, {"manual": True, "note": MANUAL_NOTE},
                             f"待门店人工退款 awaiting a manual payout at the store, {how}")
    elif at_counter:  # handed back at the counter: cash, or the till's own card/wallet terminal
        status, raw, note = RefundStatus.SUCCEEDED, {"at_counter": True}, f"门店柜台已退 paid back at the counter, {how}"
    else:
        status, raw, note = RefundStatus.PROCESSING, {}, payment.provider
    refund = Refund.objects.create(
        payment=payment, order=order, out_refund_no=numbers.out_refund_no(order.number, seq), amount_fen=amount_fen,
        status=status, reason=(f"{MANUAL_NOTE}: {reason}" if manual else reason)[:200], order_return_id=return_id,
        created_by_id=by.user_id, raw=raw)
    if not till:
        transaction.on_commit(partial(refund_send, refund.pk), robust=True)
    history.log(order, by=by, kind=EventKind.NOTE,
                reason=f"退款 refund {amount_fen} fen ({note}, {refund.out_refund_no}): {reason}")
    history.emit(order, "order.refund_created", key=f"refund:{refund.out_refund_no}", refund_id=refund.pk,
                 payment_id=payment.pk, amount_fen=amount_fen, provider=payment.provider, status=refund.status,
                 manual=manual)
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
    if paid_at_till(payment):  # never a gateway's: settled at the counter or by refund_settle_manual
        return refund.status
    status, refund_no, raw = RefundStatus.PROCESSING, "", {}
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
    """Re-send refunds still processing or failed (older than ``min_age_s``); counts by new status.

    Refunds of money taken at a till are skipped: staff settle them (:func:`refund_settle_manual`)."""
    now = now or timezone.now()
    due = (Refund.objects.filter(status__in=[RefundStatus.PROCESSING, RefundStatus.FAILED],
                                 created_at__lte=now - timedelta(seconds=min_age_s))
           .exclude(TILL_REFUND)  # a till's money goes back by hand (refund_settle_manual), never by a gateway
           .order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    counts: dict[str, int] = {}
    for pk in list(due):
        status = refund_send(pk)
        counts[status] = counts.get(status, 0) + 1
    return counts


# --- manual payouts --------------------------------------------------------------------------


def refund_payout_location_id(refund: Refund) -> int | None:
    """Where a manual refund is paid out: the order's store (a POS order's till store, whose terminal
    alone can refund a wallet payment taken there; an online order's pickup store), else the return's
    location; None: no store (HQ staff decide)."""
    store_id = Order.objects.filter(pk=refund.order_id).values_list("store_id", flat=True).first()
    if store_id is not None:
        return store_id
    if refund.order_return_id is not None:
        return Return.objects.filter(pk=refund.order_return_id).values_list("location_id", flat=True).first()
    return None


def refund_settle_manual(refund_id: int, by: By, *, note: str = "", now: datetime | None = None) -> Refund:
    """Staff paid a till refund out by hand (cash, or the till's card/wallet terminal): ``succeeded``, once.

    404 ``unknown_refund``; 409 ``refund_not_manual`` for a gateway refund (``retry-refunds``
    sends those); 409 ``refund_already_settled`` when it already succeeded (a conditional UPDATE
    decides between two clerks). The order row lock is taken first. Access (who may settle it,
    e.g. ``return.accept`` at :func:`refund_payout_location_id`) is the caller's to check.
    """
    now = now or timezone.now()
    order_id = Refund.objects.filter(pk=refund_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("退款不存在 Unknown refund", code="unknown_refund", details={"refund_id": refund_id})
    with transaction.atomic():
        order = lock_order(order_id)
        refund = Refund.objects.select_related("payment").get(pk=refund_id)
        if not paid_at_till(refund.payment):
            raise Conflict("该退款由支付渠道退回，无需人工处理 This refund goes back through the payment provider",
                           code="refund_not_manual",
                           details={"refund_id": refund.pk, "provider": refund.payment.provider,
                                    "status": refund.status})
        raw = {**(refund.raw or {}), "manual": True, "settled_at": timezone.localtime(now).isoformat(),
               "settled_by": by.label, "settled_by_user_id": by.user_id, "settle_note": note[:200]}
        won = Refund.objects.filter(pk=refund.pk, status__in=[RefundStatus.PROCESSING, RefundStatus.FAILED]).update(
            status=RefundStatus.SUCCEEDED, raw=raw)
        if not won:
            raise Conflict("该退款已完成 The refund was already paid out", code="refund_already_settled",
                           details={"refund_id": refund.pk, "status": refund.status,
                                    "settled_at": (refund.raw or {}).get("settled_at")})
        history.log(order, by=by, kind=EventKind.NOTE, at=now,
                    reason=f"门店已人工退款 paid out by hand: {refund.amount_fen} fen ({refund.out_refund_no})"
                           + (f": {note}" if note else ""))
        history.emit(order, "order.refund_settled", key=f"refund:{refund.out_refund_no}:settled",
                     refund_id=refund.pk, payment_id=refund.payment_id, amount_fen=refund.amount_fen, manual=True)
        refund.refresh_from_db()
        return refund
