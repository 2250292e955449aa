"""Reviews' part of a member's export and deletion (PIPL), through ``o2o.members.privacy``'s signals.

Export: every review the member wrote (hidden ones too, with why). Deletion: the text goes and the
review is hidden (``hidden_reason`` says so); the rating, the line and the points earned stay (the
points are in the kept ledger, and a star count says nothing about the person).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from o2o.accounts.models import Member
from o2o.members.privacy import member_erasing, member_exporting
from o2o.reviews.models import Review

ERASED_REASON = "会员注销 member deleted"


@receiver(member_exporting, sender=Member, dispatch_uid="reviews.privacy.export")
def export_reviews(sender: type, member: Member, **_: Any) -> tuple[str, list[dict[str, Any]]]:
    rows = Review.objects.filter(member=member).select_related("order").order_by("created_at", "pk")
    return "reviews", [{"id": r.pk, "order": r.order.number, "order_line_id": r.order_line_id, "sku_id": r.sku_id,
                        "rating": r.rating, "text": r.text, "created_at": timezone.localtime(r.created_at).isoformat(),
                        "hidden": r.hidden, "hidden_reason": r.hidden_reason, "points_earned": r.points_earned}
                       for r in rows]


@receiver(member_erasing, sender=Member, dispatch_uid="reviews.privacy.erase")
def erase_reviews(sender: type, member: Member, now: datetime | None = None, **_: Any) -> tuple[str, int]:
    now = now or timezone.now()
    erased = Review.objects.filter(member=member).update(text="", hidden=True, hidden_reason=ERASED_REASON,
                                                         hidden_at=now)
    return "reviews", erased
