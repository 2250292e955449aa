"""Cart and checkout endpoints. Visitors use ``X-Cart-Token`` (returned when the cart is made);
members use their own cart; ``POST /cart/merge`` moves a visitor's cart into the member's.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja import Header, Router

from o2o.accounts.models import Member
from o2o.common.errors import Forbidden, InvalidInput
from o2o.core.access import ActorKind
from o2o.orders import carts
from o2o.orders.api.common import OPTIONAL_AUTH, maybe_actor, member_of
from o2o.orders.api.schemas import (
    CartAddIn,
    CartLineIn,
    CartLocationIn,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    MergeIn,
    with_errors,
)
from o2o.orders.checkout import checkout_quote
from o2o.orders.models import Cart
from o2o.orders.pricing import price_basket

router = Router(tags=["cart"])

CartToken = Header("", alias="X-Cart-Token", description="a visitor's cart token (members leave it out)")


def _cart(request: HttpRequest, token: str, *, create: bool) -> tuple[Cart, str | None]:
    actor = maybe_actor(request)
    if actor is not None and actor.kind is ActorKind.MEMBER:
        return carts.cart_for_member(Member.objects.get(pk=actor.id)), None
    if actor is not None:
        raise Forbidden("员工账号没有购物车 Staff accounts have no cart", code="members_only")
    cart, new_token = carts.cart_for_token(token, create=create)
    return cart, (new_token if new_token != token else None)


def cart_body(cart: Cart, token: str | None = None) -> dict:
    lines = carts.cart_lines(cart)
    body = {"id": cart.pk, "token": token, "member_id": cart.member_id, "location_id": cart.location_id,
            "channel": cart.channel, "status": cart.status, "lines": [], "goods_fen": 0, "discount_fen": 0,
            "total_fen": 0}
    if not lines:
        return body
    priced = price_basket(lines, location_id=cart.location_id, channel=cart.channel, at=timezone.now())
    body["lines"] = [{"sku_id": ln.sku_id, "name": priced.skus[ln.sku_id].name, "qty": ln.qty,
                      "unit_price_fen": ln.unit_price_fen, "list_price_fen": priced.skus[ln.sku_id].list_price_fen,
                      "subtotal_fen": ln.subtotal_fen, "discount_fen": ln.discount_fen,
                      "payable_fen": ln.payable_fen} for ln in priced.totals.lines]
    t = priced.totals
    body.update(goods_fen=t.goods_fen, discount_fen=t.discount_fen, total_fen=t.goods_fen - t.discount_fen)
    return body


@router.get("/cart", response=with_errors({200: CartOut}), auth=OPTIONAL_AUTH,
            summary="The cart: a member's, or a visitor's by X-Cart-Token (a new one when absent)")
def cart_get(request: HttpRequest, x_cart_token: str = CartToken):
    cart, token = _cart(request, x_cart_token, create=True)
    return cart_body(cart, token)


@router.post("/cart/lines", response=with_errors({200: CartOut}), auth=OPTIONAL_AUTH,
             summary="Add units of a SKU to the cart")
def cart_add(request: HttpRequest, body: CartAddIn, x_cart_token: str = CartToken):
    cart, token = _cart(request, x_cart_token, create=True)
    carts.cart_add(cart, sku_id=body.sku_id, qty=body.qty)
    return cart_body(cart, token)


@router.put("/cart/lines", response=with_errors({200: CartOut}), auth=OPTIONAL_AUTH,
            summary="Set a SKU's quantity in the cart (0 removes it)")
def cart_set(request: HttpRequest, body: CartLineIn, x_cart_token: str = CartToken):
    cart, token = _cart(request, x_cart_token, create=False)
    carts.cart_set_line(cart, sku_id=body.sku_id, qty=body.qty)
    return cart_body(cart, token)


@router.put("/cart/location", response=with_errors({200: CartOut}), auth=OPTIONAL_AUTH,
            summary="Choose the customer's current store (its prices apply)")
def cart_location(request: HttpRequest, body: CartLocationIn, x_cart_token: str = CartToken):
    cart, token = _cart(request, x_cart_token, create=False)
    carts.cart_set_location(cart, location_id=body.location_id)
    return cart_body(cart, token)


@router.post("/cart/merge", response=with_errors({200: CartOut}),
             summary="At sign-in: merge a visitor's cart into the member's")
def cart_merge(request: HttpRequest, body: MergeIn):
    member = member_of(request)
    return cart_body(carts.cart_merge(token=body.token, member=member))


@router.post("/checkout/quote", response=with_errors({200: CheckoutOut}), auth=OPTIONAL_AUTH,
             summary="Checkout: priced lines and, per fulfilment option, the delivery fee and the total")
def checkout(request: HttpRequest, body: CheckoutIn, x_cart_token: str = CartToken):
    if body.lines:
        lines = [(ln.sku_id, ln.qty) for ln in body.lines]
    else:
        cart, _ = _cart(request, x_cart_token, create=False)
        lines = carts.cart_lines(cart)
        if not lines:
            raise InvalidInput("购物车为空 The basket is empty", code="empty_basket", details={"lines": []})
    actor = maybe_actor(request)
    member_id = actor.id if actor is not None and actor.kind is ActorKind.MEMBER else None
    return checkout_quote(lines=lines, channel=body.channel, lat=body.lat, lng=body.lng, coord=body.coord,
                          price_location_id=body.price_location_id, pickup_location_id=body.pickup_location_id,
                          member_id=member_id, coupon_ids=tuple(body.coupon_ids), points=body.points)
