from django.contrib import admin

from o2o.common.admin import ReadOnlyMixin
from o2o.members.models import PointsAccount, PointsEntry, PointsLot


@admin.register(PointsAccount)
class PointsAccountAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("member", "balance", "debt", "updated_at")
    search_fields = ("member__id",)


@admin.register(PointsLot)
class PointsLotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("account", "no", "ref", "points", "remaining", "reversed", "earned_at", "expires_at")
    search_fields = ("ref",)


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("account", "kind", "points", "lot", "ref", "op", "at")
    list_filter = ("kind",)
    search_fields = ("ref", "op")
