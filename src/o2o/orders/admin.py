"""Order center in the admin: read-only (orders change only through the services and their history)."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from o2o.common.admin import ChineseInlineLabels, ChineseLabels, ReadOnlyMixin
from o2o.orders.models import (
    CourierTask,
    DeliveryAlert,
    Order,
    OrderEvent,
    OrderLine,
    Payment,
    PaymentNotice,
    PickupVerification,
    Refund,
    Return,
    ReturnLine,
    Shipment,
    ShipmentLine,
)


class LineInline(ReadOnlyMixin, ChineseInlineLabels, TabularInline):
    model = OrderLine
    extra = 0
    fields = ("sku", "name", "qty", "unit_price_fen", "discount_fen", "payable_fen", "returned_qty", "refunded_fen")


class ShipmentInline(ReadOnlyMixin, ChineseInlineLabels, TabularInline):
    model = Shipment
    extra = 0
    fields = ("location", "mode", "status", "courier", "tracking_no", "eta_latest", "pickup_deadline")


class EventInline(ReadOnlyMixin, ChineseInlineLabels, TabularInline):
    model = OrderEvent
    extra = 0
    fields = ("at", "kind", "shipment", "from_status", "to_status", "reason", "actor_label")


@admin.register(Order)
class OrderAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("number", "status", "channel", "choice", "member", "store", "total_fen", "created_at")
    list_filter = ("status", "channel", "choice")
    search_fields = ("number", "external_ref")
    date_hierarchy = "created_at"
    inlines = [LineInline, ShipmentInline, EventInline]


class PickLineInline(ReadOnlyMixin, ChineseInlineLabels, TabularInline):
    model = ShipmentLine
    extra = 0
    fields = ("sku", "qty", "picked_qty", "picked_at", "picked_by")


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "order", "location", "mode", "status", "eta_latest", "pickup_deadline")
    list_filter = ("mode", "status")
    search_fields = ("order__number",)
    inlines = [PickLineInline]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("out_trade_no", "order", "provider", "amount_fen", "status", "refunded_fen", "paid_at")
    list_filter = ("provider", "status")
    search_fields = ("out_trade_no", "transaction_id", "order__number")


@admin.register(PaymentNotice)
class PaymentNoticeAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("received_at", "provider", "out_trade_no", "outcome", "detail")
    list_filter = ("provider", "outcome")


@admin.register(Refund)
class RefundAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("out_refund_no", "order", "amount_fen", "status", "reason", "created_at")
    list_filter = ("status",)


class ReturnLineInline(ReadOnlyMixin, ChineseInlineLabels, TabularInline):
    model = ReturnLine
    extra = 0


@admin.register(Return)
class ReturnAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("number", "order", "method", "location", "status", "refund_fen", "created_at")
    list_filter = ("method", "status")
    inlines = [ReturnLineInline]


@admin.register(CourierTask)
class CourierTaskAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("shipment_ref", "provider", "status", "fee_fen", "rider_name", "updated_at")
    list_filter = ("provider", "status")


@admin.register(DeliveryAlert)
class DeliveryAlertAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("created_at", "location", "kind", "message", "resolved_at")
    list_filter = ("kind",)


@admin.register(PickupVerification)
class PickupVerificationAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("at", "location", "shipment", "code_tail", "method", "result", "user")
    list_filter = ("result", "method")
