"""A/B experiments and who saw which variant.

An experiment's variants are JSON ``[{"key": "control", "weight": 1, "config": {...}}, ...]`` (the first is the
control). What a variant changes is its ``config``, read by the thing under test: ``{"coupon_template_id": 7}``
(a coupon: members claim their variant's campaign), ``{"campaign": "near-sh027"}`` (a campaign), or
``{"text": "..."}`` / any keys a page element reads. Assignment is deterministic (``o2o.core.experiments``);
the first time a member is shown the experiment an ``Exposure`` is written (``UNIQUE (experiment, member)``),
and the report measures what exposed members did after that moment.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class ExperimentStatus(models.TextChoices):
    DRAFT = "draft", "草稿 draft"
    RUNNING = "running", "进行中 running"
    STOPPED = "stopped", "已停止 stopped"


class Experiment(models.Model):
    key = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=100)
    hypothesis = models.CharField(max_length=300, blank=True)
    target = models.CharField(max_length=16, choices=[("coupon", "优惠券 coupon"), ("campaign", "活动 campaign"),
                                                     ("page", "页面元素 page element")])
    status = models.CharField(max_length=8, choices=ExperimentStatus.choices, default=ExperimentStatus.DRAFT)
    variants = models.JSONField(help_text='[{"key": "control", "weight": 1, "config": {}}, ...]; the first is control')
    window_days = models.PositiveSmallIntegerField(default=14, help_text="what counts: the N days after exposure")
    min_per_variant = models.PositiveIntegerField(default=100, help_text="below this: not enough data")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "A/B 实验 experiment"
        verbose_name_plural = "A/B 实验 experiments"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ExperimentStatus.values), name="experiment_status_valid"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="experiment_window_positive"),
            models.CheckConstraint(condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                                   name="experiment_period"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"


class Exposure(models.Model):
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    member = models.ForeignKey("accounts.Member", on_delete=models.CASCADE, related_name="+")
    variant = models.CharField(max_length=40)
    channel = models.CharField(max_length=16, blank=True)
    at = models.DateTimeField()

    class Meta:
        verbose_name = "实验曝光 exposure"
        verbose_name_plural = "实验曝光 exposures"
        constraints = [models.UniqueConstraint(fields=["experiment", "member"], name="exposure_once_per_member")]
        indexes = [models.Index(fields=["experiment", "variant"], name="exposure_variant")]
