"""Chinese labels of the order center's codes as the console shows them (the models' labels are bilingual).

Kept here, in ``gettext_lazy``, so that the English pass translates them like any page text.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SHIPMENT_STATUS = {
    "pending": _("待支付"), "allocated": _("待拣货"), "picking": _("拣货中"), "ready_for_pickup": _("待自提"),
    "awaiting_courier": _("待骑手取货"), "out_for_delivery": _("配送中"), "shipped": _("已发快递"),
    "completed": _("已完成"), "cancelled": _("已取消"), "rerouted": _("已改派"),
}
ORDER_STATUS = {
    "pending_payment": _("待支付"), "paid": _("已支付"), "allocated": _("待拣货"), "picking": _("拣货中"),
    "ready_for_pickup": _("待自提"), "out_for_delivery": _("配送中"), "shipped": _("已发货"),
    "completed": _("已完成"), "cancelled": _("已取消"), "expired": _("已过期"), "refunded": _("已退款"),
}
MODE = {"pickup": _("门店自提"), "same_city": _("同城配送"), "express": _("快递"), "counter": _("门店现场")}
CHANNEL = {"h5": _("H5 商城"), "mini_program": _("小程序"), "app": _("App"), "pc": _("PC"), "douyin": _("抖音"),
           "pos": _("门店 POS")}
ALERT_KIND = {
    "courier_failed": _("配送异常"), "no_courier": _("无可用运力"), "late": _("超时"),
    "pickup_expired": _("自提超时"), "hold_lost": _("已打包商品被售出"),
}
TASK_STATUS = {
    "created": _("已下单"), "accepted": _("骑手已接单"), "arrived": _("骑手到店"), "picked_up": _("已取货"),
    "delivered": _("已送达"), "cancelled": _("已取消"), "failed": _("失败"),
}
PROVIDER = {"dada": _("达达快送"), "sf": _("顺丰同城"), "own": _("自有骑手")}
ROLE = {
    "hq_admin": _("总部管理员"), "region_manager": _("区域经理"), "store_manager": _("店长"), "clerk": _("店员"),
    "customer_service": _("客服"), "marketing": _("市场"),
}
RETURN_STATUS = {"requested": _("待收货"), "received": _("已收货"), "refunded": _("已退款"),
                 "rejected": _("已拒收"), "cancelled": _("已取消")}
MOVEMENT_KIND = {
    "receive": _("入库"), "sale": _("销售"), "adjust": _("调整"), "count": _("盘点"), "transfer_out": _("调出"),
    "transfer_in": _("调入"), "reserve": _("预占"), "release": _("释放"), "fulfil": _("出库"), "return": _("退货"),
}

# Service error codes the console explains in its own words (others show the service's Chinese message).
ERRORS = {
    "malformed": _("取货码格式不正确（应为 10 位数字）。"),
    "bad_signature": _("二维码无效或已过期，请让顾客刷新二维码或报取货码。"),
    "unknown": _("没有这个取货码。"),
    "wrong_store": _("该取货码不属于本店，请让顾客到下单时选择的门店取货。"),
    "not_ready": _("该订单尚未备好或已取消，不能取货。"),
    "used": _("该取货码已核销过，请勿重复交货。"),
    "expired": _("取货码已过期。"),
    "too_many_attempts": _("本店核销失败次数过多，请稍后再试。"),
    "illegal_transition": _("当前状态不能进行这一步（可能已被他人处理），请刷新页面查看。"),
    "hold_lost": _("这一单的库存预占已失效，不能备货完成；请报缺货，系统会改派或退款。"),
    "insufficient_stock": _("可用库存不足（已预占的库存属于订单，不能调整或调出）。"),
    "return_exceeds_quantity": _("退货数量超过可退数量（只有已交付的商品可以退）。"),
    "order_not_returnable": _("该订单不能退货（未支付、已取消或已过期）。"),
    "already_resolved": _("该异常已经处理过了。"),
    "tracking_no_required": _("快递发货需要填写运单号。"),
    "not_routed": _("该发货单不能改派。"),
    "idempotency_key_reused": _("表单已过期，请刷新页面后重试。"),
    "invalid_idempotency_key": _("表单已过期，请刷新页面后重试。"),
    "reason_required": _("请填写原因。"),
    "unknown_sku": _("商品不存在或已停用。"),
    "unknown_location": _("网点不存在或已停用。"),
    "same_location": _("调出与调入网点不能相同。"),
    "invalid_receipt": _("收货数量有误：每行应在 0 到发出数量之间。"),
    "unknown_order": _("没有找到该订单。"),
    "unknown_shipment": _("没有找到该发货单。"),
    "unknown_transfer": _("没有找到该调拨单。"),
    "forbidden": _("没有权限进行此操作。"),
    "concurrent_change": _("库存正在变化，请重试。"),
    "invalid_quantity": _("数量无效。"),
    "invalid_phone": _("手机号格式不正确。"),
    "lines_not_picked": _("还有商品未确认拣货，全部确认后才能备货完成。"),
    "not_picking": _("该发货单已备好或已改派，不能再修改拣货。"),
    "invalid_pick_qty": _("拣货数量应在 0 到该行数量之间。"),
    "unknown_line": _("该发货单没有这一行商品。"),
    "order_on_hold": _("该订单在等待拼团成团，暂不能拣货。"),
}
