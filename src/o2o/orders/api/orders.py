"""The order center: place an order, list and read orders, cancel, and an order's history.

* ``POST /orders`` (members): ``Idempotency-Key`` with Stripe's semantics (same key + same
  body = the first response; same key + another body = 409; kept 24 h).
* ``GET /orders``: a member's own orders (every channel, POS included); store and region
  staff: their locations' orders; HQ: all. Filters: status, channel, store, date range.
* ``GET /orders/{id}``: as ``selectors`` says (404 for another member's id, 403 for another
  store's order).
* ``POST /orders/{id}/cancel``: the member (before picking) or staff with ``order.cancel``
  at one of the order's stores; refunds what was paid.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router

from o2o.accounts.permissions import actor_of, require
from o2o.common.errors import ApiError, Forbidden, InvalidInput
from o2o.core.access import ActorKind, Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.orders import carts, lifecycle, payments, selectors
from o2o.orders.api.common import IdemKey, Status, by_of, idempotent, member_of, viewer
from o2o.orders.api.payment_schemas import PaymentOut
from o2o.orders.api.schemas import (
    CancelIn,
    HistoryEventOut,
    OrderIn,
    OrderOut,
    OrderPageOut,
    with_errors,
)
from o2o.orders.models import Order, Shipment
from o2o.orders.pickup_qr import qr_payload
from o2o.orders.placement import PlaceRequest, order_place

router = Router(tags=["orders"])


def order_body(order: Order, *, member_id: int | None, locations: list[int] | None) -> dict:
    fresh = selectors.order_get(order.pk, member_id=member_id, locations=locations)
    return OrderOut.model_validate(selectors.order_dict(
        fresh, locations=locations, owner=member_id is not None and fresh.member_id == member_id,
        qr_for=qr_payload)).model_dump(mode="json")


@router.post("", response=with_errors({201: OrderOut}, 409),
             summary="Place an order: price, route and reserve in one transaction, or nothing")
def order_create(request: HttpRequest, body: OrderIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)
    by = by_of(request)
    client_ip = request.META.get("REMOTE_ADDR") or None

    def work() -> tuple[int, dict]:
        cart_id = None
        if body.lines:
            lines = [(ln.sku_id, ln.qty) for ln in body.lines]
        else:
            cart = carts.cart_for_member(member)
            cart_id, lines = cart.pk, carts.cart_lines(cart)
            if not lines:
                raise InvalidInput("购物车为空 The basket is empty", code="empty_basket", details={"lines": []})
        req = PlaceRequest(lines=lines, channel=body.channel, choice=body.choice, lat=body.lat, lng=body.lng,
                           coord=body.coord, pickup_location_id=body.pickup_location_id,
                           price_location_id=body.price_location_id, address=body.address,
                           contact_name=body.contact_name, contact_phone=body.contact_phone,
                           utm={"source": body.utm_source, "medium": body.utm_medium, "campaign": body.utm_campaign},
                           expected_total_fen=body.expected_total_fen, cart_id=cart_id,
                           coupon_ids=tuple(body.coupon_ids), points=body.points)
        order = order_place(req=req, member=member, by=by)
        return 201, order_body(order, member_id=member.pk, locations=None)

    actor = actor_of(request)
    placed = run_idempotent(operation=f"orders.place:{actor.kind.value}:{actor.id}"[:64], key=idempotency_key,
                            payload=body.model_dump(mode="json"), work=work)
    if body.pay_with is None or placed.status != 201:
        return Status(placed.status, placed.body)
    # One call for a mini-program checkout: the order has committed (its stock rows are no longer
    # locked while the provider answers); the payment opens in its own transaction. A retry with the
    # same key replays the order and reuses the open payment. If the provider fails, the order
    # stands and the answer says why (the client then calls POST /payments).
    order_id = placed.body["id"]
    extra: dict = {"payment": None, "payment_error": None}
    try:
        payment, _ = payments.payment_create(order_id=order_id, provider=body.pay_with, member_id=member.pk,
                                             payer_id=body.payer_id, client_ip=client_ip)
        extra["payment"] = PaymentOut.model_validate(payments.payment_dict(payment, owner=True)).model_dump(
            mode="json")
    except ApiError as exc:
        extra["payment_error"] = {**exc.as_dict(), "status": exc.status}
    fresh = Order.objects.get(pk=order_id)  # a zero-yuan order is paid at once: answer it as it is now
    return Status(201, {**order_body(fresh, member_id=member.pk, locations=None), **extra})


@router.get("", response=with_errors({200: OrderPageOut}), summary="The order center: orders the caller may see")
def order_list(request: HttpRequest, status: str | None = None, channel: str | None = None,
               store_id: int | None = Query(None, gt=0, le=2**63 - 1), since: datetime | None = None,
               until: datetime | None = None, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)):
    _, member_id, locations = viewer(request)
    if store_id is not None and locations is not None and store_id not in locations:
        raise Forbidden("无权查看该门店订单 Not your store", details={"store_id": store_id})
    qs = selectors.order_list(member_id=member_id, locations=locations, status=status, channel=channel,
                              store_id=store_id, since=since, until=until)
    items = list(qs[offset:offset + limit])
    return {"count": qs.count(), "items": items}


@router.get("/{order_id}", response=with_errors({200: OrderOut}), summary="One order, as the caller may see it")
def order_get(request: HttpRequest, order_id: int):
    _, member_id, locations = viewer(request)
    order = selectors.order_get(order_id, member_id=member_id, locations=locations)
    return order_body(order, member_id=member_id, locations=locations)


@router.get("/{order_id}/history", response=with_errors({200: list[HistoryEventOut]}),
            summary="Every change of the order and its shipments: who, when, from, to, why")
def order_history(request: HttpRequest, order_id: int):
    _, member_id, locations = viewer(request)
    order = selectors.order_get(order_id, member_id=member_id, locations=locations, prefetch=False)
    events = selectors.order_history(order)
    if locations is not None:  # a store sees the order's own events and its shipments' events
        mine = set(Shipment.objects.filter(order=order, location_id__in=locations).values_list("pk", flat=True))
        events = [e for e in events if e["shipment_id"] is None or e["shipment_id"] in mine]
    return events


@router.post("/{order_id}/cancel", response=with_errors({200: OrderOut}, 409),
             summary="Cancel an order whose goods are still in the stores; paid money is refunded")
def order_cancel(request: HttpRequest, order_id: int, body: CancelIn, idempotency_key: str | None = IdemKey):
    actor, member_id, locations = viewer(request)
    order = selectors.order_get(order_id, member_id=member_id, locations=locations, prefetch=False)
    if actor.kind is ActorKind.STAFF:
        # The stores still serving the order (not one whose shipment was re-routed away or cancelled).
        serving = Shipment.objects.filter(order=order).exclude(status__in=["rerouted", "cancelled"])
        stores = sorted(set(serving.values_list("location_id", flat=True))
                        | ({order.store_id} if order.store_id else set()))
        if not stores:
            require(request, Perm.ORDER_CANCEL)  # chain-wide: HQ scope only
        elif not any(_may_cancel(request, s) for s in stores):
            raise Forbidden("无权取消此订单 Not allowed to cancel this order",
                            details={"order_id": order_id, "permission": Perm.ORDER_CANCEL.value})
    by = by_of(request)
    reason = body.reason or ("会员取消 cancelled by the member" if member_id else "员工取消 cancelled by staff")

    def work() -> tuple[int, dict]:
        o = lifecycle.order_cancel(order_id=order_id, by=by, reason=reason, member_id=member_id)
        return 200, order_body(o, member_id=member_id, locations=locations)

    return idempotent(request, f"orders.cancel.{order_id}", idempotency_key, body.model_dump(mode="json"), work)


def _may_cancel(request: HttpRequest, location_id: int) -> bool:
    try:
        require(request, Perm.ORDER_CANCEL, location=location_id)
    except Forbidden:
        return False
    return True
