"""Request and response shapes of the members API (points)."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

_BIGINT = 2**53


class PointsLotOut(Schema):
    ref: str
    points: int
    remaining: int
    earned_at: datetime
    expires_at: datetime = Field(description="exclusive: usable until just before this instant")
    expired: bool = Field(description="past expiry, waiting for the expiry job")


class PointsEntryOut(Schema):
    kind: str = Field(description="earn / spend / expire / reverse / restore / debt")
    points: int = Field(description="signed")
    ref: str
    at: datetime


class PointsOut(Schema):
    member_id: int
    balance: int = Field(description="points in the lots")
    debt: int = Field(description="points owed after a refund took back points already spent")
    net: int = Field(description="balance - debt = the sum of the ledger; negative while in debt")
    available: int = Field(description="what can be spent now (valid lots - debt)")
    lots: list[PointsLotOut]
    entries: list[PointsEntryOut] = Field(description="the last 50, newest first")


class DeductionQuoteIn(Schema):
    order_total_fen: int = Field(ge=0, le=_BIGINT, description="what the points would apply to, in fen")


class DeductionQuoteOut(Schema):
    points: int = Field(description="the most points usable on this order")
    fen: int = Field(description="what they are worth")
    available: int
    points_per_yuan: int
    max_share_percent: int
