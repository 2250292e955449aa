"""Chinese labels of statuses and kinds, and the message a customer sees for a service error."""

from __future__ import annotations

import re
from datetime import datetime

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from o2o.common.errors import ApiError
from o2o.core.orders import OrderStatus, ShipmentMode, ShipmentStatus
from o2o.fulfilment.quotes import day_word

ORDER_STATUS = {
    OrderStatus.PENDING_PAYMENT: _("待支付"),
    OrderStatus.PAID: _("已支付"),
    OrderStatus.ALLOCATED: _("已支付，等待门店备货"),
    OrderStatus.PICKING: _("门店备货中"),
    OrderStatus.READY_FOR_PICKUP: _("已备好，待自提"),
    OrderStatus.OUT_FOR_DELIVERY: _("配送中"),
    OrderStatus.SHIPPED: _("已发货"),
    OrderStatus.COMPLETED: _("已完成"),
    OrderStatus.CANCELLED: _("已取消"),
    OrderStatus.EXPIRED: _("已过期（未支付）"),
    OrderStatus.REFUNDED: _("已退款"),
}

SHIPMENT_STATUS = {
    ShipmentStatus.PENDING: _("待支付"),
    ShipmentStatus.ALLOCATED: _("待备货"),
    ShipmentStatus.PICKING: _("备货中"),
    ShipmentStatus.READY_FOR_PICKUP: _("待自提"),
    ShipmentStatus.AWAITING_COURIER: _("等待骑手取货"),
    ShipmentStatus.OUT_FOR_DELIVERY: _("骑手配送中"),
    ShipmentStatus.SHIPPED: _("快递运输中"),
    ShipmentStatus.COMPLETED: _("已完成"),
    ShipmentStatus.CANCELLED: _("已取消"),
    ShipmentStatus.REROUTED: _("已改由其他门店发货"),
}

MODE = {
    ShipmentMode.PICKUP: _("门店自提"),
    ShipmentMode.SAME_CITY: _("同城配送"),
    ShipmentMode.EXPRESS: _("快递"),
    ShipmentMode.COUNTER: _("门店购买"),
}

CHANNEL = {"mini_program": _("微信小程序"), "app": _("App"), "h5": _("H5 商城"), "pc": _("PC 商城"),
           "douyin": _("抖音"), "pos": _("门店 POS")}

PROVIDER = {"wechat": _("微信支付"), "alipay": _("支付宝"), "cash": _("现金")}

POINTS_KIND = {"earn": _("获得"), "spend": _("使用"), "expire": _("过期"), "reverse": _("退款扣回"),
               "restore": _("退回"), "debt": _("欠分")}

RETURN_STATUS = {"requested": _("已申请"), "received": _("已收货"), "refunded": _("已退款"),
                 "cancelled": _("已取消"), "rejected": _("已拒收")}

COURIER_EVENT = {"created": _("已下单"), "accepted": _("骑手已接单"), "arrived": _("骑手到店"),
                 "picked_up": _("骑手已取货"), "delivered": _("已送达"), "failed": _("配送失败"),
                 "cancelled": _("已取消")}

ERRORS = {
    "insufficient_stock": _("库存不足：有商品刚被买走，请调整数量或换一种配送方式。"),
    "cannot_fill": _("附近没有门店能满足购物车中的全部商品，请调整购物车。"),
    "total_changed": _("价格已变化，请确认新的总价后再提交。"),
    "empty_basket": _("购物车是空的。"),
    "unknown_sku": _("商品不存在或已下架。"),
    "invalid_quantity": _("数量应为 0 到 999。"),
    "too_many_lines": _("购物车商品种类太多了。"),
    "cart_closed": _("购物车已失效，请刷新页面。"),
    "idempotency_key_reused": _("这张表单已经提交过，请刷新页面后重试。"),
    "order_not_payable": _("订单不是待支付状态。"),
    "payment_deadline_passed": _("已超过支付期限，订单已失效。"),
    "payment_provider_error": _("支付渠道暂不可用，请稍后重试。"),
    "sandbox_cannot_pay": _("沙箱无法完成这笔支付。"),
    "coords_outside_china": _("坐标不在中国境内。"),
    "unknown_pickup_location": _("这家门店不支持自提。"),
    "unknown_location": _("门店不存在。"),
    "return_exceeds_quantity": _("退货数量超过了可退数量。"),
    "order_not_returnable": _("这个订单现在不能退货。"),
}


def zh(text: str) -> str:
    """The Chinese half of a bilingual service text ("下单 order placed" -> "下单"); in English, the whole text
    (it carries both halves, as the console shows it)."""
    if (get_language() or "").startswith("en"):
        return text
    return re.split(r"\s+(?=[A-Za-z])", text or "", maxsplit=1)[0].strip() or text


def day_text(at: datetime, now: datetime) -> str:
    """The day of ``at`` relative to ``now`` in the current language (今天 / today, 明天 / tomorrow, a date)."""
    zh_day, en_day = day_word(at, now)
    return en_day if (get_language() or "").startswith("en") else zh_day


def error_text(exc: ApiError) -> str:
    """A service error as the customer reads it: our sentence for known codes, else its Chinese half."""
    known = ERRORS.get(exc.code)
    if known is not None:
        return str(known)
    return zh(exc.message)
