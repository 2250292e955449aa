from django.contrib import admin
from unfold.admin import ModelAdmin

from o2o.profiles.models import BehaviourEvent, MemberTag, Segment


@admin.register(MemberTag)
class MemberTagAdmin(ModelAdmin):
    list_display = ("member", "name", "value", "version", "computed_at")
    list_filter = ("name",)
    search_fields = ("member__id",)
    readonly_fields = ("member", "name", "value", "version", "explanation", "visible", "as_of", "computed_at")


@admin.register(Segment)
class SegmentAdmin(ModelAdmin):
    list_display = ("name", "created_by", "created_at")
    readonly_fields = ("created_by", "created_at")


@admin.register(BehaviourEvent)
class BehaviourEventAdmin(ModelAdmin):
    list_display = ("member", "kind", "sku_id", "channel", "day", "at")
    list_filter = ("kind", "channel")
    search_fields = ("member__id",)
    readonly_fields = ("member", "kind", "sku", "channel", "day", "at")
