"""The admin theme's settings (django-unfold), kept beside the HQ pages; imported by config.settings.

Loaded while the settings load: nothing here imports a model or an app at import time (the
callbacks import what they need when a page asks for them).
"""

from __future__ import annotations

from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def _can(*perms: str):  # noqa: ANN202 - an unfold permission callback
    """Show a sidebar link only to someone who may open the page behind it."""

    def check(request) -> bool:  # noqa: ANN001
        return any(request.user.has_perm(p) for p in perms)

    return check


def can_see_dashboard(request) -> bool:  # noqa: ANN001
    """The HQ dashboard is for HQ and region staff (the page itself checks the same)."""
    from o2o.core.access import Perm, Role, role_perms

    user = request.user
    role = getattr(user, "role", "")
    return bool(user.is_authenticated and getattr(user, "scope", "") in ("hq", "region")
                and role in Role.__members__.values() and Perm.ORDER_VIEW in role_perms(Role(role)))


def environment(request) -> list[str]:  # noqa: ANN001
    """The label beside the user menu: which world this admin writes to."""
    from django.conf import settings

    payments = settings.O2O.get("PAYMENTS", {}).get("mode", "sandbox")
    if settings.DEBUG:
        return [str(_("开发环境")), "info"]
    if payments != "production":
        return [str(_("演示环境 · 沙箱支付")), "warning"]
    return [str(_("生产环境")), "danger"]


def _item(title: str, icon: str, app: str, model: str) -> dict:
    return {
        "title": title,
        "icon": icon,
        "link": reverse_lazy(f"admin:{app}_{model}_changelist"),
        "permission": _can(f"{app}.view_{model}", f"{app}.change_{model}"),
    }


# Tailwind's red, close to the storefront's brand colour (#d32f2f).
_RED = {
    "50": "oklch(97.1% .013 17.38)", "100": "oklch(93.6% .032 17.717)", "200": "oklch(88.5% .062 18.334)",
    "300": "oklch(80.8% .114 19.571)", "400": "oklch(70.4% .191 22.216)", "500": "oklch(63.7% .237 25.331)",
    "600": "oklch(57.7% .245 27.325)", "700": "oklch(50.5% .213 27.518)", "800": "oklch(44.4% .177 26.899)",
    "900": "oklch(39.6% .141 25.723)", "950": "oklch(25.8% .092 26.042)",
}

UNFOLD = {
    "SITE_TITLE": _("o2o 管理后台"),
    "SITE_HEADER": _("o2o 管理后台"),
    "SITE_SUBHEADER": _("全渠道零售中台"),
    "SITE_SYMBOL": "storefront",
    "SITE_URL": "/",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "ENVIRONMENT": "o2o.web.hq.unfold_settings.environment",
    "COLORS": {"primary": _RED},
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {
                "title": pgettext_lazy("admin menu", "总部"),
                "items": [
                    {"title": pgettext_lazy("admin menu", "总部看板"), "icon": "monitoring", "link": "/hq/", "permission": can_see_dashboard},
                    {"title": pgettext_lazy("admin menu", "后台首页"), "icon": "home", "link": reverse_lazy("admin:index")},
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "商品"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "商品 SPU"), "inventory_2", "catalog", "product"),
                    _item(pgettext_lazy("admin menu", "SKU"), "barcode", "catalog", "sku"),
                    _item(pgettext_lazy("admin menu", "价格覆盖"), "sell", "catalog", "priceoverride"),
                    _item(pgettext_lazy("admin menu", "品类"), "category", "catalog", "category"),
                    _item(pgettext_lazy("admin menu", "品牌"), "loyalty", "catalog", "brand"),
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "门店"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "网点"), "store", "stores", "location"),
                    _item(pgettext_lazy("admin menu", "区域"), "map", "stores", "region"),
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "库存"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "库存"), "warehouse", "inventory", "stock"),
                    _item(pgettext_lazy("admin menu", "库存流水"), "receipt_long", "inventory", "movement"),
                    _item(pgettext_lazy("admin menu", "预占"), "lock_clock", "inventory", "reservation"),
                    _item(pgettext_lazy("admin menu", "调拨"), "local_shipping", "inventory", "transfer"),
                    _item(pgettext_lazy("admin menu", "POS 设备"), "point_of_sale", "inventory", "posdevice"),
                    _item(pgettext_lazy("admin menu", "盘点标记"), "fact_check", "inventory", "countmark"),
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "订单"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "订单"), "shopping_bag", "orders", "order"),
                    _item(pgettext_lazy("admin menu", "发货"), "package_2", "orders", "shipment"),
                    _item(pgettext_lazy("admin menu", "支付"), "payments", "orders", "payment"),
                    _item(pgettext_lazy("admin menu", "退款"), "currency_exchange", "orders", "refund"),
                    _item(pgettext_lazy("admin menu", "退货"), "assignment_return", "orders", "return"),
                    _item(pgettext_lazy("admin menu", "配送任务"), "delivery_dining", "orders", "couriertask"),
                    _item(pgettext_lazy("admin menu", "配送告警"), "notification_important", "orders", "deliveryalert"),
                    _item(pgettext_lazy("admin menu", "自提核销"), "qr_code_scanner", "orders", "pickupverification"),
                    _item(pgettext_lazy("admin menu", "路由决策"), "alt_route", "fulfilment", "routingdecision"),
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "会员"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "会员"), "group", "accounts", "member"),
                    _item(pgettext_lazy("admin menu", "积分账户"), "account_balance_wallet", "members", "pointsaccount"),
                    _item(pgettext_lazy("admin menu", "积分流水"), "receipt", "members", "pointsentry"),
                    _item(pgettext_lazy("admin menu", "积分活动"), "celebration", "members", "pointscampaign"),
                    _item(pgettext_lazy("admin menu", "等级规则"), "workspace_premium", "members", "tierrule"),
                    _item(pgettext_lazy("admin menu", "会员等级"), "military_tech", "members", "tierstate"),
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "营销"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "促销活动"), "sell", "marketing", "promotion"),
                    _item(pgettext_lazy("admin menu", "优惠券模板"), "confirmation_number", "marketing", "coupontemplate"),
                    _item(pgettext_lazy("admin menu", "优惠券"), "local_activity", "marketing", "coupon"),
                    _item(pgettext_lazy("admin menu", "优惠券记录"), "history", "marketing", "couponevent"),
                    _item(pgettext_lazy("admin menu", "拼团活动"), "groups_3", "groupbuy", "groupdeal"),
                    _item(pgettext_lazy("admin menu", "团"), "diversity_3", "groupbuy", "group"),
                    _item(pgettext_lazy("admin menu", "社区团长"), "person_pin_circle", "groupbuy", "communityleader"),
                    _item(pgettext_lazy("admin menu", "A/B 实验"), "science", "experiments", "experiment"),
                    _item(pgettext_lazy("admin menu", "消息"), "sms", "notifications", "notification"),
                ],
            },
            {
                "title": pgettext_lazy("admin menu", "系统"),
                "collapsible": True,
                "items": [
                    _item(pgettext_lazy("admin menu", "员工"), "badge", "accounts", "user"),
                    _item(pgettext_lazy("admin menu", "用户组"), "groups", "auth", "group"),
                    _item(pgettext_lazy("admin menu", "API 令牌"), "key", "accounts", "apitoken"),
                    _item(pgettext_lazy("admin menu", "事件发件箱"), "outbox", "outbox", "outboxevent"),
                ],
            },
        ],
    },
}
