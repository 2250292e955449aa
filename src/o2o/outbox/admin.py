from django.contrib import admin

from o2o.common.admin import ReadOnlyMixin
from o2o.outbox.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "topic", "aggregate", "aggregate_id", "created_at", "dispatched_at", "attempts")
    list_filter = ("topic",)
    search_fields = ("aggregate_id", "key")
