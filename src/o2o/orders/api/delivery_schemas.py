"""Schemas of the same-city delivery endpoints (they generate the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from o2o.orders.api.schemas import EtaOut

_BIGINT = 2**63 - 1
FailureMode = Literal["no_rider", "rider_cancelled", "timeout"]


class RiderOut(Schema):
    name: str
    phone: str = Field(description="shown in full: the customer calls the rider, as in every delivery app")


class TrackingEventOut(Schema):
    status: str
    at: datetime = Field(description="the provider's time of the event")
    reason: str
    received_at: datetime


class CourierTaskOut(Schema):
    attempt: int
    provider: str = Field(description="dada | sf | own")
    shipment_ref: str
    external_id: str
    status: str
    fee_fen: int | None = Field(None, description="the courier's fee; staff only")
    rider: RiderOut | None
    failed_reason: str
    created_at: datetime
    updated_at: datetime
    events: list[TrackingEventOut]


class AlertOut(Schema):
    id: int
    kind: str
    message: str
    created_at: datetime
    resolved_at: datetime | None


class TrackingOut(Schema):
    shipment_id: int
    order_id: int
    order_number: str
    location_id: int
    location_name: str
    mode: str
    status: str
    courier: str
    eta: EtaOut | None
    handed_over_at: datetime | None
    completed_at: datetime | None
    tasks: list[CourierTaskOut] = Field(description="every dispatch attempt, first first")
    alerts: list[AlertOut] = Field(description="the store's exceptions for this shipment; staff only")


class AdvanceIn(Schema):
    minutes: int = Field(ge=0, le=24 * 60, description="how far to move the sandbox clock")


class AppliedOut(Schema):
    provider: str
    shipment_ref: str | None
    status: str | None
    outcome: str
    ack_status: int
    shipment_status: str | None = None
    at: datetime


class AdvanceOut(Schema):
    now: datetime = Field(description="the sandbox clock after the advance")
    callbacks: list[AppliedOut]


class FailIn(Schema):
    shipment_id: int = Field(gt=0, le=_BIGINT)
    mode: FailureMode | None = Field(description="null: the normal timeline again")


class FailOut(Schema):
    shipment_id: int
    shipment_ref: str
    provider: str
    mode: FailureMode | None


CallbackAck = dict[str, Any]
