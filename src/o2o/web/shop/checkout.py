"""Checkout: the fulfilment options of the routing quote for the member's cart at their point, and
placing the order (``orders.placement.order_place``) exactly once per rendered form.

The form carries an idempotency key made when it was rendered; the order is placed through the
same Stripe-style helper the API uses (``inventory.idempotency.run_idempotent``), so a double
submit answers the first order. ``expected_total_fen`` is the total shown beside the chosen
option: a price change answers 409 ``total_changed`` instead of charging another amount.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from o2o.catalog.models import Channel
from o2o.common.errors import ApiError
from o2o.fulfilment.quotes import day_word
from o2o.inventory.idempotency import run_idempotent
from o2o.orders import carts
from o2o.orders.actors import by_actor
from o2o.orders.checkout import checkout_quote
from o2o.orders.placement import PlaceRequest, order_place
from o2o.web.auth import current_member, member_required
from o2o.web.shop.availability import km
from o2o.web.shop.basket import get_cart
from o2o.web.shop.forms import CheckoutForm
from o2o.web.shop.labels import error_text
from o2o.web.shop.pages import page
from o2o.web.shop.state import current_point, current_store


def _quote(request: HttpRequest, lines: list[tuple[int, int]], now: datetime) -> dict:
    point, store = current_point(request), current_store(request)
    member = current_member(request)
    kw = {"lines": lines, "channel": Channel.H5, "lat": point.lat, "lng": point.lng, "now": now,
          "price_location_id": store.id if store else None, "member_id": member.pk if member else None}
    try:
        return checkout_quote(**kw, pickup_location_id=store.id if store else None)
    except ApiError as exc:
        if store is None or exc.code == "empty_basket":
            raise
        return checkout_quote(**kw)  # the current store may not take pickups: the nearest that do


def _describe(kind: str, d: dict, now: datetime) -> str:
    """What the option means to the customer, in local time (the quote's own label is not shown)."""
    stores = "、".join(dict.fromkeys(sh["location_name"] for sh in d.get("shipments", [])))
    if kind == "pickup":
        day, _en = day_word(d["ready_by"], now)
        return _("%(store)s · 距你 %(km)s · %(day)s %(time)s 前备好") % {
            "store": stores, "km": km(d.get("distance_m")), "day": day, "time": d["ready_by"].strftime("%H:%M")}
    if kind == "same_city":
        minutes = max(1, math.ceil((d["eta"]["earliest"] - now).total_seconds() / 60))
        return _("约 %(min)s 分钟送达 · 由 %(store)s 配送") % {"min": minutes, "store": stores}
    day, _en = day_word(d["eta"]["latest"], now)
    return _("%(day)s送达 · 由 %(store)s 发货") % {"day": day, "store": stores}


def _options(q: dict, now: datetime) -> list[dict]:
    """The quote's options as radio choices; each places an order with its kind as the choice, which
    routes exactly as the option was quoted (pickup at that store, same-city only, express only)."""
    out = []
    for opt in q["options"]:
        d = opt["detail"]
        loc = d.get("location_id") if opt["kind"] == "pickup" else None
        out.append({"value": f"{opt['kind']}:{loc or ''}:{opt['total_fen']}", "kind": opt["kind"], "location_id": loc,
                    "label": _describe(opt["kind"], d, now), "fee_fen": opt["delivery_fee_fen"], "total_fen": opt["total_fen"],
                    "goods_fen": d["goods_fen"], "discount_fen": d["discount_fen"], "distance_m": d.get("distance_m"),
                    "eta": d.get("eta"), "ready_by": d.get("ready_by"),
                    "stores": [s["location_name"] for s in d.get("shipments", [])]})
    return out


def _render(request: HttpRequest, form: CheckoutForm, *, status: int = 200, error: str = "",
            prefer: str = "") -> HttpResponse:
    cart = get_cart(request)
    lines = carts.cart_lines(cart) if cart is not None else []
    q, options = None, []
    if not lines:
        error = error or _("购物车是空的，先去挑选商品吧。")
    else:
        try:
            now = timezone.localtime()  # the instant the order would be placed at, local (its days and hours)
            q = _quote(request, lines, now)
            options = _options(q, now)
        except ApiError as exc:
            error = error or error_text(exc)
    chosen = form["option"].value() if form.is_bound else ""
    if not chosen and options:  # after an error: the same kind (and store) at its new total, else the first
        values = [o["value"] for o in options]
        chosen = next((v for v in values if prefer and v.startswith(prefer)), values[0])
    return page(request, "web/shop/checkout.html", {"form": form, "quote": q, "options": options, "chosen": chosen,
                                                    "error": error, "point": current_point(request)}, status=status)


def _new_form(data: dict | None = None) -> CheckoutForm:
    return CheckoutForm(initial={**(data or {}), "idem": secrets.token_urlsafe(18)})


@member_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render(request, _new_form())
    form = CheckoutForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    member = current_member(request)
    assert member is not None
    data = form.cleaned_data
    kind, location_id, total_fen = data["option"]
    point, store = current_point(request), current_store(request)
    by = by_actor(request.actor)  # type: ignore[attr-defined]  # set by current_member
    payload = {"option": request.POST.get("option"), "contact_name": data["contact_name"],
               "contact_phone": data["contact_phone"], "address": data["address"], "lat": point.lat,
               "lng": point.lng, "store": store.id if store else None}

    def work() -> tuple[int, dict]:
        cart = carts.cart_for_member(member)
        lines = carts.cart_lines(cart)
        if not lines:
            raise ApiError(_("购物车是空的。"), code="empty_basket", status=422)
        req = PlaceRequest(lines=lines, channel=Channel.H5, choice=kind, lat=point.lat, lng=point.lng,
                           pickup_location_id=location_id, price_location_id=store.id if store else None,
                           address=data["address"].strip(), contact_name=data["contact_name"].strip(),
                           contact_phone=data["contact_phone"], expected_total_fen=total_fen, cart_id=cart.pk)
        order = order_place(req=req, member=member, by=by)  # routed in local time (fulfilment.clock.local)
        return 201, {"order_id": order.pk}

    try:
        placed = run_idempotent(operation=f"shop.place:member:{member.pk}"[:64], key=data["idem"],
                                payload=payload, work=work)
    except ApiError as exc:
        fresh = _new_form({k: data.get(k, "") for k in ("contact_name", "contact_phone", "address")})
        return _render(request, fresh, status=exc.status if 400 <= exc.status < 500 else 409, error=error_text(exc),
                       prefer=f"{kind}:{location_id or ''}:")
    if hasattr(request, "_shop_cart"):
        del request._shop_cart  # type: ignore[attr-defined]
    return redirect(f"/shop/orders/{placed.body['order_id']}/pay")
