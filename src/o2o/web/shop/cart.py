"""The cart page, adding to the cart (the header badge updates through htmx), changing a line."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from o2o.common.errors import ApiError
from o2o.orders import carts
from o2o.orders.api.cart import cart_body
from o2o.orders.models import Cart
from o2o.web.shop.basket import cart_count, get_cart
from o2o.web.shop.forms import AddForm, LineForm
from o2o.web.shop.labels import error_text
from o2o.web.shop.pages import page


def priced(cart: Cart | None) -> tuple[dict | None, str]:
    """The cart as the API shows it (priced at its store); a delisted SKU is dropped, with a note."""
    if cart is None:
        return None, ""
    try:
        return cart_body(cart), ""
    except ApiError as exc:
        gone = (exc.details or {}).get("sku_ids") if exc.code == "unknown_sku" else None
        if not gone:
            return None, error_text(exc)
        for sku_id in gone:
            carts.cart_set_line(cart, sku_id=sku_id, qty=0)
        return cart_body(cart), _("部分商品已下架，已从购物车移除。")


def _cart_context(request: HttpRequest, error: str = "") -> dict:
    body, note = priced(get_cart(request))
    return {"cart": body, "error": error or note}


@require_GET
def cart_page(request: HttpRequest) -> HttpResponse:
    return page(request, "web/shop/cart.html", _cart_context(request))


def _form_error(form) -> str:  # noqa: ANN001
    if "qty" in form.errors:
        return _("数量应为 0 到 999 的整数。")
    return _("商品不存在。")


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddForm(request.POST)
    status, message = 200, _("已加入购物车")
    if not form.is_valid():
        status, message = 400, _form_error(form)
    else:
        try:
            cart = get_cart(request, create=True)
            carts.cart_add(cart, sku_id=form.cleaned_data["sku_id"], qty=form.cleaned_data["qty"] or 1)
        except ApiError as exc:
            status, message = exc.status, error_text(exc)
    if request.htmx:
        return render(request, "web/shop/_added.html", {"cart_count": cart_count(request), "message": message,
                                                        "ok": status == 200}, status=status)
    if status != 200:
        return page(request, "web/shop/cart.html", _cart_context(request, message), status=status)
    return redirect("/shop/cart")


@require_POST
def cart_line(request: HttpRequest) -> HttpResponse:
    form = LineForm(request.POST)
    status, error = 200, ""
    if not form.is_valid():
        status, error = 400, _form_error(form)
    else:
        cart = get_cart(request)
        try:
            if cart is None:
                raise ApiError(_("购物车是空的。"), code="empty_basket", status=404)
            carts.cart_set_line(cart, sku_id=form.cleaned_data["sku_id"], qty=form.cleaned_data["qty"])
        except ApiError as exc:
            status, error = exc.status, error_text(exc)
    if request.htmx:
        ctx = {**_cart_context(request, error), "cart_count": cart_count(request), "oob": True}
        return render(request, "web/shop/_cart_body.html", ctx, status=status)
    if status != 200:
        return page(request, "web/shop/cart.html", _cart_context(request, error), status=status)
    return redirect("/shop/cart")
