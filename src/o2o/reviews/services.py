"""Writing and moderating reviews (评价).

* :func:`review_create`: a member reviews a line of their own completed order, once per line. The
  ``UNIQUE (order_line)`` constraint decides between two simultaneous submissions (the loser gets 409
  ``already_reviewed``); the points (``members.actions.points_for_action``, action ``review``, key the
  order line: once per line, capped per China day) are awarded in the same transaction and stored on the
  review (0 once the day's cap is reached).
* :func:`review_hide`: HQ moderation. A hidden review leaves the public list and the average. The points
  it earned are **not** taken back: they rewarded writing a review of a real purchase, and taking points
  back after the member may have spent them would need a debt for a judgement call; HQ can adjust points
  by hand when a review was abuse.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.common.errors import Conflict, InvalidInput, NotFound
from o2o.core.loyalty import Action
from o2o.members.actions import points_for_action
from o2o.orders.locks import lock_order
from o2o.orders.models import OrderLine, OrderStatus
from o2o.reviews.models import REASON_MAX, TEXT_MAX, Review

__all__ = ["clean_rating", "clean_text", "line_refunded", "review_create", "review_hide"]


def clean_rating(rating: object) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput("评分应为 1-5 星 Rating must be 1 to 5 stars", code="invalid_rating",
                           details={"field": "rating", "min": 1, "max": 5})
    return rating


def clean_text(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"评价内容最多 {TEXT_MAX} 字 Review text is at most {TEXT_MAX} characters",
                           code="review_text_too_long", details={"field": "text", "max": TEXT_MAX,
                                                                  "length": len(text)})
    return text


def line_refunded(line: OrderLine) -> bool:
    """Fully refunded: every unit returned, or every paid fen of a paid line back."""
    return line.returned_qty >= line.qty or (line.payable_fen > 0 and line.refunded_fen >= line.payable_fen)


def review_create(*, member: Member, order_line_id: int, rating: int, text: str = "",
                  now: datetime | None = None) -> Review:
    """The member's review of one line of their own order; see the module doc for the rules."""
    rating, text = clean_rating(rating), clean_text(text)
    now = now or timezone.now()
    with transaction.atomic():
        owner = OrderLine.objects.filter(pk=order_line_id, order__member_id=member.pk).values_list(
            "order_id", flat=True).first()
        # The order row is locked first (as refunds and returns lock it: ``orders.locks.lock_order``), so a
        # refund finishing at the same moment is seen, not raced.
        if owner is not None:
            lock_order(owner)
        line = None if owner is None else OrderLine.objects.select_related("order").filter(
            pk=order_line_id, order__member_id=member.pk).first()
        if line is None:  # someone else's line looks exactly like no line
            raise NotFound("订单商品不存在 Unknown order line", code="unknown_order_line",
                           details={"order_line_id": order_line_id})
        order = line.order
        if order.status == OrderStatus.REFUNDED or line_refunded(line):
            raise Conflict("该商品已退款，不能评价 This line was refunded and cannot be reviewed",
                           code="line_refunded", details={"order_line_id": line.pk})
        if order.status != OrderStatus.COMPLETED:
            raise Conflict("订单完成后才能评价 The order must be completed first", code="order_not_completed",
                           details={"order": order.number, "status": order.status})
        try:
            with transaction.atomic():
                review = Review.objects.create(member=member, order=order, order_line=line, sku_id=line.sku_id,
                                               rating=rating, text=text, created_at=now)
        except IntegrityError as exc:
            raise Conflict("该商品已评价 This line was reviewed already", code="already_reviewed",
                           details={"order_line_id": line.pk}) from exc
        points, _first = points_for_action(member_id=member.pk, action=Action.REVIEW, key=str(line.pk), now=now)
        if points:
            Review.objects.filter(pk=review.pk).update(points_earned=points)
            review.points_earned = points
    return review


def review_hide(*, review_id: int, reason: str, now: datetime | None = None) -> Review:
    """Hide a review (moderation); hiding a hidden review again changes nothing. Points stay."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("请填写隐藏原因 A reason is required", code="reason_required", details={"field": "reason"})
    now = now or timezone.now()
    with transaction.atomic():
        Review.objects.filter(pk=review_id, hidden=False).update(hidden=True, hidden_reason=reason[:REASON_MAX],
                                                                 hidden_at=now)
        review = Review.objects.filter(pk=review_id).first()
        if review is None:
            raise NotFound("评价不存在 Unknown review", code="unknown_review", details={"review_id": review_id})
    return review
