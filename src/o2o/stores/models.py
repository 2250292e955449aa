"""The store network: regions (HQ > region > ...) and locations (stores, warehouses, dark stores).

Coordinates are stored in GCJ-02, what AMap, Tencent Maps and WeChat use.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from o2o.stores.hours import validate_opening_hours


class Region(models.Model):
    """A node of the region tree. The root (``parent=None``) is HQ."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        verbose_name = "区域 region"
        verbose_name_plural = "区域 regions"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "区域不能成为自己的下级 A region cannot be under itself"})
            seen.add(node.pk)
            node = node.parent


class LocationKind(models.TextChoices):
    STORE = "store", "门店 store"
    WAREHOUSE = "warehouse", "中心仓 warehouse"
    DARK_STORE = "dark_store", "前置仓 dark store"


class Location(models.Model):
    """A physical node that holds stock: a store, a central warehouse or a dark store."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=LocationKind.choices, default=LocationKind.STORE)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="locations")
    address = models.CharField(max_length=200, blank=True)
    lat = models.FloatField(help_text="GCJ-02 latitude")
    lng = models.FloatField(help_text="GCJ-02 longitude")
    # {"mon": [["08:00", "22:00"]], ...}; an empty list means closed that day.
    opening_hours = models.JSONField(default=dict, blank=True, validators=[validate_opening_hours])
    can_pickup = models.BooleanField(default=True)
    can_same_city = models.BooleanField(default=True)
    can_express = models.BooleanField(default=False)
    delivery_radius_m = models.PositiveIntegerField(default=3000)
    pick_capacity_per_hour = models.PositiveIntegerField(default=30)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "网点 location"
        verbose_name_plural = "网点 locations"
        constraints = [
            models.CheckConstraint(
                condition=Q(lat__gte=3.8, lat__lte=53.6, lng__gte=73.4, lng__lte=135.1),
                name="location_coords_in_china",
            ),
            models.CheckConstraint(condition=Q(delivery_radius_m__gt=0), name="location_radius_positive"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in LocationKind]), name="location_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
