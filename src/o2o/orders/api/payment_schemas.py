"""Schemas of the payment endpoints (they generate the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from o2o.orders.api.schemas import ErrorOut, with_errors

__all__ = ["ErrorOut", "PaymentIn", "PaymentListOut", "PaymentOut", "RefundOut", "SandboxPayIn", "SandboxPayOut",
           "with_errors"]

_BIGINT = 2**63 - 1


class PaymentIn(Schema):
    order_id: int = Field(gt=0, le=_BIGINT)
    provider: Literal["wechat", "alipay"]
    payer_id: str | None = Field(None, min_length=1, max_length=128,
                                 description="WeChat JSAPI / mini-program: the payer's openid; "
                                             "without it WeChat Pay opens an H5 payment for the caller's IP")


class PaymentOut(Schema):
    id: int
    order_id: int
    provider: str = Field(description="wechat, alipay, or cash (a zero-yuan order, paid at once)")
    out_trade_no: str
    amount_fen: int
    status: str = Field(description="created, paid or closed")
    refunded_fen: int
    transaction_id: str
    client_params: dict[str, Any] = Field(description="what the client passes to the provider's pay sheet: "
                                                      "WeChat JSAPI (appId, timeStamp, nonceStr, package, signType, "
                                                      "paySign) or H5 (h5_url); Alipay (order_string, pay_url)")
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None


class RefundOut(Schema):
    id: int
    payment_id: int
    out_refund_no: str
    amount_fen: int
    status: str = Field(description="processing, succeeded or failed")
    reason: str
    order_return_id: int | None
    created_at: datetime
    manual: bool = Field(False, description="money taken at a till: paid out by the store's staff, then settled here")


class SettleIn(Schema):
    note: str = Field("", max_length=200, description="e.g. cash handed back, receipt number")


class PaymentListOut(Schema):
    order_id: int
    order_status: str
    total_fen: int
    paid_fen: int
    refunded_fen: int
    payments: list[PaymentOut]
    refunds: list[RefundOut]


class SandboxPayIn(Schema):
    amount_fen: int | None = Field(None, gt=0, le=_BIGINT,
                                   description="tests: report another amount than the payment's (a mismatch)")


class SandboxPayOut(Schema):
    outcome: str = Field(description="the notice's outcome: applied, duplicate, late_refunded, amount_mismatch, ...")
    ack_status: int
    payment_id: int
    payment_status: str
    order_id: int
    order_status: str
