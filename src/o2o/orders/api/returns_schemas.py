"""Schemas of the returns and POS order endpoints (they generate the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import AwareDatetime, model_validator

from o2o.orders.pos_orders import MAX_QTY, MAX_RECEIPT, MAX_UNIT_PRICE_FEN

_BIGINT = 2**63 - 1


class ReturnLineIn(Schema):
    order_line_id: int = Field(gt=0, le=_BIGINT, description="a line of the order (`lines[].id`)")
    qty: int = Field(ge=1, le=MAX_QTY, description="units to return")


class ReturnIn(Schema):
    order_id: int | None = Field(None, gt=0, le=_BIGINT, description="the order; or give its number")
    order_number: str | None = Field(None, min_length=1, max_length=32, description="as the customer shows it")
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=100)
    method: Literal["store", "courier"] = Field(
        description="store: handed over at the counter (staff; received and refunded at once); "
                    "courier: sent to `location_id`, refunded when that location receives it")
    location_id: int = Field(gt=0, le=_BIGINT, description="the store or warehouse the goods come back to")
    reason: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _one_order(self) -> ReturnIn:
        if (self.order_id is None) == (self.order_number is None):
            raise ValueError("give exactly one of order_id and order_number")
        return self


class ReturnCancelIn(Schema):
    reason: str = Field("", max_length=200)


class ReturnLineOut(Schema):
    id: int
    order_line_id: int
    sku_id: int
    name: str
    qty: int
    refund_fen: int


class ReturnOut(Schema):
    id: int
    number: str
    order_id: int
    order_number: str
    order_channel: str
    method: str
    location_id: int
    location_name: str
    status: str = Field(description="requested | received | refunded | rejected | cancelled")
    reason: str
    refund_fen: int = Field(description="what the return refunds (exact, fixed when it was requested)")
    lines: list[ReturnLineOut]
    requested_by_member_id: int | None
    created_at: datetime
    received_at: datetime | None


class ReturnPageOut(Schema):
    count: int
    items: list[ReturnOut]


class PosOrderLineIn(Schema):
    sku_id: int = Field(gt=0, le=_BIGINT)
    qty: int = Field(ge=1, le=MAX_QTY)
    unit_price_fen: int = Field(ge=0, le=MAX_UNIT_PRICE_FEN, description="the till's unit price, before the "
                                                                       "receipt's discount")


class PosOrderIn(Schema):
    location_id: int = Field(gt=0, le=_BIGINT, description="the till's store")
    receipt_no: str = Field(min_length=1, max_length=MAX_RECEIPT, pattern=r"^[!-~]+$",
                            description="unique per store: the same receipt again answers the first order")
    lines: list[PosOrderLineIn] = Field(min_length=1, max_length=100)
    paid_fen: int = Field(ge=0, le=_BIGINT, description="what the customer paid; at most the lines' subtotal "
                                                        "(the difference is the till's discount)")
    payment_method: Literal["cash", "wechat", "alipay", "card"]
    member_card: str | None = Field(None, min_length=1, max_length=40,
                                    description="the POS member card (门店会员卡) the customer showed: the member is "
                                                "found by its identity (OneID); unknown card: 404")
    member_id: int | None = Field(None, gt=0, le=_BIGINT, description=(
        "the member, when the till already knows them: only a member this store's staff just looked up by their "
        "member code or card (POST /members/lookup, within 30 minutes) or who has ordered at this store; "
        "HQ integrations may send any. Otherwise 403 member_not_presented"))
    occurred_at: AwareDatetime = Field(description="the sale's time, with a time zone")
