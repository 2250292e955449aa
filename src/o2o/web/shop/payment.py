"""Paying an order: choose WeChat Pay or Alipay (``orders.payments.payment_create``), then, in
sandbox mode, the sandbox pay page does what the API's sandbox endpoint does: the sandbox
provider signs its payment notice and it is handled like a real one (``notice_handle``).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from o2o.common.errors import ApiError
from o2o.core.orders import OrderStatus
from o2o.orders import gateways, payments, selectors
from o2o.orders.models import Order, Payment, PaymentStatus
from o2o.web.auth import current_member, member_required
from o2o.web.shop.forms import PayForm
from o2o.web.shop.labels import PROVIDER, error_text
from o2o.web.shop.pages import page

MAX_ID = 2**63 - 1


def own_order(request: HttpRequest, order_id: int, *, prefetch: bool = False) -> Order:
    """The signed-in member's order; anyone else's id is a 404 (as the API answers members)."""
    member = current_member(request)
    if member is None or order_id > MAX_ID:
        raise Http404
    try:
        return selectors.order_get(order_id, member_id=member.pk, prefetch=prefetch)
    except ApiError:
        raise Http404 from None


def _render(request: HttpRequest, order: Order, form: PayForm, *, status: int = 200, error: str = "") -> HttpResponse:
    return page(request, "web/shop/pay.html", {"order": order, "form": form, "error": error,
                                               "sandbox": gateways.is_sandbox()}, status=status)


@member_required
@require_http_methods(["GET", "POST"])
def pay(request: HttpRequest, order_id: int) -> HttpResponse:
    order = own_order(request, order_id)
    if order.status != OrderStatus.PENDING_PAYMENT:
        return redirect(f"/shop/orders/{order.pk}")
    if request.method == "GET":
        return _render(request, order, PayForm(initial={"provider": "wechat"}))
    form = PayForm(request.POST)
    if not form.is_valid():
        return _render(request, order, form, status=400)
    try:
        payment, _created = payments.payment_create(order_id=order.pk, provider=form.cleaned_data["provider"],
                                                    member_id=order.member_id,
                                                    client_ip=request.META.get("REMOTE_ADDR") or None)
    except ApiError as exc:
        order.refresh_from_db()
        return _render(request, order, form, status=exc.status if exc.status < 500 else 502, error=error_text(exc))
    if payment.status == PaymentStatus.PAID:  # a zero-yuan order is paid at once
        return redirect(f"/shop/orders/{order.pk}")
    if gateways.is_sandbox():
        return redirect(f"/shop/orders/{order.pk}/pay/sandbox/{payment.out_trade_no}")
    return page(request, "web/shop/pay_provider.html", {"order": order, "payment": payment,
                                                        "provider": PROVIDER.get(payment.provider, "")})


@member_required
@require_http_methods(["GET", "POST"])
def sandbox_pay(request: HttpRequest, order_id: int, out_trade_no: str) -> HttpResponse:
    """The sandbox provider's pay page (sandbox mode only; the order's member only)."""
    if not gateways.is_sandbox():
        raise Http404
    order = own_order(request, order_id)
    if "\x00" in out_trade_no:
        raise Http404
    payment = Payment.objects.filter(order=order, out_trade_no=out_trade_no[:32],
                                     provider__in=gateways.PROVIDERS).first()
    if payment is None:
        raise Http404
    if payment.status == PaymentStatus.PAID or order.status != OrderStatus.PENDING_PAYMENT:
        return redirect(f"/shop/orders/{order.pk}")
    error, status = "", 200
    if request.method == "POST":
        try:
            headers, body = gateways.sandbox_pay(payment)
            payments.notice_handle(payment.provider, headers, body)
        except ApiError as exc:
            error, status = error_text(exc), exc.status if exc.status < 500 else 502
        else:
            payment.refresh_from_db()
            if payment.status == PaymentStatus.PAID:
                return redirect(f"/shop/orders/{order.pk}")
            error, status = _("支付未完成，请重试。"), 409
    return page(request, "web/shop/sandbox_pay.html", {"order": order, "payment": payment, "error": error,
                                                       "provider": PROVIDER.get(payment.provider, "")}, status=status)
