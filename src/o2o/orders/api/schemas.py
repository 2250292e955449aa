"""Schemas of the cart, checkout and order endpoints (they generate the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from ninja import Field, Schema

from o2o.fulfilment.schemas import CHOICE_HELP, ChoiceIn, ErrorOut, LineIn, LineOut, with_errors

__all__ = ["ErrorOut", "LineIn", "LineOut", "with_errors"]

Coord = Literal["gcj02", "wgs84", "bd09"]
OnlineChannel = Literal["mini_program", "app", "h5", "pc", "douyin"]
Choice = ChoiceIn  # the routing's choices (an order's ``counter`` is for POS sales only)
_BIGINT = 2**63 - 1


class CartLineIn(Schema):
    sku_id: int = Field(gt=0, le=_BIGINT)
    qty: int = Field(ge=0, le=999, description="the new quantity; 0 removes the line")


class CartAddIn(Schema):
    sku_id: int = Field(gt=0, le=_BIGINT)
    qty: int = Field(1, ge=1, le=999)


class CartLocationIn(Schema):
    location_id: int | None = Field(None, gt=0, le=_BIGINT, description="the customer's current store (its prices)")


class CartLineOut(Schema):
    sku_id: int
    name: str
    qty: int
    unit_price_fen: int
    list_price_fen: int
    subtotal_fen: int
    discount_fen: int
    payable_fen: int


class CartOut(Schema):
    id: int
    token: str | None = Field(None, description="keep it (X-Cart-Token) to find a visitor's cart again")
    member_id: int | None
    location_id: int | None
    channel: str
    status: str
    lines: list[CartLineOut]
    goods_fen: int
    discount_fen: int
    total_fen: int


class MergeIn(Schema):
    token: str = Field(min_length=1, max_length=100, description="the visitor's cart token")


class CheckoutIn(Schema):
    lines: list[LineIn] | None = Field(None, max_length=100, description="or leave empty to use the member's cart")
    channel: OnlineChannel = "h5"
    lat: float
    lng: float
    coord: Coord = "gcj02"
    price_location_id: int | None = Field(None, gt=0, le=_BIGINT)
    pickup_location_id: int | None = Field(None, gt=0, le=_BIGINT)
    coupon_ids: list[Annotated[int, Field(gt=0, le=_BIGINT)]] = Field(
        default_factory=list, max_length=10, description="the member's coupons to price in (GET /coupons/mine)")
    points: int = Field(0, ge=-1, le=_BIGINT, description="points to use as cash; -1: as many as allowed")


class CheckoutOptionOut(Schema):
    kind: str
    label: str
    label_en: str
    delivery_fee_fen: int
    total_fen: int
    detail: dict[str, Any]


class CheckoutOut(Schema):
    lines: list[CartLineOut]
    goods_fen: int
    discount_fen: int
    adjustments: list[dict[str, Any]]
    explanation: list[str]
    options: list[CheckoutOptionOut]
    marketing: dict[str, Any] = Field(default_factory=dict, description=(
        "what the pricing engine used: coupon_ids, rejected_coupons [{id, reason}], promotion_ids, points_used, "
        "points_fen, points_balance, gifts"))


class OrderIn(Schema):
    lines: list[LineIn] | None = Field(None, max_length=100, description="or leave empty to order the member's cart")
    channel: OnlineChannel
    choice: Choice = Field(description=f"{CHOICE_HELP} (the checkout option's kind places what it quoted)")
    lat: float = Field(description="the delivery address (or the customer's point for pickup)")
    lng: float
    coord: Coord = "gcj02"
    pickup_location_id: int | None = Field(None, gt=0, le=_BIGINT)
    price_location_id: int | None = Field(None, gt=0, le=_BIGINT)
    address: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=32, pattern=r"^[0-9+\- ]*$")
    utm_source: str = Field("", max_length=64)
    utm_medium: str = Field("", max_length=64)
    utm_campaign: str = Field("", max_length=64)
    expected_total_fen: int | None = Field(None, ge=0, le=_BIGINT,
                                           description="the total the customer saw; 409 total_changed if it differs")
    coupon_ids: list[Annotated[int, Field(gt=0, le=_BIGINT)]] = Field(
        default_factory=list, max_length=10,
        description="the member's coupons to use; 409 coupon_not_applicable if one cannot be used on this order")
    points: int = Field(0, ge=-1, le=_BIGINT, description="points to use as cash; -1: as many as allowed")
    pay_with: Literal["wechat", "alipay"] | None = Field(
        None, description="open the payment in the same call (as POST /payments would); the answer's `payment` "
                          "carries the pay sheet's parameters")
    payer_id: str | None = Field(None, min_length=1, max_length=128, description="WeChat JSAPI: the payer's openid")


class EtaOut(Schema):
    earliest: datetime
    latest: datetime


class ShipmentOut(Schema):
    id: int
    location_id: int
    location_name: str
    mode: str
    status: str
    lines: list[LineOut]
    courier: str
    tracking_no: str
    eta: EtaOut | None
    pickup_deadline: datetime | None
    ready_at: datetime | None
    completed_at: datetime | None
    pickup_code: str | None = Field(None, description="only for the member who owns the order, once ready")
    pickup_qr: str | None = Field(None, description="signed QR payload of the pickup code")


class OrderLineOut(Schema):
    id: int
    sku_id: int
    name: str
    qty: int
    unit_price_fen: int
    discount_fen: int
    payable_fen: int
    returned_qty: int
    refunded_fen: int


class UtmOut(Schema):
    source: str
    medium: str
    campaign: str


class OrderOut(Schema):
    id: int
    number: str
    status: str
    channel: str
    choice: str
    member_id: int | None
    store_id: int | None
    utm: UtmOut
    address: str
    contact_name: str
    contact_phone: str = Field(description="masked")
    goods_fen: int
    discount_fen: int
    delivery_fee_fen: int
    total_fen: int
    paid_fen: int
    refunded_fen: int
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    hidden_shipments: int
    created_at: datetime
    paid_at: datetime | None
    payment_deadline: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    routing_decision_id: int | None
    payment: dict[str, Any] | None = Field(None, description="with pay_with: the payment opened with the order "
                                                             "(as POST /payments answers)")
    payment_error: dict[str, Any] | None = Field(None, description="with pay_with: why the payment could not be "
                                                                   "opened (the order stands; call POST /payments)")


class OrderSummaryOut(Schema):
    id: int
    number: str
    status: str
    channel: str
    choice: str
    member_id: int | None
    store_id: int | None
    total_fen: int
    created_at: datetime


class OrderPageOut(Schema):
    count: int
    items: list[OrderSummaryOut]


class CancelIn(Schema):
    reason: str = Field("", max_length=200)


class HistoryEventOut(Schema):
    at: datetime
    kind: str
    from_status: str
    to_status: str
    shipment_id: int | None
    reason: str
    actor: str
