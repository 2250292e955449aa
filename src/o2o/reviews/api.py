"""Reviews API (评价), mounted at ``/reviews``.

* ``POST /reviews`` {order_line_id, rating, text} (the member, ``Idempotency-Key``): 201 the review with the
  points it earned. Only a line of the member's own order (anyone else's: 404 ``unknown_order_line``), once
  the order is completed (409 ``order_not_completed``), not a refunded line (409 ``line_refunded``), once per
  line (409 ``already_reviewed``); text stripped, at most 500 characters (422 ``review_text_too_long``).
* ``GET /reviews/mine`` (the member): their reviews, hidden ones too.
* ``GET /reviews?sku_id=`` (public, no sign-in needed): visible reviews, newest first, paginated
  (``limit``/``offset``), the reviewer as a masked name; ``count`` and ``average_rating`` of the visible ones.
* ``POST /reviews/{id}/hide`` {reason} (HQ staff with ``catalog.edit``): moderation; the points stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from o2o.accounts.permissions import require
from o2o.core.access import Perm
from o2o.fulfilment.schemas import with_errors
from o2o.orders.api.common import IdemKey, idempotent, member_of
from o2o.reviews import selectors, services
from o2o.reviews.models import REASON_MAX

router = Router(tags=["reviews"])
_BIGINT = 2**63 - 1


class ReviewIn(Schema):
    order_line_id: int = Field(ge=1, le=_BIGINT, description="the line of one of the member's own orders")
    rating: int = Field(ge=1, le=5, strict=True, description="stars, 1..5 (an integer: true is not 1)")
    text: str = Field("", max_length=2000, description="at most 500 characters once stripped; may be empty")


class HideIn(Schema):
    reason: str = Field(min_length=1, max_length=REASON_MAX)


class ReviewOut(Schema):
    id: int
    sku_id: int
    order_id: int
    order_line_id: int
    rating: int
    text: str
    created_at: datetime
    hidden: bool
    points_earned: int = Field(description="points the review earned (0 once the day's cap is reached)")


class PublicReviewOut(Schema):
    id: int
    sku_id: int
    rating: int
    text: str
    created_at: datetime
    reviewer: str = Field(description="masked: 张** (first character of the name) or 匿名会员; never a phone or its digits")


class ReviewPageOut(Schema):
    sku_id: int
    count: int = Field(description="visible reviews of the SKU")
    average_rating: float | None = Field(description="their average rating, None when there is none")
    limit: int
    offset: int
    items: list[PublicReviewOut]


@router.post("", response=with_errors({201: ReviewOut}, 409), summary="Review a line of my completed order (评价)")
def review_create(request: HttpRequest, body: ReviewIn, idempotency_key: str | None = IdemKey):
    member = member_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        review = services.review_create(member=member, order_line_id=body.order_line_id, rating=body.rating,
                                        text=body.text)
        return 201, ReviewOut.model_validate(selectors.review_dict(review, public=False)).model_dump(mode="json")

    return idempotent(request, "reviews.create", idempotency_key, body.model_dump(mode="json"), work)


@router.get("/mine", response=with_errors({200: list[ReviewOut]}), summary="My reviews")
def my_reviews(request: HttpRequest, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0, le=10**6)):
    return selectors.mine(member_of(request).pk, limit=limit, offset=offset)


@router.get("", response=with_errors({200: ReviewPageOut}), auth=None,
            summary="A SKU's visible reviews, newest first, with their count and average (public)")
def sku_reviews(request: HttpRequest, sku_id: int = Query(..., ge=1, le=_BIGINT),
                limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=1000)):
    return selectors.public_page(sku_id, limit=limit, offset=offset)


@router.post("/{int:review_id}/hide", response=with_errors({200: ReviewOut}),
             summary="Hide a review (HQ moderation, catalog.edit); its points are not taken back")
def review_hide(request: HttpRequest, review_id: int, body: HideIn):
    require(request, Perm.CATALOG_EDIT)
    review = services.review_hide(review_id=review_id, reason=body.reason)
    return selectors.review_dict(review, public=False)
