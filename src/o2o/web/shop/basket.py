"""The storefront's cart: a member's own cart, or a visitor's found by the token kept in the session.

Only the raw token lives in the session (``SESSION_CART``); the database keeps its SHA-256
(``o2o.orders.carts``). The cart's location follows the customer's current store, so its
prices are that store's.
"""

from __future__ import annotations

from django.http import HttpRequest

from o2o.common.errors import ApiError
from o2o.orders import carts
from o2o.orders.models import Cart, CartStatus
from o2o.web.auth import SESSION_CART, current_member
from o2o.web.shop.state import current_store


def _visitor_cart(request: HttpRequest, *, create: bool) -> Cart | None:
    token = request.session.get(SESSION_CART) or ""
    cart = None
    if token:
        try:
            cart, _ = carts.cart_for_token(token)
        except ApiError:  # purged, or (never for a visitor's own token) a member's cart
            cart = None
        if cart is not None and cart.status != CartStatus.OPEN:
            cart = None
    if cart is None:
        if not create:
            return None
        cart, token = carts.cart_for_token("", create=True)
        request.session[SESSION_CART] = token
    return cart


def get_cart(request: HttpRequest, *, create: bool = False) -> Cart | None:
    """The customer's open cart (None for a visitor without one, unless ``create``)."""
    if hasattr(request, "_shop_cart") and (request._shop_cart is not None or not create):  # type: ignore[attr-defined]
        return request._shop_cart  # type: ignore[attr-defined]
    member = current_member(request)
    cart = carts.cart_for_member(member) if member is not None else _visitor_cart(request, create=create)
    if cart is not None:
        store = current_store(request)
        wanted = store.id if store is not None else None
        if cart.location_id != wanted:
            try:
                carts.cart_set_location(cart, location_id=wanted)
            except ApiError:  # the store closed since it was chosen: chain prices
                carts.cart_set_location(cart, location_id=None)
    request._shop_cart = cart  # type: ignore[attr-defined]
    return cart


def cart_count(request: HttpRequest) -> int:
    """Units in the cart, for the header's badge (no cart is made for it)."""
    member = current_member(request)
    if member is None and not request.session.get(SESSION_CART):
        return 0
    cart = get_cart(request)
    return sum(q for _, q in carts.cart_lines(cart)) if cart is not None else 0
