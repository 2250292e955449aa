"""Payments: open a payment for an order, read an order's payments and refunds, provider notifications.

* ``POST /payments`` (the order's member; ``Idempotency-Key`` supported): 201 with the client
  parameters for the provider's pay sheet; 200 with the same payment when one of that provider
  is still open (same ``out_trade_no``). A zero-yuan order is paid at once (provider ``cash``).
* ``GET /payments?order_id=``: the order's owner, or staff who may see the order.
* ``POST /payments/refunds/{id}/settle``: staff with ``return.accept`` where the money is paid out
  (the order's store, else the return's location; else HQ) mark a till refund paid out by hand.
* ``POST /payments/notify/{provider}``: the provider's server calls it (no login); the answer is
  the provider's own acknowledgement (status, content type and body).
* ``POST /payments/sandbox/{out_trade_no}/pay`` (sandbox mode only, else 404): the owner (or
  HQ staff) pays in the sandbox; the signed notification the provider would send goes through
  the same path as ``notify``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from o2o.accounts.permissions import actor_of, require
from o2o.common.errors import Forbidden, NotFound
from o2o.core.access import ActorKind, Perm
from o2o.orders import gateways, payment_refunds, payments, selectors
from o2o.orders.api.common import IdemKey, by_of, idempotent, member_of, viewer
from o2o.orders.api.payment_schemas import (
    ErrorOut,
    PaymentIn,
    PaymentListOut,
    PaymentOut,
    RefundOut,
    SandboxPayIn,
    SandboxPayOut,
    SettleIn,
    with_errors,
)
from o2o.orders.models import Order, Payment, Refund

router = Router(tags=["payments"])


@router.post("", response=with_errors({201: PaymentOut, 200: PaymentOut}, 409, 502, 503),
             summary="Open a payment for an order (WeChat Pay or Alipay); reuses an open one of that provider")
def payment_create(request: HttpRequest, body: PaymentIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)
    client_ip = request.META.get("REMOTE_ADDR") or None

    def work() -> tuple[int, dict]:
        payment, created = payments.payment_create(order_id=body.order_id, provider=body.provider,
                                                   member_id=member.pk, payer_id=body.payer_id, client_ip=client_ip)
        out = PaymentOut.model_validate(payments.payment_dict(payment, owner=True)).model_dump(mode="json")
        return (201 if created else 200), out

    return idempotent(request, "payments.create", idempotency_key, body.model_dump(mode="json"), work)


@router.get("", response=with_errors({200: PaymentListOut}),
            summary="An order's payments and refunds (its member, or staff who may see the order)")
def payment_list(request: HttpRequest, order_id: int = Query(..., gt=0, le=2**63 - 1)):
    _, member_id, locations = viewer(request)
    order = selectors.order_get(order_id, member_id=member_id, locations=locations, prefetch=False)
    owner = member_id is not None
    return {"order_id": order.pk, "order_status": order.status, "total_fen": order.total_fen,
            "paid_fen": order.paid_fen, "refunded_fen": order.refunded_fen,
            "payments": [payments.payment_dict(p, owner=owner) for p in Payment.objects.filter(order=order).order_by("pk")],
            "refunds": [payments.refund_dict(r) for r in Refund.objects.filter(order=order).order_by("pk")]}


@router.post("/notify/{provider}", auth=None, response={200: None, 404: ErrorOut},
             summary="Payment notifications from WeChat Pay / Alipay (answered with the provider's own ack)")
def payment_notify(request: HttpRequest, provider: str):
    if provider not in gateways.PROVIDERS:
        raise gateways.unknown_provider(provider)
    status, content_type, ack = payments.notice_receive(provider, dict(request.headers.items()), request.body)
    return HttpResponse(ack, status=status, content_type=content_type)


@router.post("/sandbox/{out_trade_no}/pay", response=with_errors({200: SandboxPayOut}, 409),
             summary="Sandbox only: the buyer pays; the provider's signed notice is processed like a real one")
def sandbox_pay(request: HttpRequest, out_trade_no: str, body: SandboxPayIn | None = None):
    if not gateways.is_sandbox():
        raise NotFound("仅沙箱模式可用 Only in sandbox mode", code="not_sandbox")
    actor, member_id, locations = viewer(request)
    payment = Payment.objects.filter(out_trade_no=out_trade_no[:32]).select_related("order").first()
    if payment is None or payment.provider not in gateways.PROVIDERS or (
            member_id is not None and payment.order.member_id != member_id):
        raise NotFound("支付不存在 Unknown payment", code="unknown_payment", details={"out_trade_no": out_trade_no})
    if actor.kind is ActorKind.STAFF and locations is not None:
        raise Forbidden("仅总部可在沙箱代付 Only HQ staff may pay in the sandbox", details={"out_trade_no": out_trade_no})
    headers, notice_body = gateways.sandbox_pay(payment, amount_fen=body.amount_fen if body else None)
    result = payments.notice_handle(payment.provider, headers, notice_body)
    payment.refresh_from_db()
    order_status = Order.objects.filter(pk=payment.order_id).values_list("status", flat=True).get()
    return {"outcome": result.outcome, "ack_status": result.ack[0], "payment_id": payment.pk,
            "payment_status": payment.status, "order_id": payment.order_id, "order_status": order_status}


@router.post("/refunds/{refund_id}/settle", response=with_errors({200: RefundOut}, 409),
             summary="Mark a refund of till money as paid out by the store's staff")
def refund_settle(request: HttpRequest, refund_id: int, body: SettleIn, idempotency_key: str | None = IdemKey):
    if actor_of(request).kind is ActorKind.MEMBER:  # before the lookup: ids say nothing to members
        raise Forbidden("仅员工可操作 Staff only", code="staff_only")
    refund = Refund.objects.filter(pk=refund_id).first()
    if refund is None:
        raise NotFound("退款不存在 Unknown refund", code="unknown_refund", details={"refund_id": refund_id})
    location = payment_refunds.refund_payout_location_id(refund)
    if location is not None:
        require(request, Perm.RETURN_ACCEPT, location=location)
    else:
        require(request, Perm.RETURN_ACCEPT)  # chain-wide: HQ scope
    by = by_of(request)

    def work() -> tuple[int, dict]:
        settled = payment_refunds.refund_settle_manual(refund_id, by, note=body.note)
        return 200, RefundOut.model_validate(payments.refund_dict(settled)).model_dump(mode="json")

    return idempotent(request, f"payments.refund_settle.{refund_id}", idempotency_key, body.model_dump(mode="json"),
                      work)
