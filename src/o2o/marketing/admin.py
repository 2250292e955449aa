"""HQ admin for marketing: promotions and coupon campaigns are edited here (the model CHECKs refuse an
offer that makes no sense); issued coupons and their history are read-only (they change only through
claims, 核销 and returns, which keep the budget and the log right)."""

from django.contrib import admin
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.marketing.models import Coupon, CouponEvent, CouponTemplate, MemberReach, Promotion

OFFER_FIELDS = ("kind", "amount_fen", "threshold_fen", "repeat", "percent", "cap_fen", "max_units", "buy_qty",
                "get_qty", "gift_sku", "gift_qty", "service")
SCOPE_FIELDS = ("channels", "tiers", "stores", "categories", "skus", "exclude_skus")


@admin.register(Promotion)
class PromotionAdmin(ChineseLabels, ModelAdmin):
    list_display = ("name", "kind", "priority", "exclusive", "starts_at", "ends_at", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "name_en")
    filter_horizontal = ("stores", "categories", "skus", "exclude_skus")
    autocomplete_fields = ("gift_sku",)
    fieldsets = (
        (None, {"fields": ("name", "name_en", "active", "starts_at", "ends_at", "priority", "exclusive")}),
        ("优惠 Offer", {"fields": OFFER_FIELDS}),
        ("适用范围 Scope", {"fields": SCOPE_FIELDS}),
    )


@admin.register(CouponTemplate)
class CouponTemplateAdmin(ChineseLabels, ModelAdmin):
    list_display = ("code", "name", "kind", "status", "issued", "budget", "member_limit", "claimable")
    list_filter = ("status", "kind", "claimable", "staff_issuable")
    search_fields = ("code", "name", "name_en")
    readonly_fields = ("issued", "created_by", "created_at")
    filter_horizontal = ("stores", "categories", "skus", "exclude_skus")
    autocomplete_fields = ("gift_sku",)
    fieldsets = (
        (None, {"fields": ("code", "name", "name_en", "status")}),
        ("发放 Issuing", {"fields": ("claimable", "staff_issuable", "auto_on", "claim_starts_at", "claim_ends_at",
                                     "budget", "issued", "member_limit", "points_price")}),
        ("有效期 Validity", {"fields": ("valid_from", "valid_until", "valid_days")}),
        ("使用 Use", {"fields": ("redeem_online", "redeem_offline")}),
        ("优惠 Offer", {"fields": OFFER_FIELDS}),
        ("适用范围 Scope", {"fields": SCOPE_FIELDS}),
        ("记录 Record", {"fields": ("created_by", "created_at")}),
    )

    def save_model(self, request, obj, form, change):  # noqa: ANN001, ANN201
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Coupon)
class CouponAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("template", "member", "status", "source", "issued_at", "valid_until", "used_at", "used_channel",
                    "used_store")
    list_filter = ("status", "source", "used_channel")
    search_fields = ("template__code", "member__id")


@admin.register(CouponEvent)
class CouponEventAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("coupon", "kind", "at", "user", "store", "order", "note")
    list_filter = ("kind",)


@admin.register(MemberReach)
class MemberReachAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "home_at", "recent_at")
