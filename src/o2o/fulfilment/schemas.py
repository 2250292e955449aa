"""Request and response schemas of the fulfilment API (they generate its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import field_validator

from o2o.inventory.validation import MAX_QTY

Coord = Literal["gcj02", "wgs84", "bd09"]
ChoiceIn = Literal["pickup", "fastest", "cheapest", "any", "same_city", "express"]
CHOICE_HELP = ("pickup: at pickup_location_id; fastest / cheapest / any: delivery by any mode; same_city / express: "
               "only that mode, routed as the quote's option of that kind")
_BIGINT = 2**63 - 1


class ErrorOut(Schema):
    code: str
    message: str
    details: Any


def with_errors(ok: dict[int, Any], *codes: int) -> dict[int, Any]:
    return {**ok, **{c: ErrorOut for c in (401, 403, 404, 422, *codes)}}


class LineIn(Schema):
    sku_id: int = Field(gt=0, le=_BIGINT)
    qty: int = Field(gt=0, le=MAX_QTY, description="a positive whole number of units")


class LineOut(Schema):
    sku_id: int
    qty: int


class QuoteIn(Schema):
    lines: list[LineIn] = Field(max_length=100, description="cart lines; the same SKU twice is merged")
    lat: float = Field(description="latitude in the datum named by coord")
    lng: float = Field(description="longitude in the datum named by coord")
    coord: Coord = "gcj02"
    pickup_location_id: int | None = Field(None, gt=0, le=_BIGINT, description="the customer's chosen pickup store")


class PointOut(Schema):
    lat: float
    lng: float
    coord: str


class EtaOut(Schema):
    earliest: datetime
    latest: datetime


class QuoteShipmentOut(Schema):
    location_id: int
    location_name: str
    location_code: str
    mode: str
    courier: str
    lines: list[LineOut]
    distance_m: int = Field(description="estimated road distance to the customer (0 for pickup)")
    fee_fen: int
    eta: EtaOut


class OptionOut(Schema):
    kind: Literal["pickup", "same_city", "express"]
    label: str
    label_en: str
    fee_fen: int = Field(description="what the customer pays: the plan's cash cost (pick/pack + courier/carrier)")
    eta: EtaOut = Field(description="when the whole cart has arrived (pickup: is ready)")
    shipments: list[QuoteShipmentOut]
    explanation: str
    distance_m: int | None = Field(None, description="pickup: straight-line distance to the store")
    location_id: int | None = Field(None, description="pickup: the store")
    ready_by: datetime | None = Field(None, description="pickup: the ready time shown (rounded up to 15 min)")


class QuoteOut(Schema):
    destination: PointOut
    now: datetime
    lines: list[LineOut]
    options: list[OptionOut]


class DecisionIn(Schema):
    order_ref: str = Field(min_length=1, max_length=100, pattern=r"^[!-~]+$",
                           description="the order's reference (printable ASCII, no spaces)")
    lines: list[LineIn] = Field(max_length=100)
    lat: float
    lng: float
    coord: Coord = "gcj02"
    choice: ChoiceIn = Field("any", description=CHOICE_HELP)
    pickup_location_id: int | None = Field(None, gt=0, le=_BIGINT)


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=200, description="why the store will not fulfil it")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason is required")
        return value.strip()


class ShipmentOut(Schema):
    id: int
    location_id: int
    location_name: str
    mode: str
    courier: str
    status: str
    status_reason: str
    reservation_id: int | None
    lines: list[LineOut]
    cost_fen: int
    eta: EtaOut


class UnfilledOut(Schema):
    sku_id: int
    qty: int
    reason: str
    detail: str


class DecisionOut(Schema):
    id: int
    order_ref: str
    parent_id: int | None
    source_shipment_id: int | None
    trigger: str
    choice: str
    destination: PointOut
    pickup_location_id: int | None
    shipments: list[ShipmentOut] = Field(description="the shipments at locations the caller may see (HQ: all)")
    hidden_shipments: int = Field(0, description="shipments at other locations, not shown to region or store staff")
    unfilled: list[UnfilledOut]
    explanation: str
    objective_fen: int
    cost_fen: int
    cash_fen: int
    policy: str
    excluded_location_ids: list[int]
    inputs: dict[str, Any]
    plan: dict[str, Any]
    created_at: datetime
    created_by_id: int | None
    actor_label: str


class HistoryOut(Schema):
    order_ref: str
    decisions: list[DecisionOut]
