"""Members API: points (积分); tiers (会员等级) in ``o2o.members.api_tiers``, mounted here.

* ``GET /members/me/points`` (the member): balance, debt, lots with expiry, the last 50 entries.
* ``GET /members/{member_id}/points`` (staff with ``order.view``): HQ sees every member; store
  and region staff only members with an order at one of their locations (404 otherwise, so
  a member id reveals nothing); members get 403.
* ``POST /members/me/sign-in`` (the member): the daily sign-in's points (``members.actions``), once per
  China day (409 ``signed_in_today``).
* ``POST /members/me/points/deduction-quote`` {order_total_fen}: the most points usable on an
  order of that amount and their value (``O2O["POINTS"]`` deduction settings).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Router, Schema

from o2o.core.loyalty import max_deductible
from o2o.fulfilment.schemas import with_errors
from o2o.members import actions, selectors
from o2o.members.api_tiers import router as tiers_router
from o2o.members.points import deduction_rule
from o2o.members.schemas import DeductionQuoteIn, DeductionQuoteOut, PointsOut
from o2o.orders.api.common import member_of

router = Router(tags=["members"])
router.add_router("", tiers_router)  # tiers: /me/tier, /{member_id}/tier (o2o.members.api_tiers)


@router.get("/me/points", response=with_errors({200: PointsOut}), summary="My points: balance, lots, history")
def my_points(request: HttpRequest):
    return selectors.points_view(member_of(request).pk)


class SignInOut(Schema):
    date: str = Field(description="the China date signed in for")
    points: int = Field(description="points earned (0 once the day's cap is reached)")


@router.post("/me/sign-in", response=with_errors({200: SignInOut}, 409), summary="Daily sign-in (签到) for points")
def sign_in(request: HttpRequest):
    return actions.sign_in(member_id=member_of(request).pk)


@router.post("/me/points/deduction-quote", response=with_errors({200: DeductionQuoteOut}),
             summary="How many points may pay for an order of this amount")
def deduction_quote(request: HttpRequest, body: DeductionQuoteIn):
    available = selectors.available_points(member_of(request).pk)
    rule = deduction_rule()
    quote = max_deductible(available, body.order_total_fen, rule)
    return {"points": quote.points, "fen": quote.fen, "available": available,
            "points_per_yuan": rule.points_per_yuan, "max_share_percent": rule.max_share_percent}


@router.get("/{int:member_id}/points", response=with_errors({200: PointsOut}),
            summary="A member's points (staff with order.view; store staff: members of their stores)")
def member_points(request: HttpRequest, member_id: int):
    member = selectors.member_for_staff(request, member_id)
    return selectors.points_view(member.pk)
router.add_router("", "o2o.members.api_identities.router")  # OneID: identities, identify, merges
router.add_router("", "o2o.members.api_privacy.router")  # PIPL: phone reveal, export, deletion
router.add_router("", "o2o.members.api_codes.router")  # member code (会员码): /me/code
