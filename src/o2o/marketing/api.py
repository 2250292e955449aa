"""Coupons API (mounted at ``/coupons``) and the member's home place (``/members/me/home``).

Members:
* ``GET /coupons/campaigns``: campaigns open to claim now (with what the member holds).
* ``POST /coupons/claim`` {template_id} (``Idempotency-Key``): 201 the coupon (a campaign with a points price
  is paid in points: 409 ``insufficient_points`` when they are not there); 409 ``coupon_sold_out``,
  ``coupon_limit_reached``, ``coupon_campaign_inactive``...; 403 ``coupon_not_claimable``/``coupon_tier_required``.
* ``GET /coupons/mine`` (?state=available|used|expired|void): the wallet, with codes (for the QR).
* ``PUT /members/me/home`` {lat, lng, coord}: the home place the 3 km campaigns read.

Store staff (``coupon.redeem`` / ``coupon.issue`` at the store; a clerk only at their own):
* ``GET /coupons/lookup?code=&location_id=``: what the counter sees before 核销 (masked member).
* ``POST /coupons/redeem`` {code, location_id, note, receipt_no} (``Idempotency-Key``): 核销, once; 409
  ``coupon_used``, ``coupon_expired``...; 403 ``coupon_not_valid_here`` for a coupon scoped to other stores.
  ``receipt_no``: the till's sale at this store the coupon is used on (checked by the pricing engine: 409
  ``coupon_not_applicable``; 404 ``unknown_receipt``); without it a coupon with a threshold or a category/SKU
  scope is 422 ``receipt_needed``.
* ``POST /coupons/{id}/reverse`` {location_id, note} (``Idempotency-Key``): 撤销核销 by the store that redeemed
  it at its counter (another store: 404), once (409 ``coupon_already_reversed``), within
  ``O2O["COUPON_REVERSE_WINDOW_MIN"]`` minutes, store managers and HQ the same China day (409
  ``reverse_window_passed``); the coupon is back in the wallet if still valid (``returned``).
* ``POST /coupons/issue`` {template_id, member_id, location_id} (``Idempotency-Key``): hand a staff-issuable
  coupon to a member the staff member may see (HQ: all; a store: members who ordered there), only a
  campaign valid at that store; the answer carries no code (the member shows theirs at the counter).

Marketing and HQ (``campaign.edit``):
* ``POST /coupons/campaigns/{id}/issue-nearby`` {location_id, radius_m, dry_run}: the 3 km campaign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema

from o2o.accounts.permissions import actor_of, require
from o2o.common.errors import Forbidden, NotFound
from o2o.core.access import ActorKind, Perm
from o2o.fulfilment.quotes import destination
from o2o.fulfilment.schemas import with_errors
from o2o.marketing import claims, counter_receipt, nearby, redemption, selectors
from o2o.marketing.models import CouponSource
from o2o.members.selectors import member_for_staff
from o2o.orders.api.common import IdemKey, idempotent, member_of

router = Router(tags=["coupons"])
members_router = Router(tags=["coupons"])

_BIGINT = 2**63 - 1
CouponState = Literal["available", "used", "expired", "void", "not_yet"]


class TemplateOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    kind: str
    offer: str = Field(description="the offer in words, e.g. 满¥50减¥10 ¥10 off over ¥50")
    threshold_fen: int
    amount_fen: int
    percent: int
    redeem_online: bool
    redeem_offline: bool
    store_ids: list[int] = Field(description="the stores it is valid at; empty: every store")
    channels: list[str]
    tiers: list[str]
    points_price: int | None = Field(None, description="积分兑换: points the member pays to claim it; null: free")


class CampaignOut(TemplateOut):
    held: int = Field(description="coupons of this campaign the member holds (any state)")
    member_limit: int
    left: int | None = Field(description="coupons left in the budget; null: no limit")
    can_claim: bool


class CouponOut(Schema):
    id: int
    code: str = Field(description="16 digits grouped 4-4-4-4; the QR code carries the same digits")
    template: TemplateOut
    state: CouponState
    source: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    used_at: datetime | None
    used_channel: str | None = Field(description="the online channel, or counter")
    used_store_id: int | None
    used_order_id: int | None


class IssuedOut(Schema):
    id: int
    template: TemplateOut
    state: CouponState
    source: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime


class CounterOut(CouponOut):
    member_id: int
    member_phone_masked: str
    member_name: str
    usable_here: bool
    refusal_code: str | None
    refusal: str | None
    receipt_needed: list[str] = Field(description=(
        "why the 核销 needs the sale's receipt_no: threshold, category, sku, exclude_sku; empty: it does not"))


class ClaimIn(Schema):
    template_id: int = Field(gt=0, le=_BIGINT)


class RedeemIn(Schema):
    code: str = Field(min_length=1, max_length=64, description="typed or scanned; spaces and full-width digits ok")
    location_id: int = Field(gt=0, le=_BIGINT)
    note: str = Field("", max_length=200)
    receipt_no: str | None = Field(None, pattern=counter_receipt.RECEIPT_PATTERN, description=(
        "the till's receipt of the sale the coupon is used on (a POS order of this store); needed for a coupon "
        "with a threshold or a category/SKU scope"))


class ReverseIn(Schema):
    location_id: int = Field(gt=0, le=_BIGINT, description="the store whose counter redeemed the coupon")
    note: str = Field("", max_length=200)


class ReverseOut(CouponOut):
    returned: bool = Field(description="back in the member's wallet; false: expired meanwhile, it stays used")


class IssueIn(Schema):
    template_id: int = Field(gt=0, le=_BIGINT)
    member_id: int = Field(gt=0, le=_BIGINT)
    location_id: int = Field(gt=0, le=_BIGINT)


class NearbyIn(Schema):
    location_id: int = Field(gt=0, le=_BIGINT)
    radius_m: int = Field(3000, ge=1, le=nearby.MAX_RADIUS_M)
    dry_run: bool = False


class NearbyOut(Schema):
    template_id: int
    location_id: int
    radius_m: int
    reached: int = Field(description="members whose home or recent place is within the radius")
    issued: int
    skipped: int = Field(description="members at their limit or outside the campaign's tiers")
    stopped: str | None = Field(description="why issuing stopped early, e.g. coupon_sold_out")
    dry_run: bool


class HomeIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    coord: Literal["gcj02", "wgs84", "bd09"] = "gcj02"


class HomeOut(Schema):
    lat: float
    lng: float
    coord: Literal["gcj02"] = "gcj02"


class WalletQuery(Schema):
    state: CouponState | None = None


@router.get("/campaigns", response=with_errors({200: list[CampaignOut]}), summary="Coupon campaigns open to claim")
def campaigns(request: HttpRequest):
    actor = actor_of(request)
    return selectors.claimable(actor.id if actor.kind is ActorKind.MEMBER else None)


@router.post("/claim", response=with_errors({201: CouponOut}, 409), summary="Claim a coupon (领券)")
def claim(request: HttpRequest, body: ClaimIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)

    def work() -> tuple[int, Any]:
        coupon = claims.coupon_issue(template_id=body.template_id, member=member, source=CouponSource.CLAIM)
        return 201, _coupon_body(coupon)
    return idempotent(request, "coupon.claim", idempotency_key, body.dict(), work)


@router.get("/mine", response=with_errors({200: list[CouponOut]}), summary="My coupons (券包)")
def mine(request: HttpRequest, q: Query[WalletQuery]):
    return selectors.wallet(member_of(request).pk, state=q.state)


@router.get("/lookup", response=with_errors({200: CounterOut}), summary="A coupon as the counter sees it")
def lookup(request: HttpRequest, code: str = Query(..., max_length=64), location_id: int = Query(..., gt=0,
                                                                                                  le=_BIGINT)):
    require(request, Perm.COUPON_REDEEM, location=location_id)
    coupon = redemption.coupon_by_code(code)
    return {**selectors.counter_view(coupon, location_id),
            "receipt_needed": counter_receipt.needs_receipt(coupon.template)}


@router.post("/redeem", response=with_errors({200: CouponOut}, 409), summary="Redeem a coupon at the counter (核销)")
def redeem(request: HttpRequest, body: RedeemIn, idempotency_key: str | None = IdemKey):
    actor = require(request, Perm.COUPON_REDEEM, location=body.location_id)

    def work() -> tuple[int, Any]:
        coupon = redemption.coupon_redeem_at_counter(code=body.code, store_id=body.location_id, user_id=actor.id,
                                                     note=body.note, receipt_no=body.receipt_no)
        return 200, _coupon_body(coupon)
    return idempotent(request, "coupon.redeem", idempotency_key, body.dict(), work)


@router.post("/{int:coupon_id}/reverse", response=with_errors({200: ReverseOut}, 409),
             summary="Reverse a counter redemption (撤销核销)")
def reverse(request: HttpRequest, coupon_id: int, body: ReverseIn, idempotency_key: str | None = IdemKey):
    actor = require(request, Perm.COUPON_REDEEM, location=body.location_id)

    def work() -> tuple[int, Any]:
        coupon, returned = redemption.coupon_reverse_at_counter(
            coupon_id=coupon_id, store_id=body.location_id, user_id=actor.id, note=body.note,
            same_day=actor.role in redemption.SAME_DAY_ROLES)
        return 200, {**_coupon_body(coupon), "returned": returned}
    return idempotent(request, "coupon.reverse", idempotency_key, {"coupon_id": coupon_id, **body.dict()}, work)


@router.post("/issue", response=with_errors({201: IssuedOut}, 409), summary="Hand a coupon to a member in store")
def issue(request: HttpRequest, body: IssueIn, idempotency_key: str | None = IdemKey):
    actor = require(request, Perm.COUPON_ISSUE, location=body.location_id)
    member = member_for_staff(request, body.member_id)  # a member the staff member may see, else 404
    if not member.is_active:
        raise NotFound("会员不存在 Unknown member", code="unknown_member", details={"member_id": body.member_id})
    template = claims.template_get(body.template_id)
    if template.stores.exists() and not template.stores.filter(pk=body.location_id).exists():
        raise Forbidden("该券不适用于本店 This coupon is not valid at this store", code="coupon_not_valid_here",
                        details={"template_id": template.pk})

    def work() -> tuple[int, Any]:
        coupon = claims.coupon_issue(template_id=body.template_id, member=member, source=CouponSource.STAFF,
                                     by_user_id=actor.id, store_id=body.location_id)
        # No code in the answer: the coupon is the member's to show; staff redeem what the member presents.
        return 201, selectors.coupon_json(coupon, timezone.now(), with_code=False)
    return idempotent(request, "coupon.issue", idempotency_key, body.dict(), work)


@router.post("/campaigns/{int:template_id}/issue-nearby", response=with_errors({200: NearbyOut}),
             summary="Issue a campaign to the members within R of a store (3 公里内用户专享券)")
def issue_nearby(request: HttpRequest, template_id: int, body: NearbyIn):
    actor = require(request, Perm.CAMPAIGN_EDIT)
    claims.template_get(template_id)
    return nearby.coupons_issue_nearby(template_id=template_id, location_id=body.location_id,
                                       radius_m=body.radius_m, by_user_id=actor.id, dry_run=body.dry_run)


@members_router.put("/me/home", response=with_errors({200: HomeOut}), summary="Set my home place (for offers nearby)")
def home_set(request: HttpRequest, body: HomeIn):
    member = member_of(request)
    point = destination(body.lat, body.lng, body.coord)
    nearby.reach_set(member.pk, lat=point.lat, lng=point.lng, kind="home")
    return {"lat": point.lat, "lng": point.lng}


def _coupon_body(coupon) -> dict[str, Any]:  # noqa: ANN001
    return selectors.coupon_json(coupon, timezone.now())
