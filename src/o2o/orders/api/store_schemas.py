"""Schemas of the store's endpoints (work queue, shipment steps, express delivered, pickup verification, alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import model_validator

_BIGINT = 2**63 - 1


class StoreLineOut(Schema):
    sku_id: int
    qty: int
    name: str


class StoreShipmentOut(Schema):
    id: int
    order_id: int
    order_number: str
    order_status: str
    location_id: int
    location_name: str
    mode: str
    status: str
    lines: list[StoreLineOut]
    courier: str
    tracking_no: str
    contact_name: str
    contact_phone: str = Field(description="masked")
    eta_earliest: datetime | None
    eta_latest: datetime | None
    pickup_deadline: datetime | None
    ready_at: datetime | None
    handed_over_at: datetime | None
    completed_at: datetime | None
    promise_at: datetime | None = Field(description="the pickup deadline once ready, else the promised latest ETA")
    minutes_left: int | None = Field(description="whole minutes until promise_at (negative when late)")
    late: bool


class RerouteOut(Schema):
    decision_id: int
    new_shipments: int = Field(description="shipments the routing engine made elsewhere")
    unfilled: list[dict] = Field(description="lines no other store could take (customer service follows up)")


class StoreShipmentActionOut(StoreShipmentOut):
    reroute: RerouteOut | None = None


class AlertOut(Schema):
    id: int
    shipment_id: int
    order_id: int
    order_number: str
    location_id: int
    kind: str
    message: str
    created_at: datetime
    resolved_at: datetime | None
    resolved_by: int | None


class QueueOut(Schema):
    location_id: int
    now: datetime
    to_pick: list[StoreShipmentOut] = Field(description="allocated or picking, most urgent first")
    ready_for_pickup: list[StoreShipmentOut] = Field(description="waiting for the customer, nearest deadline first")
    with_courier: list[StoreShipmentOut] = Field(description="awaiting the courier or out for delivery")
    late: int = Field(description="how many of these are past their promise")
    alerts: list[AlertOut] = Field(description="the store's open alerts, newest first")


class ReadyIn(Schema):
    tracking_no: str = Field("", max_length=64, description="express only (required there)")


class DeliveredIn(Schema):
    at: datetime | None = Field(None, description="when the parcel was signed for (with a time zone); "
                                                  "default now. Not before shipping, not in the future")


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=160)
    short: bool = Field(False, description="picking came up short (the goods are not there), not a refusal")


class VerifyIn(Schema):
    location_id: int = Field(gt=0, le=_BIGINT, description="the counter's store")
    code: str | None = Field(None, min_length=1, max_length=64, description="the 10-digit code as typed")
    qr: str | None = Field(None, min_length=1, max_length=512, description="the scanned QR payload")

    @model_validator(mode="after")
    def _one_of(self) -> VerifyIn:
        if (self.code is None) == (self.qr is None):
            raise ValueError("send exactly one of code and qr")
        return self


class HandOverLineOut(Schema):
    sku_id: int
    name: str
    barcode: str
    qty: int


class VerifyOut(Schema):
    result: Literal["ok"]
    order_id: int
    order_number: str
    order_status: str
    shipment: StoreShipmentOut
    lines: list[HandOverLineOut] = Field(description="what to hand over")
