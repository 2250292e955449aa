from django import forms
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.members.models import (
    LookupAttempt,
    PointsAccount,
    PointsCampaign,
    PointsEntry,
    PointsLot,
    TierHistory,
    TierRule,
    TierState,
)
from o2o.members.tiers import tier_policy


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "balance", "debt", "updated_at")
    search_fields = ("member__id",)


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("account", "no", "ref", "points", "remaining", "reversed", "campaign", "earned_at", "expires_at")
    search_fields = ("ref",)


@admin.register(PointsCampaign)
class PointsCampaignAdmin(ChineseLabels, ModelAdmin):
    """积分活动: HQ marketing sets a multiplier for a window (and channels / a UTM campaign)."""

    list_display = ("code", "name", "multiplier_percent", "starts_at", "ends_at", "channels", "utm_campaign", "active")
    list_filter = ("active",)
    search_fields = ("code", "name", "utm_campaign")


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("account", "kind", "points", "lot", "ref", "op", "at")
    list_filter = ("kind",)
    search_fields = ("ref", "op")


class TierRuleForm(forms.ModelForm):
    class Meta:
        model = TierRule
        fields = ("tier", "threshold", "discount_percent", "free_delivery", "free_installation", "dedicated_service")

    def clean(self) -> dict:
        """The whole policy must still hold with this rule (thresholds rise from normal = 0)."""
        data = super().clean()
        if self.errors:
            return data
        candidate = self.instance
        for name in self.Meta.fields:
            setattr(candidate, name, data.get(name))
        others = list(TierRule.objects.exclude(tier=candidate.tier).exclude(pk=candidate.pk))
        try:
            tier_policy([*others, candidate])
        except ImproperlyConfigured as exc:
            raise forms.ValidationError(str(exc)) from None
        return data


@admin.register(TierRule)
class TierRuleAdmin(ChineseLabels, ModelAdmin):
    form = TierRuleForm
    list_display = ("tier", "threshold", "discount_percent", "free_delivery", "free_installation",
                    "dedicated_service", "updated_at", "updated_by")

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        obj.updated_by = request.user
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(TierState)
class TierStateAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "tier", "since", "protected_until")
    list_filter = ("tier",)
    search_fields = ("member__id",)


@admin.register(TierHistory)
class TierHistoryAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "from_tier", "to_tier", "reason", "at")
    list_filter = ("reason", "to_tier")


@admin.register(LookupAttempt)
class LookupAttemptAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    """Staff look-ups of members (found or not; never the value looked up)."""

    list_display = ("at", "user", "way", "found")
    list_filter = ("way",)
