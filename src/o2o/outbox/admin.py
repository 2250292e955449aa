from django.contrib import admin
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.outbox.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "topic", "aggregate", "aggregate_id", "created_at", "dispatched_at", "attempts")
    list_filter = ("topic",)
    search_fields = ("aggregate_id", "key")
