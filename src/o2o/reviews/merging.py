"""Reviews' part of a OneID merge and its undo (``o2o.members.merge``'s signals, connected in ready()).

The merged member's reviews move to the survivor with the orders they review (a review stays with the
order line it is about); the ids moved are recorded so the undo moves exactly those back.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from o2o.accounts.models import Member
from o2o.members.merge import member_merge_undoing, member_merging
from o2o.reviews.models import Review


@receiver(member_merging, sender=Member, dispatch_uid="reviews.merge")
def merge_reviews(sender: type, survivor: Member, merged: Member, **_: Any) -> tuple[str, list[int]] | None:
    ids = list(Review.objects.filter(member=merged).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return None
    Review.objects.filter(pk__in=ids).update(member=survivor)
    return "reviews", ids


@receiver(member_merge_undoing, sender=Member, dispatch_uid="reviews.merge_undo")
def undo_reviews(sender: type, survivor: Member, merged: Member, moved: dict[str, Any], **_: Any) -> None:
    ids = moved.get("reviews") or []
    if ids:
        Review.objects.filter(pk__in=ids, member=survivor).update(member=merged)
    # A review stays with the order line it is about: one the survivor wrote after the merge on an order
    # that goes back goes back with it.
    orders = moved.get("orders") or []
    if orders:
        Review.objects.filter(order_id__in=orders, member=survivor).update(member=merged)
