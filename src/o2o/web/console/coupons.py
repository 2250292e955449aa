"""The counter's coupon card (核销优惠券): type or scan the code, see the coupon, confirm to redeem it.

1. Look-up (``POST .../counter/coupon``, a POST so the code never lands in a URL or an access log):
   ``redemption.coupon_by_code`` then ``selectors.counter_view`` at this store: the offer, the state,
   the member masked, and whether it may be used here (the refusal in Chinese if not).
2. Redeem (``POST .../counter/coupon/redeem``): ``redemption.coupon_redeem_at_counter`` through
   ``inventory.idempotency.run_idempotent`` with the key the look-up rendered, so a double submit
   answers the first result; a later attempt with the same code is 409 ``coupon_used``. The optional
   小票号 (``receipt_no``) names the till's sale the coupon is used on: a coupon with a threshold or a
   category/SKU scope needs it, and the sale must qualify (errors beside the field).
3. Undo (撤销核销, the same URL with ``action=reverse`` and ``coupon_id``; the button on a just-redeemed coupon
   posts it with htmx): ``redemption.coupon_reverse_at_counter``, once, within the window (store managers
   and HQ: the same China day), idempotent like the redeem.

Who: ``coupon.redeem`` at this store (a clerk only at their own store; the page itself is the store's
counter, ``order.view``, so another store's counter is a 403 page as for every console page).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from o2o.common.errors import ApiError, Forbidden
from o2o.core.access import Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.marketing import redemption, selectors
from o2o.marketing.counter_receipt import MAX_RECEIPT, RECEIPT_PATTERN, needs_receipt
from o2o.marketing.models import CouponTemplate
from o2o.orders.models import Order
from o2o.stores.models import Location
from o2o.web.console.common import allowed, form_key, message_text, new_key, refuse, store_page
from o2o.web.console.counter import counter_page
from o2o.web.console.forms import CouponCodeForm
from o2o.web.shop.coupons import offer_text, template_name, validity_text, where_text

STATE_LABEL = {"available": gettext_lazy("可用"), "not_yet": gettext_lazy("未生效"), "used": gettext_lazy("已使用"),
               "expired": gettext_lazy("已过期"), "void": gettext_lazy("已作废")}
ERRORS = {
    "unknown_coupon": gettext_lazy("没有这张券，请核对券码。"),
    "coupon_used": gettext_lazy("这张券已经使用过了，不能重复核销。"),
    "coupon_expired": gettext_lazy("这张券已过期，不能核销。"),
    "coupon_void": gettext_lazy("这张券已作废，不能核销。"),
    "coupon_not_started": gettext_lazy("这张券还没到生效时间。"),
    "coupon_not_valid_here": gettext_lazy("这张券不适用于本店（仅限指定门店使用）。"),
    "receipt_needed": gettext_lazy("这张券有使用门槛或限定商品，请填写本单的收银小票号。"),
    "unknown_receipt": gettext_lazy("本店没有这张小票，请核对小票号。"),
    "coupon_not_applicable": gettext_lazy("这张小票不满足该券的使用条件。"),
    "receipt_other_member": gettext_lazy("这张小票属于其他会员，不能使用这张券。"),
    "receipt_not_usable": gettext_lazy("这张小票已退款或取消，不能用券。"),
    "coupon_already_reversed": gettext_lazy("这次核销已经撤销过了。"),
    "coupon_not_used_here": gettext_lazy("这张券不是本店柜台核销的，不能撤销。"),
    "reverse_window_passed": gettext_lazy("已超过可撤销时间，请联系店长处理。"),
    "coupon_gift_handed_over": gettext_lazy("赠品已交付，不能撤销核销，请走退货流程。"),
    "invalid_coupon_id": gettext_lazy("要撤销的券不正确，请重新查询券码。"),
    "idempotency_key_reused": gettext_lazy("表单已过期，请重新查询券码。"),
    "invalid_idempotency_key": gettext_lazy("表单已过期，请重新查询券码。"),
}


RECEIPT_CODES = {"receipt_needed", "unknown_receipt", "coupon_not_applicable", "receipt_other_member",
                 "receipt_not_usable"}


class CouponReceiptForm(forms.Form):
    """The sale the coupon is used on: the till's receipt number (optional; needed for a threshold or a
    product scope)."""

    receipt_no = forms.CharField(label=_lazy("收银小票号（选填）"), max_length=MAX_RECEIPT, required=False,
                                 help_text=_lazy("满减券或限定商品的券须填写本单小票号，系统按小票商品核对使用条件。"),
                                 widget=forms.TextInput(attrs={"autocomplete": "off",
                                                               "data-testid": "coupon-receipt-input"}),
                                 error_messages={"max_length": _lazy("小票号最多 %(limit_value)d 位。")})

    def clean_receipt_no(self) -> str:
        text = self.cleaned_data["receipt_no"].strip()
        if text and not re.fullmatch(RECEIPT_PATTERN, text):
            raise forms.ValidationError(_lazy("小票号只能包含字母、数字和符号，不能有空格或中文。"))
        return text


def refusal_text(code: str | None, message: str, details: dict | None = None) -> str:
    known = ERRORS.get(code or "")
    text = str(known) if known is not None else message_text(message)
    reason = (details or {}).get("reason") if code == "coupon_not_applicable" else None
    return f"{text}（{message_text(reason)}）" if isinstance(reason, str) and reason else text


def present(view: dict[str, Any]) -> dict[str, Any]:
    """``selectors.counter_view`` with what the card shows: the offer in words, the state, where it was used."""
    t = CouponTemplate.objects.prefetch_related("stores").get(pk=view["template"]["id"])
    used_place = ""
    if view["state"] == "used":
        if view["used_channel"] == "counter" and view["used_store_id"]:
            used_place = Location.objects.filter(pk=view["used_store_id"]).values_list("name", flat=True).first() or ""
            receipt = Order.objects.filter(pk=view["used_order_id"]).values_list("external_ref", flat=True).first()
            if receipt:
                used_place = _("%(store)s（小票 %(receipt)s）") % {"store": used_place, "receipt": receipt}
        elif view["used_order_id"]:
            number = Order.objects.filter(pk=view["used_order_id"]).values_list("number", flat=True).first()
            used_place = _("线上订单 %(number)s") % {"number": number or ""}
        elif view["used_store_id"]:
            used_place = Location.objects.filter(pk=view["used_store_id"]).values_list("name", flat=True).first() or ""
    return {**view, "title": template_name(t), "offer_text": offer_text(t), "where": where_text(t),
            "validity": validity_text(t), "state_label": STATE_LABEL.get(view["state"], view["state"]),
            "used_place": used_place, "used_at_text": _local(view.get("used_at")),
            "receipt_needed": bool(needs_receipt(t)), "counter_used": view.get("used_channel") == "counter",
            "valid_until_text": _local(view["valid_until"]),
            "refusal_text": refusal_text(view["refusal_code"], view["refusal"] or "") if view["refusal_code"] else ""}


def _local(iso: str | None) -> str:
    return timezone.localtime(datetime.fromisoformat(iso)).strftime("%Y-%m-%d %H:%M") if iso else ""


def _card(request: HttpRequest, loc: Location, extra: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return counter_page(request, loc, extra, status=status)


def _lookup(code: str, loc: Location) -> dict[str, Any]:
    return present(selectors.counter_view(redemption.coupon_by_code(code), loc.pk))


@require_POST
@store_page(Perm.ORDER_VIEW)
def coupon_lookup(request: HttpRequest, loc: Location) -> HttpResponse:
    if not allowed(request, Perm.COUPON_REDEEM, loc):
        return refuse(request, Forbidden("没有权限 Forbidden", code="forbidden", details={}))
    form = CouponCodeForm(request.POST)
    if not form.is_valid():
        return _card(request, loc, {"coupon_form": form}, status=400)
    code = form.cleaned_data["coupon_code"]
    try:
        view = _lookup(code, loc)
    except ApiError as exc:
        return _card(request, loc, {"coupon_form": form, "coupon_error": {
            "code": exc.code, "text": refusal_text(exc.code, exc.message)}}, status=exc.status)
    return _card(request, loc, {"coupon_form": form, "coupon_view": view, "coupon_code": code,
                                "key_coupon": new_key(), "receipt_form": CouponReceiptForm()})


@require_POST
@store_page(Perm.ORDER_VIEW)
def coupon_redeem(request: HttpRequest, loc: Location) -> HttpResponse:
    if not allowed(request, Perm.COUPON_REDEEM, loc):
        return refuse(request, Forbidden("没有权限 Forbidden", code="forbidden", details={}))
    if request.POST.get("action") == "reverse":
        return coupon_reverse(request, loc)
    form = CouponCodeForm(request.POST)
    if not form.is_valid():
        return _card(request, loc, {"coupon_form": form}, status=400)
    code = form.cleaned_data["coupon_code"]
    receipt_form = CouponReceiptForm(request.POST)
    if not receipt_form.is_valid():
        try:
            view = _lookup(code, loc)
        except ApiError as exc:  # an unknown or foreign coupon: that is the answer, whatever the receipt says
            return _card(request, loc, {"coupon_form": form, "coupon_error": {
                "code": exc.code, "text": refusal_text(exc.code, exc.message)}}, status=exc.status)
        return _card(request, loc, {"coupon_form": form, "coupon_view": view, "coupon_code": code,
                                    "key_coupon": new_key(), "receipt_form": receipt_form}, status=400)
    receipt_no = receipt_form.cleaned_data["receipt_no"] or None
    user_id = request.actor.id  # type: ignore[attr-defined]

    def work() -> tuple[int, dict]:
        coupon = redemption.coupon_redeem_at_counter(code=code, store_id=loc.pk, user_id=user_id,
                                                     receipt_no=receipt_no)
        return 200, {"coupon": selectors.counter_view(coupon, loc.pk)}

    try:
        outcome = run_idempotent(operation=f"console.coupon_redeem:staff:{user_id}"[:64], key=form_key(request),
                                 payload={"location_id": loc.pk, "code": code, "receipt_no": receipt_no}, work=work)
    except ApiError as exc:
        text = refusal_text(exc.code, exc.message, exc.details)
        status = exc.status if 400 <= exc.status < 500 else 409
        if exc.code in RECEIPT_CODES:  # beside the receipt field; corrected, it is a new request (a new key:
            receipt_form.add_error("receipt_no", text)  # the refusal is stored under the old one)
            try:
                view = _lookup(code, loc)
            except ApiError:
                view = None
            return _card(request, loc, {"coupon_form": form, "coupon_view": view, "coupon_code": code,
                                        "key_coupon": new_key(), "receipt_form": receipt_form}, status=status)
        extra: dict[str, Any] = {"coupon_form": form, "coupon_error": {"code": exc.code, "text": text}}
        try:
            extra["coupon_view"] = _lookup(code, loc)  # as it stands now: used, expired...
        except ApiError:
            pass
        return _card(request, loc, extra, status=status)
    return _card(request, loc, {"coupon_form": CouponCodeForm(), "coupon_result": {
        "view": present(outcome.body["coupon"]), "replayed": outcome.replayed, "receipt_no": receipt_no},
        "key_reverse": new_key()})


def coupon_reverse(request: HttpRequest, loc: Location) -> HttpResponse:
    """撤销核销 of a coupon this store's counter redeemed (``coupon_id``), once; the result replaces the card."""
    raw = (request.POST.get("coupon_id") or "").strip()
    coupon_id = int(raw) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 18 else None
    if coupon_id is None or coupon_id <= 0:
        return _card(request, loc, {"coupon_error": {"code": "invalid_coupon_id", "title": _("不能撤销"),
                                                     "text": str(ERRORS["invalid_coupon_id"])}}, status=400)
    actor = request.actor  # type: ignore[attr-defined]

    def work() -> tuple[int, dict]:
        coupon, returned = redemption.coupon_reverse_at_counter(
            coupon_id=coupon_id, store_id=loc.pk, user_id=actor.id, same_day=actor.role in redemption.SAME_DAY_ROLES)
        return 200, {"coupon": selectors.counter_view(coupon, loc.pk), "returned": returned}

    try:
        outcome = run_idempotent(operation=f"console.coupon_reverse:staff:{actor.id}"[:64], key=form_key(request),
                                 payload={"location_id": loc.pk, "coupon_id": coupon_id}, work=work)
    except ApiError as exc:
        # htmx swaps only 2xx here (as the pick lines): the card with the refusal comes as a 200 to it.
        status = 200 if request.htmx else (exc.status if 400 <= exc.status < 500 else 409)  # type: ignore[attr-defined]
        return _card(request, loc, {"coupon_error": {"code": exc.code, "title": _("不能撤销"),
                                                     "text": refusal_text(exc.code, exc.message)}}, status=status)
    return _card(request, loc, {"coupon_reversed": {"view": present(outcome.body["coupon"]),
                                                    "returned": outcome.body["returned"],
                                                    "replayed": outcome.replayed}})
