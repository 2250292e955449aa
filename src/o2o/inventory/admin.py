"""Admin: stock and the ledger are for looking at; changes go through the API and its services."""

from __future__ import annotations

from django.contrib import admin

from o2o.common.admin import ReadOnlyMixin
from o2o.inventory.models import (
    CountMark,
    Movement,
    PosDevice,
    Reservation,
    ReservationLine,
    Stock,
    Transfer,
    TransferLine,
)


@admin.register(Stock)
class StockAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("location", "sku", "bucket", "on_hand", "reserved", "available")
    list_select_related = ("location", "sku")
    list_filter = ("location__kind",)
    search_fields = ("sku__code", "sku__name", "location__code", "location__name")
    raw_id_fields = ("location", "sku")

    @admin.display(description="可用 available")
    def available(self, obj: Stock) -> int:
        return obj.available


@admin.register(Movement)
class MovementAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "occurred_at", "location", "sku", "kind", "qty", "delta_on_hand", "delta_reserved",
                    "reason", "actor_label")
    list_select_related = ("location", "sku")
    list_filter = ("kind", "location")
    search_fields = ("idempotency_key", "reference", "sku__code")
    date_hierarchy = "occurred_at"
    raw_id_fields = ("location", "sku", "actor", "reservation", "transfer")


class ReservationLineInline(admin.TabularInline):
    model = ReservationLine
    extra = 0
    can_delete = False
    readonly_fields = ("sku", "qty")

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "location", "status", "reference", "expires_at", "created_at", "closed_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    inlines = [ReservationLineInline]


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 0
    can_delete = False
    readonly_fields = ("sku", "qty", "received_qty")

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "source", "destination", "status", "reference", "shipped_at", "received_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    inlines = [TransferLineInline]


@admin.register(PosDevice)
class PosDeviceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("location", "device_id", "last_seq", "gaps", "last_seen_at")
    list_filter = ("location",)
    search_fields = ("device_id",)

    @admin.display(description="缺失序号 missing seqs")
    def gaps(self, obj: PosDevice) -> int:
        return sum(hi - lo + 1 for lo, hi in (obj.missing_seqs or []))


@admin.register(CountMark)
class CountMarkAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("location", "sku", "counted_at")
    raw_id_fields = ("location", "sku")
