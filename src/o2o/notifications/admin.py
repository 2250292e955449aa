from django.contrib import admin
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.notifications.models import ChannelPreference, FrequencyCounter, Notification, PushDevice


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("id", "created_at", "member", "kind", "category", "channel", "status", "reason", "sent_at")
    list_filter = ("channel", "status", "category", "kind")
    search_fields = ("cause_key", "provider_message_id")
    raw_id_fields = ("member",)


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "channel", "subscribed", "updated_at")
    list_filter = ("channel", "subscribed")


@admin.register(PushDevice)
class PushDeviceAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "platform", "registration_id", "last_seen_at")
    list_filter = ("platform",)


@admin.register(FrequencyCounter)
class FrequencyCounterAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("member", "day", "sent")
    date_hierarchy = "day"
