"""CSV/Excel columns of the catalog: products (SPU), SKUs and price overrides.

Money is integer fen in columns named ``*_fen``; times are Beijing time (Asia/Shanghai),
``YYYY-MM-DD HH:MM:SS``. Products are matched by ``code``, SKUs by ``code``, price overrides
by ``id`` (empty: a new override). Import products before the SKUs that name them.
"""

from __future__ import annotations

from import_export.fields import Field
from import_export.widgets import DateTimeWidget

from o2o.catalog.models import Brand, Category, PriceOverride, Product, Sku
from o2o.common.resources import (
    CodeWidget,
    FenWidget,
    NullableTextWidget,
    O2OResource,
    TextWidget,
    WholeWidget,
    YesNoWidget,
)
from o2o.stores.models import Location

_TIME = "%Y-%m-%d %H:%M:%S"


class ProductResource(O2OResource):
    code = Field(attribute="code", column_name="code", widget=TextWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    category = Field(attribute="category", column_name="category_code",
                     widget=CodeWidget(Category, what="品类编码"))
    brand = Field(attribute="brand", column_name="brand_name",
                  widget=CodeWidget(Brand, field="name", what="品牌", required=False))
    unit = Field(attribute="unit", column_name="unit", widget=TextWidget())
    description = Field(attribute="description", column_name="description", widget=TextWidget())
    active = Field(attribute="active", column_name="active", widget=YesNoWidget())

    class Meta:
        model = Product
        name = "商品 products (SPU)"
        import_id_fields = ("code",)
        fields = ("code", "name", "category", "brand", "unit", "description", "active")

    def get_queryset(self):  # noqa: ANN201
        return Product.objects.select_related("category", "brand").order_by("code")


class SkuResource(O2OResource):
    code = Field(attribute="code", column_name="code", widget=TextWidget())
    product = Field(attribute="product", column_name="product_code", widget=CodeWidget(Product, what="商品编码"))
    barcode = Field(attribute="barcode", column_name="barcode", widget=NullableTextWidget())
    name = Field(attribute="name", column_name="name", widget=TextWidget())
    spec = Field(attribute="spec", column_name="spec", widget=TextWidget())
    weight_g = Field(attribute="weight_g", column_name="weight_g", widget=WholeWidget())
    list_price_fen = Field(attribute="list_price_fen", column_name="list_price_fen", widget=FenWidget())
    active = Field(attribute="active", column_name="active", widget=YesNoWidget())

    class Meta:
        model = Sku
        name = "SKU（标价单位：分）"
        import_id_fields = ("code",)
        fields = ("code", "product", "barcode", "name", "spec", "weight_g", "list_price_fen", "active")

    def get_queryset(self):  # noqa: ANN201
        return Sku.objects.select_related("product").order_by("code")


class PriceOverrideResource(O2OResource):
    id = Field(attribute="id", column_name="id", widget=WholeWidget(minimum=1))
    sku = Field(attribute="sku", column_name="sku_code", widget=CodeWidget(Sku, what="SKU编码"))
    sku_name = Field(attribute="sku__name", column_name="sku_name", readonly=True)
    location = Field(attribute="location", column_name="location_code",
                     widget=CodeWidget(Location, what="网点编码", required=False))
    location_name = Field(attribute="location__name", column_name="location_name", readonly=True)
    channel = Field(attribute="channel", column_name="channel", widget=TextWidget())
    price_fen = Field(attribute="price_fen", column_name="price_fen", widget=FenWidget())
    starts_at = Field(attribute="starts_at", column_name="starts_at", widget=DateTimeWidget(format=_TIME))
    ends_at = Field(attribute="ends_at", column_name="ends_at", widget=DateTimeWidget(format=_TIME))

    constraint_messages = {
        "price_override_scoped": "location_code 和 channel 不能都留空：至少指定门店或渠道之一",
        "price_override_window_ordered": "开始时间必须早于结束时间",
        "price_override_positive": "金额必须大于 0",
    }

    class Meta:
        model = PriceOverride
        name = "价格覆盖 price overrides（单位：分）"
        import_id_fields = ("id",)
        fields = ("id", "sku", "sku_name", "location", "location_name", "channel", "price_fen", "starts_at",
                  "ends_at")

    def get_queryset(self):  # noqa: ANN201
        return PriceOverride.objects.select_related("sku", "location").order_by("pk")
