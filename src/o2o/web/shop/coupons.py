"""The coupon center (领券中心, /shop/coupons): the campaigns open to claim and the member's wallet (我的券).

Visitors see the campaigns and a sign-in link; a signed-in member claims with a form that carries an
idempotency key made when the page was rendered (``claims.coupon_issue`` through
``inventory.idempotency.run_idempotent``, as the API's ``POST /coupons/claim``), so a double submit
answers the first claim instead of "limit reached". A refused claim (sold out, limit reached, the
member's tier...) is shown in Chinese beside the campaign's card.

The wallet (``marketing.selectors.wallet``) has three tabs: 可用 (usable, and those not valid yet),
已使用 (with where and when: the store, or the online order) and 已过期 (expired or voided). A usable
coupon shows its code grouped 4-4-4-4 and a QR code of the same 16 digits (the counter's scanner types
them), rendered inline as SVG by segno like the order page's pickup QR.

The wording of an offer is built here from the template's columns (``offer_text``), so that it is
translated like any page text; the services' bilingual ``describe()`` stays for the API and the admin.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from o2o.common.errors import ApiError
from o2o.inventory.idempotency import run_idempotent
from o2o.marketing import claims, selectors
from o2o.marketing.models import Coupon, CouponSource, CouponTemplate
from o2o.marketing.offers import OfferKind
from o2o.orders.models import Order
from o2o.stores.models import Location
from o2o.web.auth import current_member, member_required
from o2o.web.shop.labels import zh
from o2o.web.shop.pages import page

TABS = ("available", "used", "expired")
TAB_STATES = {"available": ("available", "not_yet"), "used": ("used",), "expired": ("expired", "void")}
TAB_LABEL = {"available": gettext_lazy("可用"), "used": gettext_lazy("已使用"), "expired": gettext_lazy("已过期")}
STATE_LABEL = {"available": gettext_lazy("可用"), "not_yet": gettext_lazy("未生效"), "used": gettext_lazy("已使用"),
               "expired": gettext_lazy("已过期"), "void": gettext_lazy("已作废")}
TIER_LABEL = {"normal": gettext_lazy("普通会员"), "silver": gettext_lazy("白银会员"),
              "gold": gettext_lazy("黄金会员"), "diamond": gettext_lazy("钻石会员")}
CLAIM_ERRORS = {
    "coupon_sold_out": gettext_lazy("来晚了，这个活动的券已经领完了。"),
    "coupon_limit_reached": gettext_lazy("你已领取过这张券，已达领取上限。"),
    "coupon_campaign_inactive": gettext_lazy("活动未在进行中。"),
    "coupon_not_claimable": gettext_lazy("这张券不能自行领取。"),
    "coupon_tier_required": gettext_lazy("这张券仅限指定等级的会员领取。"),
    "coupon_claim_not_started": gettext_lazy("还没到领取时间。"),
    "coupon_claim_ended": gettext_lazy("领取已结束。"),
    "coupon_campaign_expired": gettext_lazy("这个活动的券已过期。"),
    "unknown_coupon_template": gettext_lazy("活动不存在或已下线。"),
    "member_inactive": gettext_lazy("你的会员账号已停用。"),
    "insufficient_points": gettext_lazy("积分不足，无法兑换。"),
    "idempotency_key_reused": gettext_lazy("这张表单已经提交过，请刷新页面后重试。"),
}


def _english() -> bool:
    return (get_language() or "").startswith("en")


def money(fen: int | None) -> str:
    """¥10 / ¥9.90: coupon wording drops zero cents."""
    fen = int(fen or 0)
    return f"¥{fen // 100}" + (f".{fen % 100:02d}" if fen % 100 else "")


def offer_text(t: CouponTemplate) -> str:
    """What the coupon gives, in the page's language (from the template's columns)."""
    k = OfferKind
    if t.kind == k.AMOUNT_OFF:
        if not t.threshold_fen:
            return _("立减 %(off)s") % {"off": money(t.amount_fen)}
        if t.repeat:
            return _("每满 %(t)s 减 %(off)s") % {"t": money(t.threshold_fen), "off": money(t.amount_fen)}
        return _("满 %(t)s 减 %(off)s") % {"t": money(t.threshold_fen), "off": money(t.amount_fen)}
    if t.kind == k.PERCENT_OFF:
        words = [_("%(z)s 折") % {"z": 100 - t.percent}]
        if t.cap_fen:
            words.append(_("最高减 %(cap)s") % {"cap": money(t.cap_fen)})
        if t.threshold_fen:
            words.append(_("满 %(t)s 可用") % {"t": money(t.threshold_fen)})
        return _("，").join(words)
    if t.kind == k.FIXED_PRICE:
        return _("指定商品一口价 %(p)s") % {"p": money(t.amount_fen)}
    if t.kind == k.BUY_X_GET_Y:
        return _("买 %(b)s 赠 %(g)s") % {"b": t.buy_qty, "g": t.get_qty}
    if t.kind == k.FREE_GIFT:
        if t.threshold_fen:
            return _("满 %(t)s 送赠品 × %(n)s") % {"t": money(t.threshold_fen), "n": t.gift_qty}
        return _("赠品 × %(n)s") % {"n": t.gift_qty}
    if t.kind == k.SERVICE_VOUCHER:
        return _("%(service)s 服务券（价值 %(v)s）") % {"service": t.service, "v": money(t.amount_fen)}
    if t.kind == k.FREE_DELIVERY:
        if t.threshold_fen:
            return _("满 %(t)s 免配送费") % {"t": money(t.threshold_fen)}
        return _("免配送费")
    return zh(t.describe())


def template_name(t: CouponTemplate) -> str:
    return t.name_en if _english() and t.name_en else t.name


def where_text(t: CouponTemplate) -> str:
    """Where the coupon may be used: online and/or in store, which stores."""
    names = [s.name for s in t.stores.all()]
    stores = "、".join(names) if names else _("全部门店")
    if t.redeem_online and t.redeem_offline:
        return _("线上下单或到店使用 · %(stores)s") % {"stores": stores}
    if t.redeem_online:
        return _("仅限线上下单 · %(stores)s") % {"stores": stores}
    return _("仅限到店使用 · %(stores)s") % {"stores": stores}


def validity_text(t: CouponTemplate) -> str:
    if t.valid_days:
        return _("领取后 %(n)s 天内有效") % {"n": t.valid_days}
    return _("%(a)s 至 %(b)s 有效") % {"a": timezone.localtime(t.valid_from).strftime("%Y-%m-%d"),
                                      "b": timezone.localtime(t.valid_until).strftime("%Y-%m-%d")}


def coupon_qr_svg(digits: str) -> str:
    """The coupon's 16 digits as an inline SVG QR code (segno, as the order page draws the pickup QR)."""
    label = _("券码二维码")
    svg = segno.make(digits, error="m").svg_inline(scale=4, border=2, title=label)
    return mark_safe(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))  # noqa: S308


def _templates(ids: set[int]) -> dict[int, CouponTemplate]:
    return {t.pk: t for t in CouponTemplate.objects.filter(pk__in=ids).prefetch_related("stores")}


def campaign_cards(member_id: int | None, now: datetime) -> list[dict[str, Any]]:
    """The campaigns open to claim (``selectors.claimable``) with their wording in the page's language."""
    rows = selectors.claimable(member_id, now)
    templates = _templates({r["id"] for r in rows})
    out = []
    for r in rows:
        t = templates[r["id"]]
        out.append({**r, "title": template_name(t), "offer_text": offer_text(t), "where": where_text(t),
                    "validity": validity_text(t), "tier_labels": [str(TIER_LABEL.get(x, x)) for x in r["tiers"]],
                    "key": secrets.token_urlsafe(18)})
    return out


def _at(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def wallet_items(member_id: int, now: datetime) -> list[dict[str, Any]]:
    """The member's coupons (``selectors.wallet``: usable first) with their wording, dates and where used."""
    items = selectors.wallet(member_id, now=now)
    templates = _templates({i["template"]["id"] for i in items})
    stores = dict(Location.objects.filter(pk__in={i["used_store_id"] for i in items if i["used_store_id"]})
                  .values_list("pk", "name"))
    orders = dict(Order.objects.filter(pk__in={i["used_order_id"] for i in items if i["used_order_id"]})
                  .values_list("pk", "number"))
    out = []
    for i in items:
        t = templates[i["template"]["id"]]
        digits = i["code"].replace(" ", "")
        usable = i["state"] in ("available", "not_yet")
        out.append({**i, "title": template_name(t), "offer_text": offer_text(t), "where": where_text(t),
                    "state_label": STATE_LABEL.get(i["state"], i["state"]), "digits": digits,
                    "valid_from_at": _at(i["valid_from"]), "valid_until_at": _at(i["valid_until"]),
                    "used_at_at": _at(i["used_at"]), "used_place": _used_place(i, stores, orders),
                    "qr_svg": coupon_qr_svg(digits) if usable else ""})
    return out


def _used_place(item: dict[str, Any], stores: dict[int, str], orders: dict[int, str]) -> str:
    if item["state"] != "used":
        return ""
    if item["used_order_id"]:
        return _("线上订单 %(number)s") % {"number": orders.get(item["used_order_id"], "")}
    if item["used_store_id"]:
        return stores.get(item["used_store_id"], "")
    return _("线上订单")


def _tab(request: HttpRequest) -> str:
    tab = request.GET.get("tab", "")
    return tab if tab in TABS else "available"


def _render(request: HttpRequest, tab: str, *, errors: dict[int, str] | None = None, error: str = "",
            status: int = 200) -> HttpResponse:
    member = current_member(request)
    now = timezone.now()
    campaigns = campaign_cards(member.pk if member else None, now)
    errors = dict(errors or {})
    for c in campaigns:
        c["error"] = errors.pop(c["id"], "")
    error = error or " ".join(errors.values())  # a campaign no longer listed: its error on top
    wallet, counts = [], dict.fromkeys(TABS, 0)
    if member is not None:
        items = wallet_items(member.pk, now)
        for name, states in TAB_STATES.items():
            counts[name] = sum(1 for i in items if i["state"] in states)
        wallet = [i for i in items if i["state"] in TAB_STATES[tab]]
    tabs = [{"name": name, "label": TAB_LABEL[name], "count": counts[name], "current": name == tab} for name in TABS]
    return page(request, "web/shop/coupons.html", {"member": member, "campaigns": campaigns, "wallet": wallet,
                                                   "tab": tab, "tabs": tabs, "error": error}, status=status)


@require_GET
def coupons(request: HttpRequest) -> HttpResponse:
    return _render(request, _tab(request))


def claim_error_text(exc: ApiError) -> str:
    known = CLAIM_ERRORS.get(exc.code)
    return str(known) if known is not None else zh(exc.message)


@member_required
@require_POST
def claim(request: HttpRequest) -> HttpResponse:
    """领取: one coupon of the campaign for the signed-in member, once per rendered form."""
    member = current_member(request)
    assert member is not None
    raw = (request.POST.get("template_id") or "").strip()
    key = (request.POST.get("idem") or "").replace("\x00", "").strip()[:120]
    if not (raw.isascii() and raw.isdigit() and 0 < len(raw) < 19 and int(raw) > 0) or not key:
        return _render(request, "available", error=_("表单已失效，请刷新页面后重试。"), status=400)
    template_id = int(raw)

    def work() -> tuple[int, dict]:
        coupon = claims.coupon_issue(template_id=template_id, member=member, source=CouponSource.CLAIM)
        return 201, {"coupon_id": coupon.pk}

    try:
        run_idempotent(operation=f"shop.coupon_claim:member:{member.pk}"[:64], key=key,
                       payload={"template_id": template_id}, work=work)
    except ApiError as exc:
        status = exc.status if 400 <= exc.status < 500 else 409
        return _render(request, "available", errors={template_id: claim_error_text(exc)}, status=status)
    messages.success(request, _("领取成功，券已放入“我的券”。"))
    return redirect("/shop/coupons?tab=available#wallet")


def checkout_choices(member_id: int, now: datetime) -> list[tuple[int, str]]:
    """The member's coupons usable online now, as (id, what the checkout's select shows), soonest to expire first."""
    items = [i for i in selectors.wallet(member_id, state="available", now=now) if i["template"]["redeem_online"]]
    templates = _templates({i["template"]["id"] for i in items})
    return [(i["id"], _("%(offer)s · %(name)s · %(until)s 到期") % {
        "offer": offer_text(templates[i["template"]["id"]]), "name": template_name(templates[i["template"]["id"]]),
        "until": timezone.localtime(_at(i["valid_until"])).strftime("%m-%d")}) for i in items]


def coupon_titles(coupon_ids: list[int]) -> dict[int, str]:
    """The campaign names of these coupons, in the page's language (the checkout's adjustment lines)."""
    return {c.pk: template_name(c.template) for c in Coupon.objects.select_related("template").filter(pk__in=coupon_ids)}
