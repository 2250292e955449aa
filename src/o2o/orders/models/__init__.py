"""The order center's models, one module per noun."""

from o2o.orders.models.cart import Cart, CartLine, CartStatus
from o2o.orders.models.delivery import (
    ACTIVE_TASK,
    AlertKind,
    CourierTask,
    DeliveryAlert,
    TaskStatus,
    TrackingEvent,
)
from o2o.orders.models.order import EventKind, FulfilmentChoice, Order, OrderEvent, OrderLine, OrderStatus
from o2o.orders.models.payment import (
    NoticeOutcome,
    Payment,
    PaymentNotice,
    PaymentStatus,
    Provider,
    Refund,
    RefundStatus,
)
from o2o.orders.models.returns import Return, ReturnLine, ReturnMethod, ReturnStatus
from o2o.orders.models.shipment import (
    CodeStatus,
    PickupCode,
    PickupVerification,
    Shipment,
    ShipmentLine,
    ShipmentMode,
    ShipmentStatus,
    VerifyResult,
)

__all__ = [
    "ACTIVE_TASK", "AlertKind", "Cart", "CartLine", "CartStatus", "CodeStatus", "CourierTask", "DeliveryAlert",
    "EventKind", "FulfilmentChoice", "NoticeOutcome", "Order", "OrderEvent", "OrderLine", "OrderStatus", "Payment",
    "PaymentNotice", "PaymentStatus", "PickupCode", "PickupVerification", "Provider", "Refund", "RefundStatus",
    "Return", "ReturnLine", "ReturnMethod", "ReturnStatus", "Shipment", "ShipmentLine", "ShipmentMode",
    "ShipmentStatus", "TaskStatus", "TrackingEvent", "VerifyResult",
]
