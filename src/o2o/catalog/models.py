"""Catalog: what is sold. Products (SPU), their variants (SKU), categories, brands and prices.

Money is integer fen. A SKU's price at a store and channel is resolved by
``o2o.core.pricing.resolve_price`` from the list price and the overrides below.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Channel(models.TextChoices):
    MINI_PROGRAM = "mini_program", "微信小程序"
    APP = "app", "App"
    H5 = "h5", "H5"
    PC = "pc", "PC"
    DOUYIN = "douyin", "抖音"
    POS = "pos", "门店POS"


class Category(models.Model):
    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = "品类 category"
        verbose_name_plural = "品类 categories"

    def __str__(self) -> str:
        return self.name


class Brand(models.Model):
    name = models.CharField(max_length=100, unique=True)

    class Meta:
        verbose_name = "品牌 brand"
        verbose_name_plural = "品牌 brands"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """An SPU: what a shopper thinks of as one product."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    unit = models.CharField(max_length=16, default="件")
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "商品 product (SPU)"
        verbose_name_plural = "商品 products (SPU)"

    def __str__(self) -> str:
        return self.name


class Sku(models.Model):
    """A sellable variant: the unit stock is counted and priced in."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="skus")
    code = models.CharField(max_length=32, unique=True)
    barcode = models.CharField(max_length=32, unique=True, null=True, blank=True)
    name = models.CharField(max_length=200)
    spec = models.CharField(max_length=100, blank=True, help_text="e.g. package size")
    weight_g = models.PositiveIntegerField(default=0)
    list_price_fen = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name = "SKU"
        verbose_name_plural = "SKUs"
        constraints = [models.CheckConstraint(condition=Q(list_price_fen__gt=0), name="sku_list_price_positive")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PriceOverride(models.Model):
    """A price for one SKU at one store, on one channel, or both, optionally time-bounded.

    ``location`` empty means every store; ``channel`` empty means every channel.
    """

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="price_overrides")
    location = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="price_overrides")
    channel = models.CharField(max_length=16, choices=Channel.choices, blank=True, default="")
    price_fen = models.PositiveIntegerField()
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "价格覆盖 price override"
        verbose_name_plural = "价格覆盖 price overrides"
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gt=0), name="price_override_positive"),
            models.CheckConstraint(condition=~Q(location__isnull=True, channel=""), name="price_override_scoped"),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(starts_at__lt=models.F("ends_at")),
                name="price_override_window_ordered",
            ),
        ]
        indexes = [models.Index(fields=["sku", "location", "channel"])]
