"""Admin: stock and the ledger are for looking at; changes go through the API and its services.

Stock exports as CSV/Excel (one row per location and SKU). Its import is a stock count: each row
becomes an adjustment through ``o2o.inventory.stock.stock_adjust`` with a reason, recorded in the
ledger -- the stock rows are never written directly (``o2o.inventory.resources``).
"""

from __future__ import annotations

from django.contrib import admin
from import_export.admin import ImportExportModelAdmin
from unfold.admin import ModelAdmin, TabularInline

from o2o.accounts.permissions import actor_for_user
from o2o.common.admin import ChineseInlineLabels, ChineseLabels, ReadOnlyMixin, TableIO
from o2o.core.access import Perm, role_perms
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
from o2o.inventory.resources import StockCountResource


@admin.register(Stock)
class StockAdmin(ReadOnlyMixin, ChineseLabels, TableIO, ModelAdmin, ImportExportModelAdmin):
    resource_classes = [StockCountResource]
    import_help = ("库存盘点：先导出库存，在 counted 列填实盘数量（reason 列可写原因）后导入。每行按“实盘 − 账面在库”"
                   "记一笔库存调整，写入库存流水，不直接改库存；counted 留空或与账面相同的行跳过，"
                   "同一文件再导入一次不会重复调整。需要该网点的库存调整权限。")
    skip_admin_log = True  # the ledger is the record of every count
    list_display = ("location", "sku", "bucket", "on_hand", "reserved", "available")
    list_select_related = ("location", "sku")
    list_filter = ("location__kind",)
    search_fields = ("sku__code", "sku__name", "location__code", "location__name")
    raw_id_fields = ("location", "sku")

    @admin.display(description="可用")
    def available(self, obj: Stock) -> int:
        return obj.available

    def has_import_permission(self, request) -> bool:  # noqa: ANN001
        """Whoever may adjust stock somewhere; each row is then checked at its own location."""
        user = request.user
        if not (user.is_active and user.is_staff and getattr(user, "role", "")):
            return False
        return Perm.STOCK_ADJUST in role_perms(actor_for_user(user).role)


@admin.register(Movement)
class MovementAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "occurred_at", "location", "sku", "kind", "qty", "delta_on_hand", "delta_reserved",
                    "reason", "actor_label")
    list_select_related = ("location", "sku")
    list_filter = ("kind", "location")
    search_fields = ("idempotency_key", "reference", "sku__code")
    date_hierarchy = "occurred_at"
    raw_id_fields = ("location", "sku", "actor", "reservation", "transfer")


class ReservationLineInline(ChineseInlineLabels, TabularInline):
    model = ReservationLine
    extra = 0
    can_delete = False
    readonly_fields = ("sku", "qty")

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "location", "status", "reference", "expires_at", "created_at", "closed_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    inlines = [ReservationLineInline]


class TransferLineInline(ChineseInlineLabels, TabularInline):
    model = TransferLine
    extra = 0
    can_delete = False
    readonly_fields = ("sku", "qty", "received_qty")

    def has_add_permission(self, request, obj=None) -> bool:  # noqa: ANN001
        return False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "source", "destination", "status", "reference", "shipped_at", "received_at")
    list_filter = ("status",)
    search_fields = ("reference",)
    inlines = [TransferLineInline]


@admin.register(PosDevice)
class PosDeviceAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("location", "device_id", "last_seq", "gaps", "last_seen_at")
    list_filter = ("location",)
    search_fields = ("device_id",)

    @admin.display(description="缺失序号数")
    def gaps(self, obj: PosDevice) -> int:
        return sum(hi - lo + 1 for lo, hi in (obj.missing_seqs or []))


@admin.register(CountMark)
class CountMarkAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("location", "sku", "counted_at")
    raw_id_fields = ("location", "sku")
