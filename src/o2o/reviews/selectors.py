"""Reading reviews: the public list of a SKU (visible only, newest first, masked reviewer), its summary
(count and average of the visible ones), a member's own reviews, and the reviews of an order's lines."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Avg, Count
from django.utils import timezone

from o2o.members.privacy import ANONYMISED
from o2o.reviews.models import Review

__all__ = ["by_line", "masked_name", "mine", "public_page", "review_dict", "summary"]

_DIGITS = re.compile(r"\d{5,}")
ANONYMOUS = "匿名会员"


def masked_name(display_name: str) -> str:
    """"张**" from a name (its first character only), else "匿名会员": never a phone, not even its last digits
    (tied to a product and a date they would narrow a person down). A name that looks like a number (5+
    digits) is not shown at all."""
    name = (display_name or "").strip()
    if name and not _DIGITS.search(name) and name != ANONYMISED:
        return name[0] + "**"
    return ANONYMOUS


def review_dict(r: Review, *, public: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": r.pk, "sku_id": r.sku_id, "rating": r.rating, "text": r.text,
                           "created_at": timezone.localtime(r.created_at)}
    if public:
        out["reviewer"] = masked_name(r.member.display_name)
    else:
        out.update(order_id=r.order_id, order_line_id=r.order_line_id, hidden=r.hidden,
                   points_earned=r.points_earned)
    return out


def _visible(sku_id: int):  # noqa: ANN202 - a queryset
    return Review.objects.filter(sku_id=sku_id, hidden=False)


def summary(sku_id: int) -> dict[str, Any]:
    """One aggregate query: how many visible reviews and their average rating (None when none)."""
    agg = _visible(sku_id).aggregate(n=Count("id"), avg=Avg("rating"))
    return {"count": agg["n"], "average_rating": round(float(agg["avg"]), 2) if agg["avg"] is not None else None}


def newest(sku_id: int, *, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """One query: the visible reviews, newest first, with the reviewer's masked name."""
    rows = (_visible(sku_id).select_related("member").only(
        "pk", "sku_id", "rating", "text", "created_at", "member__display_name")
        .order_by("-created_at", "-pk")[offset:offset + limit])
    return [review_dict(r, public=True) for r in rows]


def public_page(sku_id: int, *, limit: int, offset: int) -> dict[str, Any]:
    return {**summary(sku_id), "sku_id": sku_id, "limit": limit, "offset": offset,
            "items": newest(sku_id, limit=limit, offset=offset)}


def mine(member_id: int, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    rows = Review.objects.filter(member_id=member_id).order_by("-created_at", "-pk")[offset:offset + limit]
    return [review_dict(r, public=False) for r in rows]


def by_line(member_id: int, line_ids: list[int]) -> dict[int, Review]:
    """The member's reviews of these order lines, by line id (one query)."""
    return {r.order_line_id: r for r in Review.objects.filter(member_id=member_id, order_line_id__in=line_ids)}
