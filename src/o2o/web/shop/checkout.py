"""Checkout: the fulfilment options of the routing quote for the member's cart at their point, and
placing the order (``orders.placement.order_place``) exactly once per rendered form.

The form carries an idempotency key made when it was rendered; the order is placed through the
same Stripe-style helper the API uses (``inventory.idempotency.run_idempotent``), so a double
submit answers the first order. ``expected_total_fen`` is the total shown beside the chosen
option: a price change answers 409 ``total_changed`` instead of charging another amount.

Coupons and points: the member picks one of their coupons usable online (nothing pre-selected) and may
tick "use points" (``points=-1``: as many as the rule allows). Changing either re-quotes: htmx posts the
form with ``requote`` and swaps the page's ``#checkout`` (without JavaScript, the "update" button does
the same round trip); nothing is placed and a fresh form key is made. Each option shows its own
adjustments (tier, promotions, the coupon, points) as the marketing engine priced them, and places
with the coupon, the points and that option's total: a coupon the engine rejects is shown with its
reason beside the select, and placing with it is a 409 ``coupon_not_applicable``.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from o2o.catalog.models import Channel
from o2o.common.errors import ApiError
from o2o.core.loyalty.deduction import max_deductible
from o2o.fulfilment.quotes import day_word, minutes_away, round_up_quarter
from o2o.inventory.idempotency import run_idempotent
from o2o.members.points import deduction_rule
from o2o.members.selectors import available_points
from o2o.orders import carts
from o2o.orders.actors import by_actor
from o2o.orders.checkout import checkout_quote
from o2o.orders.placement import PlaceRequest, order_place
from o2o.web.auth import current_member, member_required
from o2o.web.shop.availability import km
from o2o.web.shop.basket import get_cart
from o2o.web.shop.coupons import checkout_choices, coupon_titles
from o2o.web.shop.forms import CheckoutForm
from o2o.web.shop.labels import error_text, zh
from o2o.web.shop.pages import page
from o2o.web.shop.state import current_point, current_store


def _quote(request: HttpRequest, lines: list[tuple[int, int]], now: datetime, *, coupon_ids: tuple[int, ...] = (),
           points: int = 0) -> dict:
    point, store = current_point(request), current_store(request)
    member = current_member(request)
    kw = {"lines": lines, "channel": Channel.H5, "lat": point.lat, "lng": point.lng, "now": now,
          "price_location_id": store.id if store else None, "member_id": member.pk if member else None,
          "coupon_ids": coupon_ids, "points": points}
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
        minutes = minutes_away(d["eta"]["earliest"], now)
        if minutes is None:  # the store is closed now (or its queue is long): a day and a time, not minutes
            by = round_up_quarter(d["eta"]["latest"])
            return _("%(day)s %(time)s 前送达 · 由 %(store)s 配送") % {
                "day": day_word(by, now)[0], "time": by.strftime("%H:%M"), "store": stores}
        return _("约 %(min)s 分钟送达 · 由 %(store)s 配送") % {"min": minutes, "store": stores}
    day, _en = day_word(d["eta"]["latest"], now)
    return _("%(day)s送达 · 由 %(store)s 发货") % {"day": day, "store": stores}


def _adjustments(adjustments: list[dict], extras: dict, coupons: dict[int, str]) -> list[dict]:
    """An option's discounts as the customer reads them: the tier, promotions, the coupon, points."""
    rows = []
    for a in adjustments:
        kind = a["kind"]
        if kind.startswith("coupon:"):
            cid = kind.partition(":")[2]
            name = coupons.get(int(cid)) if cid.isdigit() else None
            label = _("优惠券：%(name)s") % {"name": name or zh(a["label"])}
        elif kind == "points":
            label = _("积分抵扣（%(n)s 积分）") % {"n": extras.get("points_used", 0)}
        else:
            label = zh(a["label"])
        rows.append({"kind": kind.partition(":")[0], "label": label, "amount_fen": a["amount_fen"]})
    return rows


def _refusal(extras: dict, coupon_id: int | None) -> str:
    """Why the pricing engine did not take the chosen coupon ("" if it did or none was chosen)."""
    if coupon_id is None:
        return ""
    reasons = [r["reason"] for r in extras.get("rejected_coupons", []) if r.get("id") == coupon_id]
    return zh(reasons[0]) if reasons else ""


def _options(q: dict, now: datetime, *, coupon_id: int | None = None, coupons: dict[int, str] | None = None,
             ) -> list[dict]:
    """The quote's options as radio choices; each places an order with its kind as the choice, which
    routes exactly as the option was quoted (pickup at that store, same-city only, express only)."""
    out = []
    for opt in q["options"]:
        d = opt["detail"]
        extras = d.get("marketing") or {}
        loc = d.get("location_id") if opt["kind"] == "pickup" else None
        out.append({"value": f"{opt['kind']}:{loc or ''}:{opt['total_fen']}", "kind": opt["kind"], "location_id": loc,
                    "label": _describe(opt["kind"], d, now), "fee_fen": opt["delivery_fee_fen"], "total_fen": opt["total_fen"],
                    "goods_fen": d["goods_fen"], "discount_fen": d["discount_fen"], "distance_m": d.get("distance_m"),
                    "eta": d.get("eta"), "ready_by": d.get("ready_by"),
                    "stores": [s["location_name"] for s in d.get("shipments", [])],
                    "adjustments": _adjustments(d.get("adjustments", []), extras, coupons or {}),
                    "marketing": extras, "coupon_refusal": _refusal(extras, coupon_id)})
    return out


def _picked(form: CheckoutForm) -> tuple[int | None, bool]:
    """The coupon (one of the form's choices, else none) and whether points are asked for, as the form holds them."""
    raw, points = form["coupon"].value(), form["use_points"].value()
    valid = {str(v) for v, _label in form.fields["coupon"].choices if v != ""}
    coupon_id = int(raw) if raw not in (None, "") and str(raw) in valid else None
    return coupon_id, bool(points) and points not in ("", "0", "false", "False")


def _points(member_id: int, option: dict | None, use_points: bool) -> dict:
    """The points box: the balance, and what the chosen option deducts (ticked) or would deduct (not ticked)."""
    rule = deduction_rule()
    out = {"balance": available_points(member_id), "points": 0, "fen": 0, "used": use_points,
           "per_yuan": rule.points_per_yuan, "share": rule.max_share_percent}
    if option is None:
        return out
    if use_points:
        extras = option["marketing"]
        return {**out, "points": extras.get("points_used", 0), "fen": extras.get("points_fen", 0)}
    # Points are the last stage and pay goods only: the cap is on what the goods cost after the other discounts.
    would = max_deductible(out["balance"], max(0, option["goods_fen"] - option["discount_fen"]), rule)
    return {**out, "points": would.points, "fen": would.fen}


def _chosen(form: CheckoutForm, options: list[dict], prefer: str) -> str:
    """The option to check: the one posted if it is still quoted at that total; else the same kind (and store)
    at its new total (after an error, or a re-quote with a coupon); else the first."""
    values = [o["value"] for o in options]
    posted = form["option"].value() or ""
    if posted in values:
        return posted
    if not prefer and posted.count(":") == 2:
        prefer = posted.rsplit(":", 1)[0] + ":"
    return next((v for v in values if prefer and v.startswith(prefer)), values[0] if values else "")


def _render(request: HttpRequest, form: CheckoutForm, *, status: int = 200, error: str = "",
            prefer: str = "") -> HttpResponse:
    cart = get_cart(request)
    lines = carts.cart_lines(cart) if cart is not None else []
    member = current_member(request)
    coupon_id, use_points = _picked(form)
    coupons = coupon_titles([coupon_id]) if coupon_id else {}
    q, options = None, []
    if not lines:
        error = error or _("购物车是空的，先去挑选商品吧。")
    else:
        try:
            now = timezone.localtime()  # the instant the order would be placed at, local (its days and hours)
            q = _quote(request, lines, now, coupon_ids=(coupon_id,) if coupon_id else (), points=-1 if use_points else 0)
            options = _options(q, now, coupon_id=coupon_id, coupons=coupons)
        except ApiError as exc:
            error = error or error_text(exc)
    chosen = _chosen(form, options, prefer)
    option = next((o for o in options if o["value"] == chosen), None)
    refusal = option["coupon_refusal"] if option else _refusal((q or {}).get("marketing") or {}, coupon_id)
    return page(request, "web/shop/checkout.html", {
        "form": form, "quote": q, "options": options, "chosen": chosen, "error": error,
        "point": current_point(request), "coupon_refusal": refusal, "has_coupons": len(form.fields["coupon"].choices) > 1,
        "points": _points(member.pk, option, use_points) if member else None}, status=status)


def _new_form(member_id: int, data: dict | None = None) -> CheckoutForm:
    return CheckoutForm(initial={**(data or {}), "idem": secrets.token_urlsafe(18)},
                        coupons=checkout_choices(member_id, timezone.now()))


KEPT = ("option", "contact_name", "contact_phone", "address", "coupon", "use_points")


@member_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    assert member is not None
    if request.method == "GET":
        return _render(request, _new_form(member.pk))
    coupons = checkout_choices(member.pk, timezone.now())
    if "requote" in request.POST:  # a coupon or the points box changed: price again, place nothing
        posted = CheckoutForm(request.POST, coupons=coupons)
        return _render(request, _new_form(member.pk, {k: posted[k].value() for k in KEPT}))
    form = CheckoutForm(request.POST, coupons=coupons)
    if not form.is_valid():
        return _render(request, form, status=400)
    data = form.cleaned_data
    kind, location_id, total_fen = data["option"]
    coupon_ids = (data["coupon"],) if data["coupon"] else ()
    points = -1 if data["use_points"] else 0
    point, store = current_point(request), current_store(request)
    by = by_actor(request.actor)  # type: ignore[attr-defined]  # set by current_member
    payload = {"option": request.POST.get("option"), "contact_name": data["contact_name"],
               "contact_phone": data["contact_phone"], "address": data["address"], "lat": point.lat,
               "lng": point.lng, "store": store.id if store else None, "coupon_ids": list(coupon_ids), "points": points}

    def work() -> tuple[int, dict]:
        cart = carts.cart_for_member(member)
        lines = carts.cart_lines(cart)
        if not lines:
            raise ApiError(_("购物车是空的。"), code="empty_basket", status=422)
        req = PlaceRequest(lines=lines, channel=Channel.H5, choice=kind, lat=point.lat, lng=point.lng,
                           pickup_location_id=location_id, price_location_id=store.id if store else None,
                           address=data["address"].strip(), contact_name=data["contact_name"].strip(),
                           contact_phone=data["contact_phone"], expected_total_fen=total_fen, cart_id=cart.pk,
                           coupon_ids=coupon_ids, points=points)
        order = order_place(req=req, member=member, by=by)  # routed in local time (fulfilment.clock.local)
        return 201, {"order_id": order.pk}

    try:
        placed = run_idempotent(operation=f"shop.place:member:{member.pk}"[:64], key=data["idem"],
                                payload=payload, work=work)
    except ApiError as exc:
        fresh = _new_form(member.pk, {k: data.get(k, "") for k in ("contact_name", "contact_phone", "address",
                                                                     "coupon", "use_points")})
        return _render(request, fresh, status=exc.status if 400 <= exc.status < 500 else 409, error=error_text(exc),
                       prefer=f"{kind}:{location_id or ''}:")
    if hasattr(request, "_shop_cart"):
        del request._shop_cart  # type: ignore[attr-defined]
    return redirect(f"/shop/orders/{placed.body['order_id']}/pay")
