from django.contrib import admin
from unfold.admin import ModelAdmin

from o2o.common.admin import ChineseLabels, ReadOnlyMixin
from o2o.experiments.models import Experiment, Exposure


@admin.register(Experiment)
class ExperimentAdmin(ChineseLabels, ModelAdmin):
    list_display = ("key", "name", "target", "status", "starts_at", "ends_at", "window_days")
    list_filter = ("status", "target")
    search_fields = ("key", "name")


@admin.register(Exposure)
class ExposureAdmin(ReadOnlyMixin, ChineseLabels, ModelAdmin):
    list_display = ("experiment", "member", "variant", "channel", "at")
    list_filter = ("experiment", "variant")
