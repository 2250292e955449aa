"""Points campaigns (积分活动: 双倍积分 and the like): a multiplier on the points orders earn.

A campaign applies to an order placed inside its window (``starts_at <= order.created_at < ends_at``), on
one of its channels (none listed: every channel) and, when ``utm_campaign`` is set, only to orders that
carry that UTM campaign (the order records its UTM source/medium/campaign). Of several that apply, the
highest multiplier wins (campaigns do not stack). The multiplier is a whole percent (200 = 2x, 150 =
1.5x), turned into an exact fraction for the core's ``earn_for_order``: never a float.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from o2o.accounts.identity_rules import CHANNELS

MAX_MULTIPLIER_PERCENT = 1000  # 10x: beyond it a typo, not a campaign


class PointsCampaign(models.Model):
    code = models.SlugField(max_length=40, unique=True, help_text="stored on the lots it multiplied")
    name = models.CharField(max_length=100)
    multiplier_percent = models.PositiveIntegerField(help_text="200 = 双倍积分 2x; 150 = 1.5x")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    channels = models.JSONField(default=list, blank=True, help_text="e.g. [\"mini_program\", \"pos\"]; empty: all")
    utm_campaign = models.CharField(max_length=64, blank=True, help_text="only orders with this UTM campaign")
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "积分活动 points campaign"
        verbose_name_plural = "积分活动 points campaigns"
        constraints = [
            models.CheckConstraint(
                condition=Q(multiplier_percent__gte=1, multiplier_percent__lte=MAX_MULTIPLIER_PERCENT),
                name="points_campaign_multiplier_range"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="points_campaign_window"),
        ]
        indexes = [models.Index(fields=["active", "starts_at", "ends_at"], name="points_campaign_window_idx")]

    def __str__(self) -> str:
        return f"{self.name} ({self.multiplier_percent}%)"

    def applies_to(self, channel: str, utm_campaign: str) -> bool:
        if self.channels and channel not in self.channels:
            return False
        return not self.utm_campaign or self.utm_campaign == utm_campaign

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        bad = [c for c in (self.channels or []) if c not in CHANNELS]
        if not isinstance(self.channels, list) or bad:
            raise ValidationError({"channels": f"渠道无效 Unknown channels {bad}; allowed: {', '.join(CHANNELS)}"})
