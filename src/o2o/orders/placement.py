"""Placing an online order: price, route, reserve and create it in one transaction, or nothing.

The caller (the API's idempotency helper) opens the transaction. The routing engine picks
the shipments (``fulfilment.decisions.decision_create``: decision + one reservation per
shipment); if any line cannot be filled or reserved the whole transaction rolls back and
the 422 ``cannot_fill`` / 409 ``insufficient_stock`` names the lines and why.

The member's row is read again under a lock (``SELECT ... FOR NO KEY UPDATE``) first thing: a merge
(OneID) or a deletion takes it ``FOR UPDATE``, so one of them runs first. Placed first: the merge that
follows moves the new order to the survivor. Merged or deleted first: 409 ``member_inactive``, no order
is left on an inactive member. (``NO KEY``: rows that merely reference the member still insert.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from o2o.accounts import pii
from o2o.accounts.models import Member
from o2o.catalog.models import Channel
from o2o.common.errors import Conflict, InvalidInput
from o2o.fulfilment.decisions import decision_create
from o2o.fulfilment.models import RoutingDecision
from o2o.fulfilment.network import load_basket
from o2o.orders import history, numbers
from o2o.orders.actors import By
from o2o.orders.models import (
    Cart,
    CartStatus,
    EventKind,
    FulfilmentChoice,
    Order,
    OrderLine,
    OrderStatus,
    Shipment,
    ShipmentStatus,
)
from o2o.orders.pricing import PricedBasket, price_basket, totals_json
from o2o.orders.signals import order_priced

PAYMENT_WINDOW_S = 15 * 60
ONLINE_CHANNELS = {c.value for c in Channel} - {Channel.POS.value}


def payment_window_s() -> int:
    return int(settings.O2O.get("ORDER_PAYMENT_WINDOW_S", PAYMENT_WINDOW_S))


@dataclass(frozen=True)
class PlaceRequest:
    lines: list[tuple[int, int]]
    channel: str
    choice: str
    lat: float
    lng: float
    coord: str = "gcj02"
    pickup_location_id: int | None = None
    price_location_id: int | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    utm: dict[str, str] = field(default_factory=dict)
    expected_total_fen: int | None = None
    cart_id: int | None = None
    coupon_ids: tuple[int, ...] = ()  # the member's coupons to use (the marketing engine prices them)
    points: int = 0  # points to use as cash (-1: as many as allowed)
    # Offers the caller adds for this order only (e.g. a group deal's price, ``o2o.groupbuy``): objects the
    # pricing engine understands (``o2o.core.promotions.Promotion`` for the marketing engine).
    extra_promotions: tuple = ()
    # The caller's routing preferences (``o2o.core.routing.Surcharges``; e.g. a community point's stores
    # already sending a trip): they choose between nodes, never change the price.
    routing_surcharges: object | None = None


CONTACT_PHONE = "order.contact_phone"


def contact_phone_fields(phone: str) -> dict[str, str]:
    """The delivery contact's phone, encrypted at rest and kept masked for every screen."""
    phone = phone.strip()[:32]
    if not phone:
        return {"contact_phone_enc": "", "contact_phone_masked": ""}
    return {"contact_phone_enc": pii.encrypt(phone, field=CONTACT_PHONE), "contact_phone_masked": pii.mask_phone(phone)}


def contact_phone(order: Order) -> str:
    """The phone in clear, for the courier booking only (never shown on a screen)."""
    return pii.decrypt(order.contact_phone_enc, field=CONTACT_PHONE) if order.contact_phone_enc else ""


def shipments_from_decision(order: Order, decision: RoutingDecision, status: str, now: datetime) -> list[Shipment]:
    return [Shipment.objects.create(
        order=order, routed=rs, location_id=rs.location_id, mode=rs.mode, status=status, courier=rs.courier,
        lines=[{"sku_id": ln["sku_id"], "qty": ln["qty"]} for ln in rs.lines], eta_earliest=rs.eta_earliest,
        eta_latest=rs.eta_latest, created_at=now, status_changed_at=now)
        for rs in decision.shipments.order_by("pk")]


def _check(req: PlaceRequest) -> None:
    if req.channel not in ONLINE_CHANNELS:
        raise InvalidInput("线上下单渠道不正确 Unknown online channel", code="invalid_channel",
                           details={"channel": req.channel, "allowed": sorted(ONLINE_CHANNELS)})
    if req.choice == FulfilmentChoice.COUNTER:
        raise InvalidInput("门店现场订单请走 POS 接口 Counter sales come through the POS endpoint",
                           code="invalid_choice", details={"choice": req.choice})


def lock_active_member(member_id: int) -> None:
    """Lock the member's row for this transaction; 409 ``member_inactive`` when merged or deleted by now."""
    # Merged or deleted members are inactive (CHECK constraints on accounts.Member): is_active says it all.
    row = (Member.objects.select_for_update(no_key=True).filter(pk=member_id)
           .values_list("is_active", "merged_into_id").first())
    if row is None or not row[0]:
        details: dict = {"member_id": member_id}
        if row is not None and row[1] is not None:
            details["merged_into"] = row[1]
        raise Conflict("会员已停用、合并或注销，无法下单 The member is deactivated, merged or deleted; "
                       "no order can be placed", code="member_inactive", details=details)


def order_place(*, req: PlaceRequest, member: Member, by: By, now: datetime | None = None) -> Order:
    """Create the order, its lines and shipments, route and reserve, in the caller's transaction."""
    assert transaction.get_connection().in_atomic_block, "order_place needs the caller's transaction"
    _check(req)
    lock_active_member(member.pk)
    # One instant for the order and its routing: ``decision_create`` reads it in local time (``clock.local``),
    # so the engine's hours are Shanghai's. Not the routing clock that tests move: the order's payment
    # deadline and ETAs must follow the wall clock that payments, expiry and the store queue read.
    now = now or timezone.now()
    price_at = req.pickup_location_id if req.choice == FulfilmentChoice.PICKUP else req.price_location_id
    # A clash of random numbers is rare (``numbers.DIGITS``); the UNIQUE index refuses it, and the
    # request is then retried by the Idempotency-Key helper (or answers 409: send it again).
    number = numbers.order_number(now)
    basket = load_basket(req.lines)
    decision = decision_create(order_ref=number, lines=req.lines, lat=req.lat, lng=req.lng, coord=req.coord,
                               choice=req.choice, pickup_location_id=req.pickup_location_id, who=by.who, now=now,
                               basket=basket, surcharges=req.routing_surcharges)  # type: ignore[arg-type]
    routed = list(decision.shipments.values_list("mode", "location_id"))
    modes = [m for m, _ in routed]
    # Store-scoped offers of a delivery are checked against the stores that ship it (marketing.pricing).
    shipping = {} if req.choice == FulfilmentChoice.PICKUP else {"fulfil_location_ids": tuple(sorted({
        loc for _, loc in routed}))}
    priced = price_basket(req.lines, location_id=price_at, channel=req.channel, at=now, modes=modes,
                          context={"member_id": member.pk, "channel": req.channel, "coupon_ids": tuple(req.coupon_ids),
                                   "points": req.points, "strict": True,
                                   "extra_promotions": tuple(req.extra_promotions), **shipping}, basket=basket)
    t = priced.totals
    if req.expected_total_fen is not None and req.expected_total_fen != t.total_fen:
        raise Conflict("价格已变化，请确认后重新下单 The total changed; confirm the new total",
                       code="total_changed", details={"expected_total_fen": req.expected_total_fen,
                                                      "total_fen": t.total_fen})
    order = Order.objects.create(
        number=number, member=member, channel=req.channel, choice=req.choice,
        utm_source=req.utm.get("source", "")[:64], utm_medium=req.utm.get("medium", "")[:64],
        utm_campaign=req.utm.get("campaign", "")[:64], status=OrderStatus.PENDING_PAYMENT,
        store_id=req.pickup_location_id, dest_lat=decision.dest_lat, dest_lng=decision.dest_lng,
        address=req.address[:200], contact_name=req.contact_name[:64], **contact_phone_fields(req.contact_phone),
        goods_fen=t.goods_fen, discount_fen=t.discount_fen, delivery_fee_fen=t.delivery_fee_fen,
        total_fen=t.total_fen, pricing={**totals_json(t), "price_sources": priced.sources,
                                        "price_location_id": price_at, **priced.extras},
        routing_decision=decision, payment_deadline=now + timedelta(seconds=payment_window_s()),
        created_at=now, updated_at=now, placed_by_id=by.user_id)
    _lines(order, priced)
    shipments_from_decision(order, decision, ShipmentStatus.PENDING, now)
    order_priced.send(sender=Order, order=order, extras=priced.extras, now=now)
    history.log(order, by=by, kind=EventKind.ORDER, to_status=OrderStatus.PENDING_PAYMENT,
                reason="下单 order placed", at=now)
    history.emit(order, "order.placed", key=f"order:{order.pk}:placed", total_fen=order.total_fen,
                 utm={"source": order.utm_source, "medium": order.utm_medium, "campaign": order.utm_campaign})
    if req.cart_id is not None:
        Cart.objects.filter(pk=req.cart_id, member=member, status=CartStatus.OPEN).update(
            status=CartStatus.ORDERED, updated_at=now)
    return order


def _lines(order: Order, priced: PricedBasket) -> None:
    OrderLine.objects.bulk_create([
        OrderLine(order=order, sku_id=ln.sku_id, name=priced.skus[ln.sku_id].name[:200], qty=ln.qty,
                  unit_price_fen=ln.unit_price_fen, list_price_fen=next(c.list_price_fen for c in priced.lines
                                                                         if c.sku_id == ln.sku_id),
                  subtotal_fen=ln.subtotal_fen, discount_fen=ln.discount_fen, payable_fen=ln.payable_fen)
        for ln in priced.totals.lines])
