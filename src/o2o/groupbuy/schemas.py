"""Schemas of the group-buying endpoints (they generate the OpenAPI document)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from ninja import Field, Schema

from o2o.fulfilment.schemas import ChoiceIn, LineIn

_BIGINT = 2**63 - 1
Coord = Literal["gcj02", "wgs84", "bd09"]
OnlineChannel = Literal["mini_program", "app", "h5", "pc", "douyin"]
DeliveryChoice = Literal["any", "fastest", "cheapest", "same_city", "express"]


class DealOut(Schema):
    id: int
    name: str
    name_en: str
    sku_id: int
    sku_name: str
    list_price_fen: int
    deal_price_fen: int
    group_size: int
    window_hours: int
    starts_at: datetime
    ends_at: datetime
    store_id: int | None = Field(description="only as a pickup at this store; null: anywhere")
    member_limit: int = Field(description="units one member may buy in this deal")
    open_groups: int = Field(description="groups one may join now")


class PlaceOut(Schema):
    order_id: int
    order_number: str
    order_status: str
    total_fen: int
    payment_deadline: datetime | None = Field(description="pay by then (POST /payments), or the place is given back")
    on_hold: bool = Field(description="the stores wait until the group is full")
    qty: int
    joined_at: datetime
    dropped_at: datetime | None = Field(description="the order ended while the group was open: place given back")


class GroupOut(Schema):
    id: int
    deal_id: int
    deal_name: str
    sku_id: int
    deal_price_fen: int
    size: int
    joined: int
    places_left: int
    status: Literal["open", "full", "expired"]
    opened_at: datetime
    expires_at: datetime
    seconds_left: int
    full_at: datetime | None
    expired_at: datetime | None
    mine: PlaceOut | None = Field(description="the caller's own place and order, if any")


class JoinIn(Schema):
    qty: int = Field(1, ge=1, le=999, description="units of the deal's SKU (at most the deal's member_limit)")
    channel: OnlineChannel = "mini_program"
    choice: ChoiceIn = Field("pickup", description="how the order is fulfilled, as POST /orders takes it")
    lat: float = Field(description="the delivery address (or the customer's point for pickup)")
    lng: float
    coord: Coord = "gcj02"
    pickup_location_id: int | None = Field(None, gt=0, le=_BIGINT)
    price_location_id: int | None = Field(None, gt=0, le=_BIGINT)
    address: str = Field("", max_length=200)
    contact_name: str = Field("", max_length=64)
    contact_phone: str = Field("", max_length=32, pattern=r"^[0-9+\- ]*$")
    expected_total_fen: int | None = Field(None, ge=0, le=_BIGINT,
                                           description="the total the customer saw; 409 total_changed if it differs")


class LeaderOut(Schema):
    id: int
    name: str
    address: str
    lat: float
    lng: float
    location_id: int = Field(description="the store serving the point (its prices)")
    community_fee_fen: int = Field(description="what a community order pays instead of a delivery fee (fen)")
    distance_m: int | None = Field(description="from the point asked about, when one was given")


class CommunityOrderIn(Schema):
    leader_id: int = Field(gt=0, le=_BIGINT)
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    channel: OnlineChannel = "mini_program"
    choice: DeliveryChoice = Field("any", description="delivered to the leader's point: the routing decides "
                                                     "same-city from a store within reach, or express")
    coupon_ids: list[Annotated[int, Field(gt=0, le=_BIGINT)]] = Field(default_factory=list, max_length=10)
    points: int = Field(0, ge=-1, le=_BIGINT, description="points to use as cash; -1: as many as allowed")
    expected_total_fen: int | None = Field(None, ge=0, le=_BIGINT)


class CommunityOrderOut(Schema):
    order_id: int
    order_number: str
    order_status: str
    total_fen: int
    delivery_fee_fen: int = Field(description="the community fee, in place of the courier fee")
    slot_dates: list[date] = Field(description="delivery days of its runs to the point (empty: express)")
    payment_deadline: datetime | None
    leader_id: int
    leader_name: str
    leader_address: str
    created_at: datetime
    handed_over_at: datetime | None


class PointLineOut(Schema):
    sku_id: int
    name: str
    qty: int


class PointOrderOut(Schema):
    order_id: int
    order_number: str
    order_status: str
    leader_id: int
    member_name: str
    member_phone: str = Field(description="masked")
    lines: list[PointLineOut]
    created_at: datetime
    delivered: bool = Field(description="the goods reached the point (the order is completed)")
    handed_over_at: datetime | None
    slot_dates: list[date] = Field(description="delivery days of its runs to the point (empty: express)")
