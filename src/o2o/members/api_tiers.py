"""Members API: tiers (会员等级), mounted under ``/members`` by ``o2o.members.api``.

* ``GET /members/me/tier`` (the member): tier, benefits, figures, progress to the next tier, history.
* ``GET /members/{member_id}/tier`` (staff with ``order.view``): same access as the points
  look-up (``selectors.member_for_staff``: HQ all, store and region staff only members with an
  order at one of their locations, 404 otherwise); members get 403.
* ``POST /members/{member_id}/tier`` {tier, reason} (HQ admins only): set a tier by hand, written
  to the history as ``manual`` with the reason; 409 ``tier_unchanged`` if it is the current tier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema

from o2o.accounts.permissions import actor_of
from o2o.common.errors import Forbidden
from o2o.core.access import ActorKind, Role, ScopeKind
from o2o.fulfilment.schemas import with_errors
from o2o.members import selectors
from o2o.members.tiers import tier_set_manual, tier_view
from o2o.orders.api.common import member_of

router = Router(tags=["members"])

TierName = Literal["normal", "silver", "gold", "diamond"]


class BenefitsOut(Schema):
    discount_percent: int = Field(description="% off goods at checkout (5 = 95折)")
    free_delivery: bool
    free_installation: bool = Field(description="免费安装 / 上门服务")
    dedicated_service: bool = Field(description="专属客服")


class ProgressOut(Schema):
    next_tier: TierName
    next_label: str
    next_label_en: str
    threshold: int = Field(description="the next tier's threshold (fen of 12-month spend, or growth)")
    remaining: int = Field(description="what is still missing, in the basis' unit (fen for spend_12m)")
    share: float = Field(description="0..1 of the way")


class TierRowOut(Schema):
    tier: TierName
    label: str
    label_en: str
    threshold: int
    benefits: BenefitsOut
    current: bool


class TierChangeOut(Schema):
    from_tier: TierName
    to_tier: TierName
    reason: Literal["upgrade", "review", "manual"]
    note: str
    at: datetime
    growth: int
    spend_12m_fen: int


class TierOut(Schema):
    member_id: int
    tier: TierName
    label: str = Field(description="普通会员 / 白银会员 / 黄金会员 / 钻石会员")
    label_en: str
    since: datetime | None = Field(description="when the member got this tier (null: never changed)")
    protected_until: datetime | None = Field(description="not lowered by a review before this")
    basis: Literal["spend_12m", "growth"]
    value: int = Field(description="the basis' figure now")
    growth: int
    spend_12m_fen: int = Field(description="net paid spend of orders completed in the last 12 months, every channel")
    benefits: BenefitsOut
    progress: ProgressOut | None = Field(description="null at the top tier")
    tiers: list[TierRowOut]
    history: list[TierChangeOut] = Field(description="the last 50 changes, newest first")


class TierSetIn(Schema):
    tier: TierName
    reason: str = Field(min_length=2, max_length=200, description="why (kept in the history)")


@router.get("/me/tier", response=with_errors({200: TierOut}), summary="My tier, benefits and progress")
def my_tier(request: HttpRequest):
    return tier_view(member_of(request).pk)


@router.get("/{int:member_id}/tier", response=with_errors({200: TierOut}),
            summary="A member's tier (staff with order.view; store staff: members of their stores)")
def member_tier(request: HttpRequest, member_id: int):
    member = selectors.member_for_staff(request, member_id)
    return tier_view(member.pk)


@router.post("/{int:member_id}/tier", response=with_errors({200: TierOut}),
             summary="Set a member's tier by hand (HQ admins; reason required)")
def set_member_tier(request: HttpRequest, member_id: int, body: TierSetIn):
    actor = actor_of(request)
    if actor.kind is not ActorKind.STAFF or actor.scope is not ScopeKind.HQ or actor.role is not Role.HQ_ADMIN:
        raise Forbidden("仅总部管理员可调整会员等级 Only HQ admins set tiers", details={"permission": "tier.set"})
    member = selectors.member_for_staff(request, member_id)  # 404 for an unknown member
    tier_set_manual(member_id=member.pk, tier=body.tier, reason=body.reason, by_user_id=actor.id)
    return tier_view(member.pk)
