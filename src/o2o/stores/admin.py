"""Admin for the store network: the region tree and the locations."""

from __future__ import annotations

from django.contrib import admin

from o2o.stores.models import Location, Region


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    ordering = ("code",)
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
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
        ("位置 Position (GCJ-02)", {"fields": ("lat", "lng")}),
        ("服务能力 Capabilities", {"fields": ("can_pickup", "can_same_city", "can_express", "delivery_radius_m",
                                          "pick_capacity_per_hour", "opening_hours")}),
        ("记录 Record", {"fields": ("created_at", "updated_at")}),
    )
