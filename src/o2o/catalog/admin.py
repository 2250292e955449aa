"""Admin for the catalog: categories, brands, products with their SKUs, SKUs and price overrides.

Price overrides are edited here (admin-only for now); the API reads them through
``o2o.core.pricing.resolve_price``. Products, SKUs and price overrides import and export as
CSV (and Excel when openpyxl is installed): ``o2o.catalog.resources``.
"""

from __future__ import annotations

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from unfold.admin import ModelAdmin, TabularInline

from o2o.catalog.models import Brand, Category, PriceOverride, Product, Sku
from o2o.catalog.resources import PriceOverrideResource, ProductResource, SkuResource
from o2o.common.admin import ChineseInlineLabels, ChineseLabels, TableIO


@admin.register(Category)
class CategoryAdmin(ChineseLabels, ModelAdmin):
    ordering = ("code",)
    list_display = ("code", "name", "parent")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)


@admin.register(Brand)
class BrandAdmin(ChineseLabels, ModelAdmin):
    ordering = ("name",)
    list_display = ("name",)
    search_fields = ("name",)


class SkuInline(ChineseInlineLabels, TabularInline):
    model = Sku
    extra = 0
    fields = ("code", "barcode", "name", "spec", "weight_g", "list_price_fen", "active")
    show_change_link = True


@admin.register(Product)
class ProductAdmin(ChineseLabels, TableIO, ModelAdmin, ImportExportModelAdmin):
    resource_classes = [ProductResource]
    import_help = ("按 code 匹配：已有的更新，没有的新建。category_code 为品类编码；brand_name 为品牌名称，可留空；"
                   "active 填 是/否。先导入商品，再导入它们的 SKU。")
    ordering = ("code",)
    list_display = ("code", "name", "category", "brand", "unit", "active")
    list_filter = ("active",)
    search_fields = ("code", "name")
    autocomplete_fields = ("category", "brand")
    list_select_related = ("category", "brand")
    inlines = (SkuInline,)


class PriceOverrideInline(ChineseInlineLabels, TabularInline):
    model = PriceOverride
    extra = 0
    fields = ("location", "channel", "price_fen", "starts_at", "ends_at")
    autocomplete_fields = ("location",)


@admin.register(Sku)
class SkuAdmin(ChineseLabels, TableIO, ModelAdmin, ImportExportModelAdmin):
    resource_classes = [SkuResource]
    import_help = ("按 code 匹配。product_code 须是已有商品的编码；list_price_fen 是以分为单位的整数（1230 = ¥12.30），"
                   "带小数的金额会被拒绝；barcode 可留空；weight_g 单位为克。")
    ordering = ("code",)
    list_display = ("code", "name", "barcode", "spec", "weight_g", "list_price_fen", "active")
    list_filter = ("active",)
    search_fields = ("code", "barcode", "name")
    autocomplete_fields = ("product",)
    list_select_related = ("product",)
    inlines = (PriceOverrideInline,)


@admin.register(PriceOverride)
class PriceOverrideAdmin(ChineseLabels, TableIO, ModelAdmin, ImportExportModelAdmin):
    resource_classes = [PriceOverrideResource]
    import_help = ("id 留空为新增，填写则更新那一条。location_code 留空表示所有门店，channel 留空表示所有渠道（两者不能都空）；"
                   "price_fen 是以分为单位的整数；时间为北京时间 YYYY-MM-DD HH:MM:SS，可留空。")
    ordering = ("-pk",)
    list_display = ("sku", "location", "channel", "price_fen", "starts_at", "ends_at")
    list_filter = ("channel",)
    search_fields = ("sku__code", "sku__name", "location__code", "location__name")
    autocomplete_fields = ("sku", "location")
    list_select_related = ("sku", "location")
    date_hierarchy = "starts_at"
