"""Orders: statuses and their transitions, pickup codes, signed pickup QR, checkout totals, refunds.

Pure core (standard library only): no Django, no I/O, no clock (``now`` and randomness are
passed in).

* :mod:`.status` -- the explicit order and shipment transition tables, :func:`order_status_for`.
* :mod:`.pickup_code` -- 10-digit pickup codes with a Damm check digit.
* :mod:`.qr` -- HMAC-SHA256 signed QR payloads for pickup.
* :mod:`.checkout` -- the totals pipeline with pluggable discount steps.
* :mod:`.refunds` -- exact refunds for partial returns.
"""

from o2o.core.orders.checkout import (
    Adjustment,
    CartLine,
    PercentOff,
    PricedLine,
    PricingStep,
    Totals,
    allocate,
    format_fen,
    price,
)
from o2o.core.orders.pickup_code import (
    CODE_DIGITS,
    damm_check_digit,
    format_code,
    is_well_formed,
    new_code,
    normalize,
)
from o2o.core.orders.qr import MIN_KEY_BYTES, BadQr, QrClaims, sign, verify
from o2o.core.orders.refunds import refund_for
from o2o.core.orders.status import (
    ACTIVE_SHIPMENT,
    CANCELLABLE_ORDER,
    CANCELLABLE_SHIPMENT,
    CLOSED_ORDER,
    DROPPED_SHIPMENT,
    FULFILMENT_ORDER,
    ORDER_TRANSITIONS,
    REROUTABLE_SHIPMENT,
    SHIPMENT_TRANSITIONS,
    STAGE_ORDER,
    TERMINAL_ORDER,
    TERMINAL_SHIPMENT,
    IllegalTransition,
    OrderStatus,
    ShipmentMode,
    ShipmentStatus,
    can_cancel,
    check_order,
    check_shipment,
    order_status_for,
)

__all__ = [
    "ACTIVE_SHIPMENT",
    "CANCELLABLE_ORDER",
    "CANCELLABLE_SHIPMENT",
    "CLOSED_ORDER",
    "CODE_DIGITS",
    "DROPPED_SHIPMENT",
    "FULFILMENT_ORDER",
    "MIN_KEY_BYTES",
    "ORDER_TRANSITIONS",
    "REROUTABLE_SHIPMENT",
    "SHIPMENT_TRANSITIONS",
    "STAGE_ORDER",
    "TERMINAL_ORDER",
    "TERMINAL_SHIPMENT",
    "Adjustment",
    "BadQr",
    "CartLine",
    "IllegalTransition",
    "OrderStatus",
    "PercentOff",
    "PricedLine",
    "PricingStep",
    "QrClaims",
    "ShipmentMode",
    "ShipmentStatus",
    "Totals",
    "allocate",
    "can_cancel",
    "check_order",
    "check_shipment",
    "damm_check_digit",
    "format_code",
    "format_fen",
    "is_well_formed",
    "new_code",
    "normalize",
    "order_status_for",
    "price",
    "refund_for",
    "sign",
    "verify",
]
