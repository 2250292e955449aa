"""Admin: routing decisions and shipments are records to look at; they change only through the services."""

from __future__ import annotations

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from o2o.common.admin import ChineseInlineLabels, ChineseLabels, ReadOnlyMixin
from o2o.fulfilment.models import RoutedShipment, RoutingDecision


class RoutedShipmentInline(ReadOnlyMixin, ChineseInlineLabels, TabularInline):
    model = RoutedShipment
    fk_name = "decision"
    extra = 0
    fields = ("location", "mode", "courier", "status", "reservation", "lines", "cost_fen", "eta_earliest",
              "eta_latest")
    readonly_fields = fields
    show_change_link = True


@admin.register(RoutingDecision)
class RoutingDecisionAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "order_ref", "trigger", "choice", "cash_fen", "policy", "parent", "created_at",
                    "actor_label")
    list_filter = ("trigger", "choice")
    search_fields = ("order_ref",)
    raw_id_fields = ("parent", "source_shipment", "pickup_location", "created_by")
    inlines = [RoutedShipmentInline]


@admin.register(RoutedShipment)
class RoutedShipmentAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "decision", "location", "mode", "courier", "status", "cost_fen", "eta_latest",
                    "created_at")
    list_filter = ("status", "mode")
    list_select_related = ("decision", "location")
    search_fields = ("decision__order_ref", "location__code", "location__name")
    raw_id_fields = ("decision", "location", "reservation")
