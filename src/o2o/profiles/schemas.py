"""Request and response shapes of the profiles API (tags, segments)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema


class TagOut(Schema):
    name: str
    value: Any = Field(description="null when the tag does not apply (the explanation says why)")
    version: int
    explanation: str = Field(description="what data produced the value")
    visible: bool = Field(description="shown to the member themself")


class MemberTagsOut(Schema):
    member_id: int
    as_of: datetime | None = Field(description="the data cut-off of the last computation")
    computed_at: datetime | None
    tags: list[TagOut]


class SegmentIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=500)
    rule: dict[str, Any] = Field(description='{"all"|"any": [rules]} | {"not": rule} | '
                                             '{"tag": NAME, "eq|ne|gt|gte|lt|lte|in|contains|exists": operand}')


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    rule: dict[str, Any]
    created_at: datetime


class SegmentMemberOut(Schema):
    member_id: int
    display_name: str


class SegmentMembersOut(Schema):
    segment_id: int
    count: int = Field(description="members matching the rule now")
    limit: int
    offset: int
    members: list[SegmentMemberOut]
