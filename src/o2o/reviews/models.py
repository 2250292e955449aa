"""A member's review (评价) of a line they bought: one per order line (``UNIQUE (order_line)``).

The rating is 1..5 (CHECK); the text is at most :data:`TEXT_MAX` characters and may be empty.
``hidden`` is HQ moderation (a hidden review leaves the public list and the average);
``points_earned`` is what the review earned when written (0 once the day's cap was reached).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

TEXT_MAX = 500
REASON_MAX = 200


class Review(models.Model):
    member = models.ForeignKey("accounts.Member", on_delete=models.PROTECT, related_name="reviews")
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="+")
    order_line = models.ForeignKey("orders.OrderLine", on_delete=models.PROTECT, related_name="+")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    rating = models.PositiveSmallIntegerField(help_text="1..5 stars")
    text = models.CharField(max_length=TEXT_MAX, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    hidden = models.BooleanField(default=False, help_text="hidden by HQ moderation (or the member's deletion)")
    hidden_reason = models.CharField(max_length=REASON_MAX, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    points_earned = models.IntegerField(default=0, help_text="points the review earned (0: the day's cap reached)")

    class Meta:
        verbose_name = "商品评价 review"
        verbose_name_plural = "商品评价 reviews"
        constraints = [
            models.UniqueConstraint(fields=["order_line"], name="review_one_per_order_line"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            models.CheckConstraint(condition=Q(points_earned__gte=0), name="review_points_not_negative"),
        ]
        indexes = [
            # The public list and the average read only visible reviews of one SKU, newest first.
            models.Index(fields=["sku", "-created_at", "-id"], condition=Q(hidden=False), name="review_sku_shown"),
            models.Index(fields=["member", "-created_at"], name="review_member_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}:{self.rating}"
