"""Admin for the catalog: categories, brands, products with their SKUs, SKUs and price overrides.

Price overrides are edited here (admin-only for now); the API reads them through
``o2o.core.pricing.resolve_price``.
"""

from __future__ import annotations

from django.contrib import admin

from o2o.catalog.models import Brand, Category, PriceOverride, Product, Sku


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    ordering = ("code",)
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    ordering = ("name",)
    list_display = ("name",)
    search_fields = ("name",)


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "barcode", "name", "spec", "weight_g", "list_price_fen", "active")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    ordering = ("code",)
    list_display = ("code", "name", "category", "brand", "unit", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    autocomplete_fields = ("category", "brand")
    list_select_related = ("category", "brand")
    inlines = (SkuInline,)


class PriceOverrideInline(admin.TabularInline):
    model = PriceOverride
    extra = 0
    fields = ("location", "channel", "price_fen", "starts_at", "ends_at")
    autocomplete_fields = ("location",)


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    ordering = ("code",)
    list_display = ("code", "name", "barcode", "spec", "weight_g", "list_price_fen", "active")
    list_filter = ("active",)
    search_fields = ("code", "barcode", "name")
    autocomplete_fields = ("product",)
    list_select_related = ("product",)
    inlines = (PriceOverrideInline,)


@admin.register(PriceOverride)
class PriceOverrideAdmin(admin.ModelAdmin):
    ordering = ("-pk",)
    list_display = ("sku", "location", "channel", "price_fen", "starts_at", "ends_at")
    list_filter = ("channel",)
    search_fields = ("sku__code", "sku__name", "location__code", "location__name")
    autocomplete_fields = ("sku", "location")
    list_select_related = ("sku", "location")
    date_hierarchy = "starts_at"
