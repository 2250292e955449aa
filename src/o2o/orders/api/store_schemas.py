"""Schemas of the store's endpoints (work queue, shipment steps, express delivered, pickup verification, alerts)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Field, Schema
from pydantic import model_validator

_BIGINT = 2**63 - 1


class StoreLineOut(Schema):
    sku_id: int = Field(description="also the line's id in .../lines/{sku_id}/pick (one line per SKU)")
    qty: int
    name: str
    picked_qty: int = Field(0, description="units confirmed picked (0..qty)")


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
    all_picked: bool = Field(description="every line fully confirmed picked (then it can be marked ready)")
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
    pick_all: bool = Field(False, description="for integrations (ERP, handhelds) that confirm picking in their "
                                              "own system: record every line as picked by the caller, then mark "
                                              "ready. Without it every line must have been picked "
                                              "(409 lines_not_picked)")


class PickIn(Schema):
    qty: int | None = Field(None, ge=0, le=1_000_000, description="units picked, an absolute count (default: the "
                                                                  "whole line; 0 takes the confirmation back)")


class PickedLineOut(Schema):
    sku_id: int
    qty: int
    picked_qty: int
    picked: bool = Field(description="picked_qty == qty")
    picked_at: datetime | None
    picked_by: int | None = Field(description="the staff user who confirmed it last")


class OpenLineOut(Schema):
    sku_id: int
    qty: int
    picked_qty: int


class PickOut(Schema):
    shipment_id: int
    shipment_status: str = Field(description="an allocated shipment starts picking with its first pick")
    line: PickedLineOut
    changed: bool = Field(description="false when the line already had this count (nothing recorded)")
    all_picked: bool
    open_lines: list[OpenLineOut] = Field(description="lines not yet fully picked")


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
