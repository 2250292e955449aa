"""Admin for the store network: the region tree and the locations (CSV/Excel: ``o2o.stores.resources``)."""

from __future__ import annotations

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, TableIO
from o2o.stores.models import Location, Region
from o2o.stores.resources import LocationResource


@admin.register(Region)
class RegionAdmin(ChineseLabels, ModelAdmin):
    ordering = ("code",)
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Location)
class LocationAdmin(ChineseLabels, TableIO, ModelAdmin, ImportExportModelAdmin):
    resource_classes = [LocationResource]
    import_help = ("按 code 匹配。lat_gcj02 / lng_gcj02 为 GCJ-02 坐标（高德、腾讯、微信），原样保存：GPS（WGS-84）或"
                   "百度（BD-09）坐标请先转换。kind 为 store / warehouse / dark_store；region_code 为区域编码；"
                   "opening_hours 为 JSON，可留空。")
    ordering = ("code",)
    list_display = ("code", "name", "kind", "region", "can_pickup", "can_same_city", "can_express",
                    "delivery_radius_m", "pick_capacity_per_hour", "active")
    list_filter = ("kind", "active", "can_pickup", "can_same_city", "can_express", "region")
    search_fields = ("code", "name", "address")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)
    readonly_fields = ("created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "region", "address", "active")}),
        ("位置（GCJ-02 坐标）", {"fields": ("lat", "lng")}),
        ("服务能力", {"fields": ("can_pickup", "can_same_city", "can_express", "delivery_radius_m",
                                "pick_capacity_per_hour", "opening_hours")}),
        ("记录", {"fields": ("created_at", "updated_at")}),
    )
