"""The counter's coupon card (核销优惠券): type or scan the code, see the coupon, confirm to redeem it.

1. Look-up (``POST .../counter/coupon``, a POST so the code never lands in a URL or an access log):
   ``redemption.coupon_by_code`` then ``selectors.counter_view`` at this store: the offer, the state,
   the member masked, and whether it may be used here (the refusal in Chinese if not).
2. Redeem (``POST .../counter/coupon/redeem``): ``redemption.coupon_redeem_at_counter`` through
   ``inventory.idempotency.run_idempotent`` with the key the look-up rendered, so a double submit
   answers the first result; a later attempt with the same code is 409 ``coupon_used``.

Who: ``coupon.redeem`` at this store (a clerk only at their own store; the page itself is the store's
counter, ``order.view``, so another store's counter is a 403 page as for every console page).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from o2o.common.errors import ApiError, Forbidden
from o2o.core.access import Perm
from o2o.inventory.idempotency import run_idempotent
from o2o.marketing import redemption, selectors
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
    "idempotency_key_reused": gettext_lazy("表单已过期，请重新查询券码。"),
    "invalid_idempotency_key": gettext_lazy("表单已过期，请重新查询券码。"),
}


def refusal_text(code: str | None, message: str) -> str:
    known = ERRORS.get(code or "")
    return str(known) if known is not None else message_text(message)


def present(view: dict[str, Any]) -> dict[str, Any]:
    """``selectors.counter_view`` with what the card shows: the offer in words, the state, where it was used."""
    t = CouponTemplate.objects.prefetch_related("stores").get(pk=view["template"]["id"])
    used_place = ""
    if view["state"] == "used":
        if view["used_order_id"]:
            number = Order.objects.filter(pk=view["used_order_id"]).values_list("number", flat=True).first()
            used_place = _("线上订单 %(number)s") % {"number": number or ""}
        elif view["used_store_id"]:
            used_place = Location.objects.filter(pk=view["used_store_id"]).values_list("name", flat=True).first() or ""
    return {**view, "title": template_name(t), "offer_text": offer_text(t), "where": where_text(t),
            "validity": validity_text(t), "state_label": STATE_LABEL.get(view["state"], view["state"]),
            "used_place": used_place, "used_at_text": _local(view.get("used_at")),
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
                                "key_coupon": new_key()})


@require_POST
@store_page(Perm.ORDER_VIEW)
def coupon_redeem(request: HttpRequest, loc: Location) -> HttpResponse:
    if not allowed(request, Perm.COUPON_REDEEM, loc):
        return refuse(request, Forbidden("没有权限 Forbidden", code="forbidden", details={}))
    form = CouponCodeForm(request.POST)
    if not form.is_valid():
        return _card(request, loc, {"coupon_form": form}, status=400)
    code = form.cleaned_data["coupon_code"]
    user_id = request.actor.id  # type: ignore[attr-defined]

    def work() -> tuple[int, dict]:
        coupon = redemption.coupon_redeem_at_counter(code=code, store_id=loc.pk, user_id=user_id)
        return 200, {"coupon": selectors.counter_view(coupon, loc.pk)}

    try:
        outcome = run_idempotent(operation=f"console.coupon_redeem:staff:{user_id}"[:64], key=form_key(request),
                                 payload={"location_id": loc.pk, "code": code}, work=work)
    except ApiError as exc:
        extra: dict[str, Any] = {"coupon_form": form, "coupon_error": {
            "code": exc.code, "text": refusal_text(exc.code, exc.message)}}
        try:
            extra["coupon_view"] = _lookup(code, loc)  # as it stands now: used, expired...
        except ApiError:
            pass
        return _card(request, loc, extra, status=exc.status if 400 <= exc.status < 500 else 409)
    return _card(request, loc, {"coupon_form": CouponCodeForm(), "coupon_result": {
        "view": present(outcome.body["coupon"]), "replayed": outcome.replayed}})
