"""Server-side carts: one per anonymous visitor (by token) or member; merged at sign-in."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone

from o2o.catalog.models import Channel


class CartStatus(models.TextChoices):
    OPEN = "open", "进行中 open"
    MERGED = "merged", "已合并 merged"
    ORDERED = "ordered", "已下单 ordered"


class Cart(models.Model):
    token_hash = models.CharField(max_length=64, unique=True,
                                  help_text="SHA-256 of the cart token the client keeps (X-Cart-Token)")
    member = models.ForeignKey("accounts.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="carts")
    status = models.CharField(max_length=16, choices=CartStatus.choices, default=CartStatus.OPEN)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.H5)
    location = models.ForeignKey("stores.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="the store whose prices apply (the customer's current store)")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "购物车 cart"
        verbose_name_plural = "购物车 carts"
        constraints = [
            models.UniqueConstraint(fields=["member"], condition=Q(status="open", member__isnull=False),
                                    name="cart_one_open_per_member"),
            models.CheckConstraint(condition=Q(status__in=["open", "merged", "ordered"]), name="cart_status_valid"),
        ]

    def __str__(self) -> str:
        return f"cart #{self.pk} ({self.status})"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey("catalog.Sku", on_delete=models.PROTECT, related_name="+")
    qty = models.PositiveIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "购物车行 cart line"
        constraints = [
            models.UniqueConstraint(fields=["cart", "sku"], name="cart_line_one_per_sku"),
            models.CheckConstraint(condition=Q(qty__gte=1, qty__lte=999), name="cart_line_qty_range"),
        ]
