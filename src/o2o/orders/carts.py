"""Server-side carts. An anonymous visitor's cart is found by its token (``X-Cart-Token``, only
its SHA-256 is stored); a member has at most one open cart (a partial UNIQUE index). Signing
in merges the visitor's cart into the member's: quantities of the same SKU add up (capped at
999), and the visitor's cart is closed as ``merged``. A member's cart gaining a SKU (or units of one) sends
``signals.cart_line_added`` (behaviour events, ``o2o.profiles``).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Least
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.catalog.models import Channel, Sku
from o2o.common.errors import Forbidden, InvalidInput, NotFound
from o2o.orders.models import Cart, CartLine, CartStatus
from o2o.orders.signals import cart_line_added
from o2o.stores.models import Location

MAX_QTY = 999
MAX_LINES = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cart_for_token(token: str, *, create: bool = False, channel: str = Channel.H5) -> tuple[Cart, str]:
    """The visitor's open cart for ``token``; a new cart (and token) when ``create`` and none is given."""
    if token:
        cart = Cart.objects.filter(token_hash=_hash(token)).first()
        if cart is not None:
            if cart.member_id is not None:
                raise Forbidden("此购物车属于会员，请登录 This cart belongs to a member; sign in",
                                code="cart_belongs_to_member")
            return cart, token
        if not create:
            raise NotFound("购物车不存在 Unknown cart", code="unknown_cart")
    if not create:
        raise NotFound("购物车不存在 Unknown cart", code="unknown_cart")
    token = secrets.token_urlsafe(32)
    return Cart.objects.create(token_hash=_hash(token), channel=channel), token


def cart_for_member(member: Member, *, channel: str = Channel.H5) -> Cart:
    """The member's open cart, created on first use (a race creates one: the UNIQUE index decides)."""
    cart = Cart.objects.filter(member=member, status=CartStatus.OPEN).first()
    if cart is not None:
        return cart
    try:
        with transaction.atomic():
            return Cart.objects.create(member=member, token_hash=_hash(secrets.token_urlsafe(32)), channel=channel)
    except IntegrityError:
        return Cart.objects.get(member=member, status=CartStatus.OPEN)


def _open(cart: Cart) -> None:
    if cart.status != CartStatus.OPEN:
        raise InvalidInput("购物车已关闭 The cart is closed", code="cart_closed",
                           details={"cart_id": cart.pk, "status": cart.status})


def _added(cart: Cart, sku_id: int, now: datetime) -> None:
    """Tell the apps above (``signals.cart_line_added``) that a member's cart gained ``sku_id``."""
    if cart.member_id is not None:
        cart_line_added.send(sender=Cart, member_id=cart.member_id, sku_id=sku_id, channel=cart.channel, at=now)


def cart_set_line(cart: Cart, *, sku_id: int, qty: int, now: datetime | None = None) -> Cart:
    """Set a SKU's quantity (0 removes the line). A new line of a member's cart is announced (``_added``)."""
    _open(cart)
    if not 0 <= qty <= MAX_QTY:
        raise InvalidInput(f"数量应为 0-{MAX_QTY} Quantity must be 0..{MAX_QTY}", code="invalid_quantity",
                           details={"sku_id": sku_id, "qty": qty})
    now = now or timezone.now()
    created = False
    with transaction.atomic():
        if qty == 0:
            CartLine.objects.filter(cart=cart, sku_id=sku_id).delete()
        else:
            if not Sku.objects.filter(pk=sku_id, active=True).exists():
                raise InvalidInput("SKU 不存在 Unknown SKU", code="unknown_sku", details={"sku_ids": [sku_id]})
            updated = CartLine.objects.filter(cart=cart, sku_id=sku_id).update(qty=qty)
            if not updated:
                if CartLine.objects.filter(cart=cart).count() >= MAX_LINES:
                    raise InvalidInput("购物车已满 The cart is full", code="too_many_lines", details={"max": MAX_LINES})
                CartLine.objects.create(cart=cart, sku_id=sku_id, qty=qty, added_at=now)
                created = True
        Cart.objects.filter(pk=cart.pk).update(updated_at=now)
    if created:
        _added(cart, sku_id, now)
    return cart


def cart_add(cart: Cart, *, sku_id: int, qty: int = 1) -> Cart:
    if not 1 <= qty <= MAX_QTY:
        raise InvalidInput(f"数量应为 1-{MAX_QTY} Quantity must be 1..{MAX_QTY}", code="invalid_quantity",
                           details={"sku_id": sku_id, "qty": qty})
    current = CartLine.objects.filter(cart=cart, sku_id=sku_id).values_list("qty", flat=True).first() or 0
    now = timezone.now()
    cart_set_line(cart, sku_id=sku_id, qty=min(MAX_QTY, current + qty), now=now)
    if current:  # units added to an existing line (a new line was announced by cart_set_line)
        _added(cart, sku_id, now)
    return cart


def cart_set_location(cart: Cart, *, location_id: int | None) -> Cart:
    _open(cart)
    if location_id is not None and not Location.objects.filter(pk=location_id, active=True).exists():
        raise NotFound("网点不存在 Unknown location", code="unknown_location", details={"location_id": location_id})
    Cart.objects.filter(pk=cart.pk).update(location_id=location_id, updated_at=timezone.now())
    cart.location_id = location_id
    return cart


def cart_merge(*, token: str, member: Member) -> Cart:
    """Merge the visitor's cart into the member's (at sign-in). Merging twice changes nothing."""
    target = cart_for_member(member)
    source = Cart.objects.filter(token_hash=_hash(token)).first() if token else None
    if source is None or source.pk == target.pk:
        return target
    if source.member_id is not None and source.member_id != member.pk:
        raise Forbidden("此购物车属于其他会员 This cart belongs to another member", code="cart_belongs_to_member")
    with transaction.atomic():
        won = Cart.objects.filter(pk=source.pk, status=CartStatus.OPEN, member__isnull=True).update(
            status=CartStatus.MERGED, merged_into=target, updated_at=timezone.now())
        if not won:
            return target
        for line in CartLine.objects.filter(cart=source):
            updated = CartLine.objects.filter(cart=target, sku_id=line.sku_id).update(
                qty=Least(F("qty") + line.qty, Value(MAX_QTY)))
            if not updated:
                CartLine.objects.create(cart=target, sku_id=line.sku_id, qty=line.qty, added_at=line.added_at)
        if target.location_id is None and source.location_id is not None:
            Cart.objects.filter(pk=target.pk).update(location_id=source.location_id)
            target.location_id = source.location_id
    return target


def cart_lines(cart: Cart) -> list[tuple[int, int]]:
    return list(CartLine.objects.filter(cart=cart).order_by("sku_id").values_list("sku_id", "qty"))
