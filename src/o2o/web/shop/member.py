"""The member center: tier (benefits, progress to the next tier, history), points and their history,
orders of every channel, returns, coupons (how many are usable, and a link to the coupon center
``/shop/coupons``); and a return request for a completed order."""

from __future__ import annotations

import secrets

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from o2o.common.errors import ApiError
from o2o.core.orders import OrderStatus
from o2o.inventory.idempotency import run_idempotent
from o2o.marketing.selectors import wallet
from o2o.members.selectors import points_view
from o2o.members.tiers import tier_view
from o2o.orders import returns, selectors
from o2o.orders.actors import by_actor
from o2o.orders.api.returns import _visible as visible_returns
from o2o.orders.api.returns import return_dict
from o2o.orders.models import Return
from o2o.web.auth import current_member, member_required
from o2o.web.shop.labels import CHANNEL, ORDER_STATUS, POINTS_KIND, RETURN_STATUS, error_text
from o2o.web.shop.pages import page, text
from o2o.web.shop.payment import own_order
from o2o.web.shop.state import current_point, nearby_stores

ORDERS_PER_PAGE = 10
RETURNABLE = {OrderStatus.COMPLETED}


TIER_LABEL = {"normal": gettext_lazy("普通会员"), "silver": gettext_lazy("白银会员"),
              "gold": gettext_lazy("黄金会员"), "diamond": gettext_lazy("钻石会员")}
TIER_REASON = {"upgrade": gettext_lazy("消费升级"), "review": gettext_lazy("月度评定"),
               "manual": gettext_lazy("总部调整")}


def tier_card(member_id: int) -> dict:
    """``members.tiers.tier_view`` with the labels in the page's language and the 折 of each discount."""
    view = tier_view(member_id)
    view["label"] = TIER_LABEL[view["tier"]]
    for row in view["tiers"]:
        row["label"] = TIER_LABEL[row["tier"]]
        row["zhe"] = 100 - row["benefits"]["discount_percent"]
    view["zhe"] = 100 - view["benefits"]["discount_percent"]
    if view["progress"]:
        view["progress"]["label"] = TIER_LABEL[view["progress"]["next_tier"]]
        view["progress"]["percent"] = round(view["progress"]["share"] * 100)
    for h in view["history"]:
        h["from_label"], h["to_label"] = TIER_LABEL[h["from_tier"]], TIER_LABEL[h["to_tier"]]
        h["reason_label"] = TIER_REASON.get(h["reason"], h["reason"])
    return view


@member_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    member = current_member(request)
    assert member is not None
    points = points_view(member.pk)
    for e in points["entries"]:
        e["label"] = POINTS_KIND.get(e["kind"], e["kind"])
    number = request.GET.get("page", "1")
    orders = Paginator(selectors.order_list(member_id=member.pk), ORDERS_PER_PAGE).get_page(
        number if number.isascii() and number.isdigit() and len(number) < 8 else 1)
    rows = [{"order": o, "status_label": ORDER_STATUS.get(o.status, o.status),
             "channel_label": CHANNEL.get(o.channel, o.channel), "returnable": o.status in RETURNABLE}
            for o in orders.object_list]
    rets = [{**return_dict(r), "status_label": RETURN_STATUS.get(r.status, r.status)} for r in
            visible_returns(Return.objects.select_related("order", "location"), member_id=member.pk,
                            locations=None).order_by("-created_at")[:20]]
    usable = wallet(member.pk, state="available")
    return page(request, "web/shop/me.html", {"member": member, "points": points, "tier": tier_card(member.pk),
                                              "orders": orders, "rows": rows, "returns": rets,
                                              "coupons_usable": len(usable)})


def _return_context(request: HttpRequest, order, key: str, error: str = "", posted=None) -> dict:  # noqa: ANN001
    posted = posted or {}
    lines = [{"id": ln.pk, "name": ln.name, "qty": ln.qty, "left": max(0, ln.qty - ln.returned_qty),
              "wanted": posted.get(f"qty_{ln.pk}", "0")} for ln in order.lines.all()]
    stores = {s.location_id: s.location.name for s in order.shipments.all()}
    for loc, _dist in nearby_stores(current_point(request).latlng, limit=5):
        stores.setdefault(loc.pk, loc.name)
    return {"order": order, "lines": lines, "stores": stores.items(), "key": key, "error": error,
            "posted": posted}


@member_required
@require_http_methods(["GET", "POST"])
def return_request(request: HttpRequest, order_id: int) -> HttpResponse:
    order = own_order(request, order_id, prefetch=True)
    if order.status not in RETURNABLE:
        return redirect(f"/shop/orders/{order.pk}")
    if request.method == "GET":
        return page(request, "web/shop/return.html", _return_context(request, order, secrets.token_urlsafe(18)))
    post = request.POST
    lines, bad = [], False
    for ln in order.lines.all():
        raw = post.get(f"qty_{ln.pk}", "0").strip() or "0"
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
            bad = True
        elif int(raw) > 0:
            lines.append((ln.pk, int(raw)))
    method = post.get("method", "")
    location = post.get("location_id", "")
    key = post.get("idem", "")[:120]
    error = ""
    if bad or not lines:
        error = _("请填写要退的数量（至少一件）。")
    elif method not in ("store", "courier"):
        error = _("请选择退货方式。")
    elif not (location.isascii() and location.isdigit()) or len(location) > 18:
        error = _("请选择退回的门店。")
    elif not key:
        error = _("表单已失效，请刷新页面。")
    if error:
        return page(request, "web/shop/return.html", _return_context(request, order, key or secrets.token_urlsafe(18),
                                                                     error, post), status=400)
    member = current_member(request)
    by = by_actor(request.actor)  # type: ignore[attr-defined]
    reason = text(post.get("reason"), 200)
    payload = {"order_id": order.pk, "lines": lines, "method": method, "location_id": int(location), "reason": reason}

    def work() -> tuple[int, dict]:
        ret = returns.return_create(order_id=order.pk, lines=lines, method=method, location_id=int(location),
                                    reason=reason, by=by, requested_by_member_id=member.pk)
        return 201, {"return_id": ret.pk}

    try:
        run_idempotent(operation=f"shop.return:member:{member.pk}"[:64], key=key, payload=payload, work=work)
    except ApiError as exc:
        return page(request, "web/shop/return.html", _return_context(request, order, secrets.token_urlsafe(18),
                                                                     error_text(exc), post),
                    status=exc.status if exc.status < 500 else 409)
    return redirect("/shop/me#returns")
