"""HQ admin for reviews: read-mostly (reviews change through the member and moderation only), with a
"hide" action (隐藏) that goes through ``services.review_hide`` (the points stay)."""

from django.contrib import admin, messages
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.reviews.models import Review
from o2o.reviews.services import review_hide


@admin.register(Review)
class ReviewAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    labels = {"rating": "评分", "text": "内容", "hidden": "已隐藏", "hidden_reason": "隐藏原因",
              "points_earned": "获得积分", "order_line": "订单行"}
    list_display = ("sku", "member", "rating", "text", "created_at", "hidden", "points_earned")
    list_filter = ("hidden", "rating")
    search_fields = ("sku__code", "member__id", "order__number")
    list_select_related = ("sku", "member")
    actions = ("hide_reviews",)

    @admin.action(description="隐藏所选评价 Hide the selected reviews")
    def hide_reviews(self, request, queryset) -> None:  # noqa: ANN001
        n = 0
        for pk in queryset.filter(hidden=False).values_list("pk", flat=True):
            review_hide(review_id=pk, reason="后台审核隐藏 hidden in the admin")
            n += 1
        self.message_user(request, f"已隐藏 {n} 条评价 {n} review(s) hidden", messages.SUCCESS)
