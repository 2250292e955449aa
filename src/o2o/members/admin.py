from django.contrib import admin
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.members.models import PointsAccount, PointsEntry, PointsLot


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "balance", "debt", "updated_at")
    search_fields = ("member__id",)


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("account", "no", "ref", "points", "remaining", "reversed", "earned_at", "expires_at")
    search_fields = ("ref",)


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("account", "kind", "points", "lot", "ref", "op", "at")
    list_filter = ("kind",)
    search_fields = ("ref", "op")
