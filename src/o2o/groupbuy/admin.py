"""HQ admin for group buying: deals and community leaders are edited here (the model CHECKs refuse a deal
that makes no sense); groups, places and community orders are read-only records (they change only through
joins, the expiry sweep and the leaders' hand-overs); so are community delivery runs (placing, dispatch and the
couriers' callbacks write them)."""

from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.groupbuy.models import (
    CommunityLeader,
    CommunityOrder,
    CommunityRun,
    CommunityRunShipment,
    Group,
    GroupDeal,
    GroupMember,
)


@admin.register(GroupDeal)
class GroupDealAdmin(ChineseLabels, ModelAdmin):
    labels = {"deal_price_fen": "拼团价（分）", "group_size": "成团人数", "window_hours": "成团时限（小时）",
              "member_limit": "每人限购"}
    list_display = ("name", "sku", "deal_price_fen", "group_size", "window_hours", "starts_at", "ends_at", "store",
                    "active")
    list_filter = ("active",)
    search_fields = ("name", "name_en", "sku__code", "sku__name")
    autocomplete_fields = ("sku", "store")


class GroupMemberInline(ReadOnlyMixin, TabularInline):
    model = GroupMember
    fields = ("member", "order", "qty", "joined_at", "dropped_at")
    readonly_fields = fields
    extra = 0


@admin.register(Group)
class GroupAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    labels = {"joined": "已参团", "size": "成团人数", "opened_at": "开团时间", "full_at": "成团时间",
              "expired_at": "过期时间"}
    list_display = ("id", "deal", "joined", "size", "status", "opened_at", "expires_at", "full_at")
    list_filter = ("status",)
    search_fields = ("deal__name",)
    inlines = (GroupMemberInline,)


@admin.register(CommunityLeader)
class CommunityLeaderAdmin(ChineseLabels, ModelAdmin):
    labels = {"location": "服务门店"}
    list_display = ("name", "member", "address", "location", "active")
    list_filter = ("active",)
    search_fields = ("name", "address", "member__display_name")
    autocomplete_fields = ("member", "location")


@admin.register(CommunityOrder)
class CommunityOrderAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    labels = {"leader": "团长", "handed_over_at": "交付时间"}
    list_display = ("order", "leader", "member", "created_at", "handed_over_at")
    search_fields = ("order__number", "leader__name")


class RunShipmentInline(ReadOnlyMixin, TabularInline):
    model = CommunityRunShipment
    fields = ("shipment", "boarded_at")
    readonly_fields = fields
    extra = 0


@admin.register(CommunityRun)
class CommunityRunAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    labels = {"leader": "团长", "location": "发货门店", "slot_date": "配送日", "lead_shipment": "叫车发货单",
              "picked_up_at": "取货时间", "delivered_at": "送达时间"}
    list_display = ("id", "slot_date", "leader", "location", "lead_shipment", "picked_up_at", "delivered_at")
    list_filter = ("slot_date",)
    search_fields = ("leader__name",)
    inlines = (RunShipmentInline,)
